// Timelines read through GraphQL, many issues a query, with the real @octokit clients against the
// GitHub stand-in: the issue-events file equals, byte for byte, the one REST's per-issue timelines
// make (every event kind, both node-id encodings, a timeline longer than a page); GraphQL refused
// (no permission, a query an older server does not know) falls back to REST; an issue deleted
// between the listing and its timeline is skipped.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseJsonl } from "../../functions/core/metadata/jsonl.js";
import { kindPath } from "../../functions/core/metadata/paths.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { drain, startMetadataStandin, type MetadataStandin } from "../helpers/github-world.js";

const APP_ID = 616161;
const REPO = "acme/busy";
const ISSUES = 30;

let standin: MetadataStandin;
let github: GitHubStandin;

const events = (files: Map<string, Buffer>) => files.get(kindPath("issue-events"))!;
const timelineRequests = (from: number) =>
  github.requests.slice(from).filter((r) => /\/issues\/\d+\/timeline/.test(r.url));
const timelineQueries = (from: number) =>
  github.graphqlQueries.slice(from).filter((q) => q.query.startsWith("query Timelines"));

/** Reads with GraphQL refused for timelines (a fault on every Timelines query): REST's file. */
async function restRead(): Promise<Buffer> {
  github.injectGraphql({
    query: /^query Timelines/,
    times: 1000,
    status: 200,
    json: { errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }] },
  });
  const from = github.requests.length;
  const drained = await drain(standin.source().collect(REPO));
  github.clearFaults();
  // One list per issue, and issue 5's 250 events take two more pages.
  expect(timelineRequests(from)).toHaveLength(ISSUES + 2);
  return events(drained.files);
}

const user = (login: string) => ({ login, id: 1, type: "User" });

beforeAll(async () => {
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  fillMetadata(github.addRepo(REPO), { repo: REPO, issues: ISSUES, comments: 20 });
  const meta = github.metadata(REPO);
  // A timeline longer than two pages, ids odd and even (both node-id encodings).
  meta.timelines[5] = Array.from({ length: 250 }, (_, i) => ({
    id: 10_000 + i,
    actor: user(i % 3 ? "alice" : "bob"),
    event: i % 2 ? "unlabeled" : "labeled",
    label: { name: `l${i % 7}`, color: "fff" },
    created_at: at(20_000 + i),
  }));
  meta.timelines[6] = [
    { id: 601, actor: user("carol"), event: "unassigned", assignee: user("dave"), created_at: at(6001) },
    { id: 602, actor: null, event: "demilestoned", milestone: { title: "v2" }, created_at: at(6002) },
    { id: 603, actor: user("carol"), event: "locked", lock_reason: "too heated", created_at: at(6003) },
    { id: 604, actor: user("carol"), event: "unlocked", created_at: at(6004) },
    {
      id: 605,
      actor: user("carol"),
      event: "closed",
      commit_id: "c".repeat(40),
      state_reason: "not_planned",
      created_at: at(6005),
    },
    { id: 606, actor: user("carol"), event: "reopened", state_reason: "reopened", created_at: at(6006) },
    { id: 607, actor: user("carol"), event: "referenced", commit_id: "d".repeat(40), created_at: at(6007) },
    { id: 608, actor: user("carol"), event: "transferred", created_at: at(6008) },
    { id: 609, actor: user("erin"), event: "mentioned", created_at: at(6009) },
    { id: 610, actor: user("erin"), event: "subscribed", created_at: at(6010) },
    { id: 611, actor: user("carol"), event: "marked_as_duplicate", created_at: at(6011) },
    {
      event: "cross-referenced",
      actor: user("bob"),
      created_at: at(6012),
      source: {
        type: "issue",
        issue: { number: 9, title: "Issue 9", repository: { full_name: "acme/other" } },
      },
    },
    { event: "commented", id: 700_050, body: "not an event", actor: user("bob"), created_at: at(6013) },
  ];
  meta.timelines[2]!.push(
    {
      id: 24,
      actor: user("bob"),
      event: "review_requested",
      requested_team: { slug: "core" },
      created_at: at(4004),
    },
    {
      id: 25,
      actor: user("bob"),
      event: "review_request_removed",
      requested_reviewer: user("alice"),
      created_at: at(4005),
    },
    {
      id: 26,
      actor: user("bob"),
      event: "review_dismissed",
      dismissed_review: { review_id: 81, state: "approved", dismissal_message: "stale" },
      created_at: at(4006),
    },
    { id: 27, actor: user("bob"), event: "head_ref_force_pushed", created_at: at(4007) },
    { id: 28, actor: user("bob"), event: "ready_for_review", created_at: at(4008) },
    { id: 29, actor: user("bob"), event: "convert_to_draft", created_at: at(4009) },
  );
});

afterEach(() => github.clearFaults());

describe("reviews through GraphQL", () => {
  it("makes the same pull-reviews file as REST's per-pull review lists, paged past 100, in one query a batch", async () => {
    const meta = github.metadata(REPO);
    meta.reviews[4] = Array.from({ length: 150 }, (_, i) => ({
      id: 90_000 + i,
      user: i % 5 ? user("alice") : null,
      body: i % 2 ? `Review ${i}` : "",
      state: i % 3 ? "COMMENTED" : "APPROVED",
      commit_id: i % 7 ? "4".repeat(40) : null,
      submitted_at: at(60_000 + i),
      author_association: "MEMBER",
    }));
    const reviewRequests = (from: number) =>
      github.requests.slice(from).filter((r) => /\/pulls\/\d+\/reviews/.test(r.url));
    github.injectGraphql({
      query: /^query Reviews/,
      times: 1000,
      status: 200,
      json: { errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }] },
    });
    let from = github.requests.length;
    const rest = await drain(standin.source().collect(REPO));
    github.clearFaults();
    expect(reviewRequests(from)).toHaveLength(3 + 1); // one list per pull request, pull 4's two pages
    from = github.requests.length;
    const queries = github.graphqlQueries.length;
    const graphql = await drain(standin.source().collect(REPO));
    const file = (d: typeof rest) => d.files.get(kindPath("pull-reviews"))!.toString("utf8");
    expect(file(graphql)).toBe(file(rest));
    expect(reviewRequests(from)).toEqual([]);
    expect(
      github.graphqlQueries.slice(queries).filter((q) => q.query.startsWith("query Reviews")),
    ).toHaveLength(2);
    const lines = parseJsonl(file(graphql));
    expect(lines.filter((l) => l.pull_number === 4)).toHaveLength(150);
    expect(lines.find((l) => l.id === 90_000)).toEqual({
      pull_number: 4,
      id: 90_000,
      user: null,
      body: "",
      state: "APPROVED",
      commit_id: null,
      submitted_at: at(60_000),
      author_association: "MEMBER",
    });
  });
});

afterAll(async () => {
  await github?.close();
});

describe("timelines through GraphQL", () => {
  it("makes the same issue-events file as REST's per-issue timelines, in a few queries and no REST timeline", async () => {
    const rest = await restRead();
    const [requests, queries] = [github.requests.length, github.graphqlQueries.length];
    const drained = await drain(standin.source({ timelineBatch: 8 }).collect(REPO));
    expect(events(drained.files).toString("utf8")).toBe(rest.toString("utf8"));
    expect(timelineRequests(requests)).toEqual([]);
    // 30 issues, 8 a query: 4 queries; issue 5's 250 events take two more pages, read before the
    // next batch (a batch's lines are complete before they are written).
    const asked = timelineQueries(queries);
    expect(asked).toHaveLength(4 + 2);
    expect(asked.map((q) => (q.query.match(/issueOrPullRequest\(number:/g) ?? []).length)).toEqual([
      8, 1, 1, 8, 8, 6,
    ]);

    const lines = parseJsonl(events(drained.files).toString("utf8"));
    expect(lines.filter((l) => l.issue_number === 5)).toHaveLength(250);
    const of6 = lines.filter((l) => l.issue_number === 6);
    expect(of6.map((l) => l.event)).toEqual([
      "unassigned",
      "demilestoned",
      "locked",
      "unlocked",
      "closed",
      "reopened",
      "referenced",
      "transferred",
      "mentioned",
      "subscribed",
      "marked_as_duplicate",
      "cross-referenced",
    ]);
    expect(of6[1]).toEqual({
      issue_number: 6,
      key: "602",
      id: 602,
      event: "demilestoned",
      actor: null,
      created_at: at(6002),
      milestone: "v2",
    });
    expect(of6[2]).toMatchObject({ lock_reason: "too heated" });
    expect(of6[4]).toMatchObject({ commit_id: "c".repeat(40), state_reason: "not_planned" });
    expect(of6.at(-1)).toMatchObject({
      key: `cross-referenced:acme/other#9@${at(6012)}`,
      source: { type: "issue", repository: "acme/other", number: 9, is_pull_request: false },
    });
    expect(lines.find((l) => l.key === "26")).toMatchObject({
      event: "review_dismissed",
      dismissed_review: { review_id: 81, state: "approved", dismissal_message: "stale" },
    });
    expect(lines.find((l) => l.key === "24")).toMatchObject({ requested_team: "core" });
  });

  it("falls back to REST when the server refuses the query (an item type it does not know)", async () => {
    const rest = await restRead();
    github.injectGraphql({
      query: /^query Timelines/,
      times: 1,
      status: 200,
      json: {
        errors: [
          {
            message:
              "Argument 'itemTypes' on Field 'timelineItems' has an invalid value (SUB_ISSUE_ADDED_EVENT).",
            extensions: { code: "argumentLiteralsIncompatible" },
          },
        ],
      },
    });
    const from = github.requests.length;
    const drained = await drain(standin.source().collect(REPO));
    expect(events(drained.files).equals(rest)).toBe(true);
    expect(timelineRequests(from)).toHaveLength(ISSUES + 2);
    expect(drained.summary.kinds["issue-events"]).toEqual({
      state: "full",
      items: rest.toString().split("\n").length - 1,
    });
  });

  it("skips an issue deleted between the listing and its timeline, and keeps the others", async () => {
    const meta = github.metadata(REPO);
    const index = meta.issues.findIndex((i) => i.number === 6);
    const removed = meta.issues[index]!;
    const drained = await drain(standin.source().collect(REPO), (path) => {
      if (path === kindPath("issues")) meta.issues.splice(index, 1);
    });
    meta.issues.splice(index, 0, removed);
    const lines = parseJsonl(events(drained.files).toString("utf8"));
    expect(lines.some((l) => l.issue_number === 6)).toBe(false);
    expect(lines.filter((l) => l.issue_number === 5)).toHaveLength(250);
    expect(lines.filter((l) => l.issue_number === 1).map((l) => l.event)).toContain("cross-referenced");
  });

  it("fails on a GraphQL error that is not a refusal, and never falls back to REST then", async () => {
    github.injectGraphql({ query: /^query Timelines/, times: 1, status: 200, raw: "{not json" });
    const from = github.requests.length;
    await expect(drain(standin.source().collect(REPO))).rejects.toThrow(/issue-events/);
    expect(timelineRequests(from)).toEqual([]);
  });
});
