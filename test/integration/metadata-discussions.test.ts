// Discussions through GraphQL with the real @octokit/app, retry and throttling plugins against the
// GitHub stand-in, whose POST /graphql validates every query against GitHub's schema before
// answering: every discussion, comment and reply collected equals what the stand-in serves (by a
// canonical projection), paged by cursor; an unchanged repository costs one slim query; what the
// repository cannot provide is a kind "unavailable", never a failure.
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../../functions/adapters/github/metadata-graphql.js";
import { RepoApi, type OctokitLike } from "../../functions/adapters/github/metadata-http.js";
import { installationClients } from "../../functions/adapters/github/metadata-octokit.js";
import { MetadataFormatError, RateLimitedError } from "../../functions/core/metadata/errors.js";
import { parseJsonl } from "../../functions/core/metadata/jsonl.js";
import type { MetadataKind } from "../../functions/core/metadata/kinds.js";
import { kindPath } from "../../functions/core/metadata/paths.js";
import { discussionComment, fillDiscussions } from "../helpers/github-discussions-fixture.js";
import { at } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { drain, startMetadataStandin, type Drained, type MetadataStandin } from "../helpers/github-world.js";

const APP_ID = 626262;
const REPO = "acme/forum";

let standin: MetadataStandin;
let github: GitHubStandin;

function lines(drained: Drained, kind: MetadataKind): Record<string, unknown>[] {
  const bytes = drained.files.get(kindPath(kind));
  if (!bytes) throw new Error(`no file for ${kind}`);
  return parseJsonl(bytes.toString("utf8"));
}

type O = Record<string, unknown>;
const login = (a: unknown) => (a as { login?: string } | null)?.login ?? null;
// The canonical projection, read the same way from what the stand-in serves (GraphQL nodes) and
// from what the archive holds (lines).
const canon = {
  discussion: (x: O) => ({
    number: x.number,
    title: x.title,
    body: x.body,
    user: "user" in x ? x.user : login(x.author),
    category: (x.category as O).slug,
    closed: "state" in x ? x.state === "closed" : x.closed,
    locked: x.locked,
    answer: "answer_id" in x ? x.answer_id : ((x.answer as O | null)?.databaseId ?? null),
    labels: "user" in x ? x.labels : (x.labels as O[]).map((l) => l.name),
    created: "created_at" in x ? x.created_at : x.createdAt,
    updated: "updated_at" in x ? x.updated_at : x.updatedAt,
  }),
  comment: (x: O) => ({
    id: "databaseId" in x ? x.databaseId : x.id,
    replyTo: "reply_to" in x ? x.reply_to : ((x.replyTo as O | null)?.databaseId ?? null),
    user: "user" in x ? x.user : login(x.author),
    body: x.body,
    answer: "is_answer" in x ? x.is_answer : x.isAnswer,
    minimized: "is_minimized" in x ? x.is_minimized : x.isMinimized,
  }),
};

/** Every comment and reply the stand-in holds for `numbers`, in the file's order. */
function servedComments(numbers?: number[]) {
  return github
    .metadata(REPO)
    .discussions.filter((d) => !numbers || numbers.includes(Number(d.number)))
    .sort((a, b) => Number(a.number) - Number(b.number))
    .flatMap((d) =>
      (d.comments as O[])
        .flatMap((c) => [c, ...(c.replies as O[])])
        .sort((a, b) => Number(a.databaseId) - Number(b.databaseId))
        .map((c) => ({ discussion: d.number, ...canon.comment(c) })),
    );
}

let full: Drained;
let fullQueries: number;

beforeAll(async () => {
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  fillDiscussions(github.addRepo(REPO));
  github.addRepo("acme/quiet").settings.has_discussions = false;
  fillDiscussions(github.addRepo("acme/small"), { discussions: 3 });
  const before = github.graphqlQueries.length;
  full = await drain(standin.source().collect(REPO));
  fullQueries = github.graphqlQueries.length - before;
});

afterEach(() => github.clearFaults());

afterAll(async () => {
  await github?.close();
});

describe("discussions: a full collection", () => {
  it("keeps every discussion as GitHub serves it, oldest first, paged by cursor", () => {
    const served = github.metadata(REPO).discussions;
    expect(full.summary.kinds.discussions).toEqual({ state: "full", items: 130 });
    expect(lines(full, "discussions").map(canon.discussion)).toEqual(served.map(canon.discussion));
    const pages = github.graphqlQueries.filter((q) => /query Discussions\(/.test(q.query)).slice(0, 2);
    expect(pages.map((q) => q.variables.after === null)).toEqual([true, false]);
    expect(pages[0]!.variables.orderBy).toEqual({ field: "CREATED_AT", direction: "ASC" });
  });

  it("trims a discussion to names and counts: an answered, locked, closed question", () => {
    const question = lines(full, "discussions")[0]!;
    const answer = github.metadata(REPO).discussions[0]!.answer as O;
    expect(question).toEqual({
      number: 1,
      id: 5_000_001,
      title: "How do I restore?",
      body: "Body of discussion 1\nwith ünïcode ✓",
      user: "alice",
      author_association: "MEMBER",
      category: { name: "Q&A", slug: "q-a", is_answerable: true },
      state: "closed",
      state_reason: "RESOLVED",
      locked: true,
      active_lock_reason: "RESOLVED",
      answer_id: answer.databaseId,
      answer_chosen_at: at(350_000),
      answer_chosen_by: "alice",
      labels: [],
      upvote_count: 1,
      reactions: {
        total_count: 2,
        "+1": 1,
        "-1": 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 1,
        rocket: 0,
        eyes: 0,
      },
      comments: 130,
      created_at: at(250_010),
      updated_at: at(301_900),
      closed_at: at(400_000),
    });
    expect(lines(full, "discussions").find((d) => d.number === 2)).toMatchObject({ user: null });
  });

  it("keeps every comment and reply, past a page of each, with the thread they belong to", () => {
    const comments = lines(full, "discussion-comments");
    expect(full.summary.kinds["discussion-comments"]).toEqual({ state: "full", items: comments.length });
    expect(comments.map((c) => ({ discussion: c.discussion_number, ...canon.comment(c) }))).toEqual(
      servedComments(),
    );
    const ofFirst = comments.filter((c) => c.discussion_number === 1);
    expect(ofFirst.filter((c) => c.reply_to === null)).toHaveLength(130);
    expect(ofFirst.filter((c) => c.reply_to !== null)).toHaveLength(120);
    const served = github.metadata(REPO).discussions[0]!.comments as O[];
    expect(comments.find((c) => c.id === served[2]!.databaseId)).toMatchObject({ is_answer: true });
    expect(lines(full, "discussion-comments").find((c) => c.discussion_number === 2)).toMatchObject({
      is_minimized: true,
      minimized_reason: "spam",
    });
    // Pages beyond the first: comments by cursor, replies from their comment's node.
    const more = github.graphqlQueries.filter(
      (q) => /query DiscussionComments/.test(q.query) && q.variables.a0,
    );
    expect(more.length).toBeGreaterThan(0);
    expect(github.graphqlQueries.some((q) => /query DiscussionReplies/.test(q.query))).toBe(true);
  });

  it("asks few queries: several discussions' comments in one, no id or cursor in any file", () => {
    const withComments = github.metadata(REPO).discussions.filter((d) => (d.comments as O[]).length > 0);
    // probe + 2 pages + comment batches (about 100 comments each) + the overflow of discussion 1.
    expect(fullQueries).toBeLessThan(3 + withComments.length / 2);
    const text = [...full.files.values()].map((b) => b.toString("utf8")).join("");
    expect(text).not.toMatch(/DC_kwDO|D_kwDO|DIC_|cursor|avatarUrl/);
    expect(full.summary.checkpoint.kinds.discussions).toMatchObject({
      requests: [],
      mark: at(300_000 + 130 * 1000 + 900),
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe("discussions: incremental collections", () => {
  it("costs one slim query when nothing changed, in collect and in changedSince", async () => {
    const before = github.graphqlQueries.length;
    expect(await standin.source().changedSince(REPO, full.summary.checkpoint)).toBe(false);
    const quiet = await drain(standin.source().collect(REPO, { checkpoint: full.summary.checkpoint }));
    expect(quiet.summary.kinds.discussions).toEqual({ state: "unchanged" });
    expect(quiet.summary.kinds["discussion-comments"]).toEqual({ state: "unchanged" });
    expect(quiet.files.has(kindPath("discussions"))).toBe(false);
    const sent = github.graphqlQueries.slice(before).map((q) => /query (\w+)/.exec(q.query)![1]);
    expect(sent).toEqual(["DiscussionsProbe", "DiscussionsProbe"]);
    expect(quiet.summary.checkpoint.kinds.discussions).toEqual(full.summary.checkpoint.kinds.discussions);
  });

  it("reads only the discussions updated since the mark, each with its whole comment tree", async () => {
    const served = github.metadata(REPO).discussions;
    const seventh = served.find((d) => d.number === 7)!;
    const reply = discussionComment({
      databaseId: 4_000_001,
      body: "A late reply",
      at: 900_000,
      login: "erin",
    });
    (seventh.comments as O[]).push(reply);
    seventh.updatedAt = at(900_010);
    served.push({
      ...structuredClone(served[4]!),
      id: "D_kwDO131",
      number: 131,
      databaseId: 5_000_131,
      title: "A new one",
      comments: [],
      createdAt: at(900_020),
      updatedAt: at(900_020),
    });
    expect(await standin.source().changedSince(REPO, full.summary.checkpoint)).toBe(true);
    const delta = await drain(standin.source().collect(REPO, { checkpoint: full.summary.checkpoint }));
    // From the mark on, inclusive: the newest discussion of last time comes again.
    expect(lines(delta, "discussions").map((d) => d.number)).toEqual([7, 130, 131]);
    expect(delta.summary.kinds.discussions).toEqual({ state: "delta", items: 3 });
    expect(
      lines(delta, "discussion-comments").map((c) => ({
        discussion: c.discussion_number,
        ...canon.comment(c),
      })),
    ).toEqual(servedComments([7, 130, 131]));
    expect(delta.summary.kinds["discussion-comments"]).toMatchObject({ state: "delta" });
    expect(lines(delta, "discussion-comments").at(-1)).toMatchObject({ id: 4_000_001, user: "erin" });
    const after = await drain(standin.source().collect(REPO, { checkpoint: delta.summary.checkpoint }));
    expect(after.summary.kinds.discussions).toEqual({ state: "unchanged" });
  });
});

describe("discussions: what the repository cannot provide, and failures", () => {
  it("holds no discussion when they are off, without a GraphQL query and without reporting a gap", async () => {
    const before = github.graphqlQueries.length;
    const drained = await drain(standin.source().collect("acme/quiet"));
    expect(drained.summary.kinds.discussions).toEqual({ state: "full", items: 0 });
    expect(drained.summary.kinds["discussion-comments"]).toEqual({ state: "full", items: 0 });
    expect(lines(drained, "discussions")).toEqual([]);
    expect(lines(drained, "repository")[0]).toMatchObject({ has_discussions: false });
    expect(github.graphqlQueries.length).toBe(before);
    // The repository unchanged since: its discussions' state stands, still without a query.
    const again = await drain(
      standin.source().collect("acme/quiet", { checkpoint: drained.summary.checkpoint }),
    );
    expect(again.summary.kinds.discussions).toEqual({ state: "unchanged" });
    expect(github.graphqlQueries.length).toBe(before);
  });

  it("records discussions as unavailable (403) when GitHub answers FORBIDDEN, and collects the rest", async () => {
    github.injectGraphql({
      query: /DiscussionsProbe/,
      times: 1,
      status: 200,
      json: {
        data: { repository: { discussions: null } },
        errors: [
          {
            type: "FORBIDDEN",
            path: ["repository", "discussions"],
            message: "Resource not accessible by integration",
          },
        ],
      },
    });
    const drained = await drain(standin.source().collect("acme/small"));
    expect(drained.summary.kinds.discussions).toEqual({
      state: "unavailable",
      status: 403,
      reason: "the GitHub App lacks the permission to read it",
    });
    expect(drained.summary.kinds.repository).toEqual({ state: "full", items: 1 });
    expect(drained.summary.checkpoint.kinds.discussions).toBeUndefined();
  });

  it("waits out GraphQL's rate limit and retries a 502, through the plugins", async () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 1);
    github.injectGraphql({
      query: /query Discussions\(/,
      times: 1,
      status: 200,
      json: { errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded for installation ID 1." }] },
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
    });
    github.injectGraphql({
      query: /query DiscussionComments/,
      times: 2,
      status: 502,
      json: { message: "Bad gateway" },
    });
    const drained = await drain(standin.source().collect("acme/small"));
    expect(drained.summary.kinds.discussions).toEqual({ state: "full", items: 3 });
    expect(lines(drained, "discussion-comments").length).toBeGreaterThan(0);

    github.injectGraphql({
      query: /DiscussionsProbe/,
      times: 1,
      status: 200,
      json: { errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded for installation ID 1." }] },
      headers: {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600),
      },
    });
    const err = await drain(standin.source({ maxWaitSeconds: 60 }).collect("acme/small")).then(
      () => expect.unreachable(),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAt).toMatch(/^\d{4}-/);
    expect(inspect(err, { depth: 10 })).not.toMatch(/ghs_/);
  });

  it("fails whole on a GraphQL answer it cannot read, naming the kind and quoting nothing", async () => {
    github.injectGraphql({ query: /query Discussions\(/, times: 1, status: 200, raw: "<html>proxy</html>" });
    const err = await drain(standin.source().collect("acme/small")).then(
      () => expect.unreachable(),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(MetadataFormatError);
    expect(err.message).toMatch(/reading discussions of acme\/small/);
    expect(err.message).not.toContain("<html>");
  });
});

describe("the stand-in's GraphQL endpoint", () => {
  async function api(): Promise<RepoApi> {
    const app = standin.app();
    return new RepoApi((await installationClients(app)("acme/small")) as OctokitLike, "acme/small");
  }

  it("answers GitHub's errors for a query it refuses, which the collection reports with GitHub's reason", async () => {
    const repo = await api();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        `query { repository(owner: "acme", name: "small") { discussions(first: 1) { nodes { nope } } } }`,
        {},
        /Field 'nope' doesn't exist on type 'Discussion'/,
      ],
      [
        `query { repository(owner: "acme", name: "small") { discussions(first: 1) { nodes { number } }`,
        {},
        /Parse error/,
      ],
      [
        `query Q($n: Int!) { repository(owner: "acme", name: "small") { discussion(number: $n) { number } } }`,
        {},
        /\$n of type Int! was provided invalid value/,
      ],
      [
        `query { repository(owner: "acme", name: "small") { discussions { nodes { number } } } }`,
        {},
        /must provide a `first` or `last`/,
      ],
      [
        `query { repository(owner: "acme", name: "small") { discussions(first: 101) { nodes { number } } } }`,
        {},
        /exceeds the `first` limit of 100/,
      ],
      [
        `query { repository(owner: "acme", name: "small") { discussions(first: 1) { totalCount { x } } } }`,
        {},
        /Selections can't be made on scalars/,
      ],
    ];
    for (const [query, variables, message] of cases) {
      const err = await graphql(repo, query, variables, "reading discussions of acme/small").then(
        () => expect.unreachable(query),
        (e: unknown) => e as Error,
      );
      expect(err, query).toBeInstanceOf(MetadataFormatError);
      expect(err.message, query).toMatch(message);
    }
    const ok = await graphql(
      repo,
      `
        query {
          repository(owner: "acme", name: "small") {
            discussions(first: 2) {
              totalCount
              nodes {
                number
              }
            }
          }
        }
      `,
      {},
      "x",
    );
    expect(ok).toEqual({
      repository: { discussions: { totalCount: 3, nodes: [{ number: 3 }, { number: 2 }] } },
    });
  });

  it("sends GraphQL's rate-limit headers, and no repository of another installation", async () => {
    const app = standin.app();
    const octokit = (await installationClients(app)("acme/small")) as OctokitLike;
    const answer = await octokit.request({
      method: "POST",
      url: "/graphql",
      data: { query: `query { repository(owner: "other", name: "x") { nameWithOwner } }` },
    });
    expect(answer.headers["x-ratelimit-resource"]).toBe("graphql");
    expect(Number(answer.headers["x-ratelimit-remaining"])).toBeLessThan(5000);
    expect(answer.data).toMatchObject({ data: null, errors: [{ type: "NOT_FOUND" }] });
  });
});
