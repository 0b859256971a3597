// GitHubMetadataSource with the real @octokit/app, retry and throttling plugins against the GitHub
// stand-in: every kind collected equals what the stand-in serves (by a canonical projection), an
// unchanged repository costs only 304s, and each failure is either a kind "unavailable" or a typed
// error that fails the whole collection.
import { Readable } from "node:stream";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readArchive } from "../../functions/core/archive/reader.js";
import { manifestSchema } from "../../functions/core/archive/manifest.js";
import { writeArchive } from "../../functions/core/archive/writer.js";
import { DeadlineError, RepositoryNotFoundError, SourceError } from "../../functions/core/errors.js";
import type { MetadataCheckpoint } from "../../functions/core/metadata/checkpoint.js";
import {
  AssetMismatchError,
  MetadataFormatError,
  RateLimitedError,
} from "../../functions/core/metadata/errors.js";
import { parseJsonl } from "../../functions/core/metadata/jsonl.js";
import { METADATA_KINDS, type MetadataKind } from "../../functions/core/metadata/kinds.js";
import { assetPath, kindPath } from "../../functions/core/metadata/paths.js";
import type { MetadataCollection } from "../../functions/core/metadata/source.js";
import { fillDiscussions } from "../helpers/github-discussions-fixture.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { drain, startMetadataStandin, type Drained, type MetadataStandin } from "../helpers/github-world.js";
import type { RepoMetadata } from "../helpers/github-standin-metadata.js";

const APP_ID = 515151;

let standin: MetadataStandin;
let github: GitHubStandin;
let digests: Map<number, string>;

function lines(drained: Drained, kind: MetadataKind): Record<string, unknown>[] {
  const bytes = drained.files.get(kindPath(kind));
  if (!bytes) throw new Error(`no file for ${kind}`);
  return parseJsonl(bytes.toString("utf8"));
}

/** The error the collection fails with; checks the summary rejects with the same one. */
async function failure(collection: MetadataCollection): Promise<Error> {
  const err = await drain(collection).then(
    () => expect.unreachable("expected the collection to fail"),
    (e: unknown) => e as Error,
  );
  await expect(collection.summary).rejects.toBe(err);
  // Whatever failed, the error (with its causes) carries no token and no signed asset URL.
  expect(inspect(err, { depth: 10 })).not.toMatch(/ghs_|sig=/);
  return err;
}

/** Requests to the repository's routes since `from`. */
function repoRequests(repo: string, from: number) {
  return github.requests.slice(from).filter((r) => r.url.startsWith(`/repos/${repo}`));
}

// The canonical projection: the facts a restore or an audit needs, read the same way from what
// the stand-in serves (API objects) and from what the archive holds (trimmed lines).
const who = (u: unknown) =>
  typeof u === "string" || u === null ? u : ((u as { login?: string })?.login ?? null);
const names = (xs: unknown) =>
  ((xs as unknown[]) ?? []).map((x) =>
    typeof x === "string"
      ? x
      : ((x as { name?: string; slug?: string; login?: string }).name ??
        (x as { slug?: string }).slug ??
        (x as { login?: string }).login),
  );
const tail = (url: unknown) => Number(String(url).split("/").pop());
type O = Record<string, unknown>;
const canon = {
  issue: (x: O) => ({
    number: x.number,
    title: x.title,
    body: x.body,
    state: x.state,
    locked: x.locked,
    lock: x.active_lock_reason,
    user: who(x.user),
    labels: names(x.labels),
    assignees: ((x.assignees as unknown[]) ?? []).map(who),
    milestone:
      typeof x.milestone === "number" || x.milestone === null ? x.milestone : (x.milestone as O).number,
    pull: "is_pull_request" in x ? x.is_pull_request : x.pull_request !== undefined,
    reactions: x.reactions && { ...(x.reactions as O), url: undefined },
    created: x.created_at,
    updated: x.updated_at,
    closed: x.closed_at,
  }),
  comment: (x: O) => ({
    id: x.id,
    issue: x.issue_number ?? tail(x.issue_url),
    user: who(x.user),
    body: x.body,
    created: x.created_at,
    updated: x.updated_at,
  }),
  pull: (x: O) => ({
    number: x.number,
    state: x.state,
    draft: x.draft,
    merged: x.merged_at,
    mergeCommit: x.merge_commit_sha,
    head: [(x.head as O).ref, (x.head as O).sha],
    base: [(x.base as O).ref, (x.base as O).sha],
    reviewers: ((x.requested_reviewers as unknown[]) ?? []).map(who),
    teams: ((x.requested_teams as O[]) ?? []).map((t) => (typeof t === "string" ? t : t.slug)),
  }),
  review: (x: O) => ({
    id: x.id,
    user: who(x.user),
    state: x.state,
    body: x.body,
    commit: x.commit_id,
    at: x.submitted_at,
  }),
  reviewComment: (x: O) => ({
    id: x.id,
    pull: x.pull_number ?? tail(x.pull_request_url),
    review: x.pull_request_review_id,
    replyTo: x.in_reply_to_id,
    path: x.path,
    line: x.line,
    side: x.side,
    commit: x.commit_id,
    originalCommit: x.original_commit_id,
    hunk: x.diff_hunk,
    body: x.body,
  }),
  label: (x: O) => ({ name: x.name, color: x.color, description: x.description }),
  release: (x: O) => ({
    id: x.id,
    tag: x.tag_name,
    name: x.name,
    draft: x.draft,
    prerelease: x.prerelease,
    assets: (x.assets as O[]).map((a) => [a.id, a.name, a.size, a.digest ?? null]),
  }),
};

const REPO = "acme/app";
let full: Drained;

beforeAll(async () => {
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  digests = fillMetadata(github.addRepo(REPO), { repo: REPO });
  fillDiscussions(github.metadata(REPO), { discussions: 5 });
  fillMetadata(github.addRepo("acme/no-issues"), { repo: "acme/no-issues", issues: 5, comments: 0 });
  github.metadata("acme/no-issues").settings.has_issues = false;
  github.addRepo("acme/locked-out", { forbidden: true });
  const before = github.requests.length;
  full = await drain(standin.source().collect(REPO));
  expect(github.requests.length).toBeGreaterThan(before);
});

afterEach(() => github.clearFaults());

afterAll(async () => {
  await github?.close();
});

describe("GitHubMetadataSource: a full collection", () => {
  it("collects every kind, whole, with its item count", () => {
    const served = github.metadata(REPO);
    expect(Object.keys(full.summary.kinds)).toEqual([...METADATA_KINDS]);
    for (const kind of METADATA_KINDS) {
      expect(full.summary.kinds[kind], kind).toEqual({ state: "full", items: lines(full, kind).length });
    }
    const items = (kind: MetadataKind) => (full.summary.kinds[kind] as { items: number }).items;
    expect(items("issues")).toBe(served.issues.length);
    expect(items("issue-comments")).toBe(served.comments.length);
    expect(items("labels")).toBe(120);
    expect(items("pulls")).toBe(3);
    expect(items("pull-reviews")).toBe(3);
    expect(items("releases")).toBe(2);
    expect(items("discussions")).toBe(5);
    expect(items("attachments")).toBe(0); // this source is not told the stand-in's user-content hosts
  });

  it("keeps issues, comments, pull requests, reviews and review comments as GitHub serves them", () => {
    const served = github.metadata(REPO);
    const byNumber = (a: O, b: O) => Number(a.number) - Number(b.number);
    expect(lines(full, "issues").map(canon.issue)).toEqual(
      [...served.issues].sort(byNumber).map(canon.issue),
    );
    expect(lines(full, "issue-comments").map(canon.comment)).toEqual(
      [...served.comments].sort((a, b) => Number(a.id) - Number(b.id)).map(canon.comment),
    );
    expect(lines(full, "pulls").map(canon.pull)).toEqual(served.pulls.map(canon.pull));
    const reviews = [2, 3].flatMap((n) => served.reviews[n]!.map((r) => ({ pull: n, ...canon.review(r) })));
    expect(lines(full, "pull-reviews").map((r) => ({ pull: r.pull_number, ...canon.review(r) }))).toEqual(
      reviews,
    );
    expect(lines(full, "pull-review-comments").map(canon.reviewComment)).toEqual(
      served.reviewComments.map(canon.reviewComment),
    );
    const locked = lines(full, "issues").find((i) => i.number === 1)!;
    expect(locked).toMatchObject({
      locked: true,
      active_lock_reason: "resolved",
      state: "closed",
      milestone: 1,
    });
    const merged = lines(full, "pulls").find((p) => p.number === 2)!;
    expect(merged).toMatchObject({
      merged_at: at(49_000),
      merge_commit_sha: "b".repeat(40),
      state: "closed",
    });
    expect(lines(full, "pulls").find((p) => p.number === 3)).toMatchObject({
      state: "closed",
      merged_at: null,
    });
  });

  it("keeps the timeline events an audit needs, cross-references included, and leaves comments and commits out", () => {
    const events = lines(full, "issue-events");
    const of = (n: number) => events.filter((e) => e.issue_number === n).map((e) => e.event);
    expect(of(1)).toEqual([
      "labeled",
      "assigned",
      "renamed",
      "closed",
      "reopened",
      "closed",
      "locked",
      "cross-referenced",
      "milestoned",
    ]);
    expect(of(2)).toEqual(["review_requested", "merged", "closed", "head_ref_deleted"]);
    expect(of(3)).toEqual(["closed"]);
    const byEvent = (n: number, event: string) =>
      events.find((e) => e.issue_number === n && e.event === event)!;
    expect(byEvent(1, "labeled")).toMatchObject({ label: "bug", actor: "alice" });
    expect(byEvent(1, "assigned")).toMatchObject({ assignee: "carol" });
    expect(byEvent(1, "renamed")).toMatchObject({
      rename: { from: "Crash", to: "Crash on start (renamed)" },
    });
    expect(byEvent(1, "locked")).toMatchObject({ lock_reason: "resolved" });
    expect(byEvent(1, "cross-referenced")).toMatchObject({
      source: { type: "issue", repository: REPO, number: 3, is_pull_request: true },
      created_at: at(3008),
    });
    expect(byEvent(2, "review_requested")).toMatchObject({ requested_reviewer: "alice" });
  });

  it("keeps settings, protection, rulesets, labels, releases and access, trimmed, and never a secret", () => {
    const [repo] = lines(full, "repository");
    expect(repo).toMatchObject({
      full_name: REPO,
      description: "The app",
      topics: ["backup", "demo"],
      visibility: "private",
      default_branch: "main",
      has_issues: true,
      allow_merge_commit: false,
      delete_branch_on_merge: true,
      custom_properties: { team: "core" },
    });
    expect(repo).not.toHaveProperty("hooks_url");
    const protections = lines(full, "branch-protections");
    expect(protections.map((p) => p.branch)).toEqual(["main", "release/1.x"]);
    expect(protections[0]).toMatchObject({
      enforce_admins: true,
      required_linear_history: true,
      allow_force_pushes: false,
      required_status_checks: { strict: true, contexts: ["ci"] },
      required_pull_request_reviews: {
        required_approving_review_count: 2,
        dismissal_restrictions: { users: ["alice"], teams: ["core"], apps: [] },
      },
    });
    expect(lines(full, "rulesets")[0]).toMatchObject({
      id: 42,
      enforcement: "active",
      rules: [
        { type: "deletion" },
        { type: "pull_request", parameters: { required_approving_review_count: 1 } },
      ],
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
    });
    const served = github.metadata(REPO);
    expect(lines(full, "labels").map(canon.label)).toEqual(
      [...served.labels].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1)).map(canon.label),
    );
    expect(lines(full, "releases").map(canon.release)).toEqual(
      [...served.releases].sort((a, b) => Number(a.id) - Number(b.id)).map(canon.release),
    );
    expect(lines(full, "hooks")[0]).toEqual({
      id: 77,
      name: "web",
      active: true,
      events: ["push", "issues"],
      config: { url: "https://hooks.example.com/in", content_type: "json", insecure_ssl: "0" },
      created_at: at(71),
      updated_at: at(70),
    });
    expect(lines(full, "actions-secrets")).toEqual([
      { name: "NPM_TOKEN", created_at: at(83), updated_at: at(84) },
    ]);
    expect(lines(full, "environments")[0]).toMatchObject({
      name: "production",
      protection_rules: [
        { type: "wait_timer", wait_timer: 30 },
        { type: "required_reviewers", reviewers: [{ type: "Team", reviewer: "core" }] },
      ],
    });
    const everything = [...full.files.entries()]
      .filter(([p]) => p.endsWith(".jsonl"))
      .map(([, b]) => b.toString("utf8"))
      .join("");
    expect(everything).not.toContain("api.github.com");
    expect(everything).not.toContain("********");
    expect(everything).not.toMatch(/ghs_|node_id|avatar_url/);
  });

  it("streams each release asset from the asset host, with its SHA-256 and size, and no token sent there", () => {
    const served = github.metadata(REPO);
    for (const [id, sha256] of digests) {
      const path = assetPath(11, id);
      expect(full.files.get(path)!.equals(served.assetBytes.get(id)!)).toBe(true);
      expect(full.summary.assets.find((a) => a.assetId === id)).toEqual({
        releaseId: 11,
        assetId: id,
        name: id === 201 ? "app-linux-x64.tar.gz" : "checksums.txt",
        path,
        size: served.assetBytes.get(id)!.length,
        sha256,
      });
    }
    expect(lines(full, "releases")[0]!.assets).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 201, path: assetPath(11, 201) })]),
    );
    expect(full.summary.checkpoint.assets).toEqual(
      Object.fromEntries([...digests].map(([id, s]) => [String(id), s])),
    );
    expect(github.assetRequests.length).toBeGreaterThanOrEqual(2);
    for (const request of github.assetRequests) expect(request.authorization).toBeUndefined();
  });

  it("pages with per_page=100 and Link headers, oldest first for a full read", () => {
    const issuePages = github.requests
      .filter((r) => r.url.startsWith(`/repos/${REPO}/issues?`) && r.url.includes("direction=asc"))
      .map((r) => new URL(r.url, github.url).searchParams.get("page") ?? "1");
    expect(issuePages.slice(0, 3)).toEqual(["1", "2", "3"]);
    const repoCalls = github.requests.filter((r) => r.url.startsWith("/repos/"));
    expect(repoCalls.every((r) => r.auth === "token")).toBe(true);
    for (const r of repoCalls.filter((c) => /\/(labels|issues|pulls|releases)\?/.test(c.url)))
      expect(r.url).toMatch(/per_page=100/);
  });

  it("writes into an archive whose manifest covers every file and can carry each kind's outcome", async () => {
    const collection = standin.source().collect(REPO);
    const dataKey = Buffer.alloc(32, 7);
    const header = {
      aead: "AES256_GCM_HKDF_1MB" as const,
      keyRef: "local:0123456789abcdef",
      wrappedKey: Buffer.alloc(60).toString("base64"),
      snapshotId: "20260101T000000000Z-00000000",
      repo: REPO,
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    const written = writeArchive({
      header,
      dataKey,
      manifest: {
        format: 1,
        snapshotId: header.snapshotId,
        repo: REPO,
        takenAt: header.createdAt,
        kind: "full",
        refs: {},
        prerequisites: [],
      },
      files: collection.files,
    });
    const chunks = await written.stream.toArray();
    const manifest = await written.manifest;
    const summary = await collection.summary;
    expect(manifest.entries.map((e) => e.path)).toEqual([...full.files.keys()]);
    for (const asset of summary.assets)
      expect(manifest.entries.find((e) => e.path === asset.path)).toMatchObject({
        size: asset.size,
        sha256: asset.sha256,
      });
    const read = await readArchive(Readable.from(chunks), { dataKey: async () => dataKey });
    expect(read.manifest.entries).toHaveLength(manifest.entries.length);
    expect(
      manifestSchema.parse({ ...manifest, metadata: { kinds: summary.kinds } }).metadata?.kinds.issues,
    ).toEqual({
      state: "full",
      items: 230,
    });
  });
});

describe("GitHubMetadataSource: incremental collections", () => {
  it("costs only 304s when nothing changed: changedSince is false and collect has no file", async () => {
    const before = github.requests.length;
    expect(await standin.source().changedSince(REPO, full.summary.checkpoint)).toBe(false);
    const checks = repoRequests(REPO, before);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((r) => r.conditional && r.status === 304)).toBe(true);

    const from = github.requests.length;
    const quiet = await drain(standin.source().collect(REPO, { checkpoint: full.summary.checkpoint }));
    expect(quiet.files.size).toBe(0);
    for (const kind of METADATA_KINDS)
      expect(quiet.summary.kinds[kind], kind).toEqual({ state: "unchanged" });
    const requests = repoRequests(REPO, from);
    expect(requests.every((r) => r.conditional && r.status === 304)).toBe(true);
    // Discussions have no ETag: one slim GraphQL query tells they are unchanged.
    const graphql = github.requests.slice(from).filter((r) => r.url === "/graphql");
    expect(graphql).toHaveLength(1);
    expect(quiet.summary.requests).toEqual({ total: requests.length + 1, notModified: requests.length });
    expect(quiet.summary.checkpoint).toEqual(full.summary.checkpoint);
  });

  it("reads only what changed: a new comment, an edited label, a new asset", async () => {
    const served = github.metadata(REPO);
    const issue = served.issues.find((i) => i.number === 5)!;
    issue.updated_at = at(900_000);
    issue.comments = 1;
    served.comments.push({
      id: 799_999,
      issue_url: `https://api.github.com/repos/${REPO}/issues/5`,
      user: { login: "dave" },
      body: "A new comment",
      created_at: at(900_000),
      updated_at: at(900_000),
    });
    served.timelines[5] = [
      { id: 55, actor: { login: "dave" }, event: "labeled", label: { name: "bug" }, created_at: at(900_001) },
    ];
    served.labels[0]!.color = "000000";
    const bytes = Buffer.from("new binary");
    served.assetBytes.set(203, bytes);
    (served.releases[0]!.assets as O[]).push({
      id: 203,
      name: "app.sig",
      label: null,
      state: "uploaded",
      content_type: "application/octet-stream",
      size: bytes.length,
      download_count: 0,
      created_at: at(900_002),
      updated_at: at(900_002),
      uploader: { login: "alice" },
    });
    expect(await standin.source().changedSince(REPO, full.summary.checkpoint)).toBe(true);

    const assetsBefore = github.assetRequests.length;
    const delta = await drain(standin.source().collect(REPO, { checkpoint: full.summary.checkpoint }));
    const kinds = delta.summary.kinds;
    // A delta reads from the mark on, inclusive: the newest issue of last time comes again.
    const newest = Math.max(...served.issues.filter((i) => i.number !== 5).map((i) => Number(i.number)));
    expect(kinds.issues).toEqual({ state: "delta", items: 2 });
    expect(lines(delta, "issues").map((i) => i.number)).toEqual([5, newest]);
    expect(kinds["issue-comments"]).toEqual({ state: "delta", items: 2 });
    expect(lines(delta, "issue-comments").at(-1)).toMatchObject({
      id: 799_999,
      issue_number: 5,
      user: "dave",
    });
    expect(kinds["issue-events"]).toEqual({ state: "delta", items: 1 });
    expect(lines(delta, "issue-events")).toEqual([
      {
        issue_number: 5,
        key: "55",
        id: 55,
        event: "labeled",
        actor: "dave",
        created_at: at(900_001),
        label: "bug",
      },
    ]);
    expect(kinds.labels).toEqual({ state: "full", items: 120 });
    expect(kinds.releases).toEqual({ state: "full", items: 2 });
    expect(kinds.pulls).toEqual({ state: "unchanged" });
    expect(kinds["pull-reviews"]).toEqual({ state: "unchanged" });
    expect(kinds.milestones).toEqual({ state: "unchanged" });
    expect([...delta.files.keys()].filter((p) => p.startsWith("meta/assets/"))).toEqual([assetPath(11, 203)]);
    expect(github.assetRequests.length - assetsBefore).toBe(1);
    expect(delta.summary.checkpoint.assets).toHaveProperty("203");
    expect(delta.summary.checkpoint.assets).toHaveProperty("201");
    // Cheap: a changed list costs its probe (and the pages of the change), the rest are 304s.
    expect(delta.summary.requests.total - delta.summary.requests.notModified).toBeLessThanOrEqual(12);

    const after = await drain(standin.source().collect(REPO, { checkpoint: delta.summary.checkpoint }));
    expect(after.files.size).toBe(0);
  });

  it("ignores a checkpoint of another repository that had the name", async () => {
    const path = `/repos/${REPO}`;
    const foreign: MetadataCheckpoint = {
      ...full.summary.checkpoint,
      repoId: 1,
      kinds: { ...full.summary.checkpoint.kinds, repository: { requests: [{ path, etag: 'W/"another"' }] } },
    };
    const drained = await drain(standin.source().collect(REPO, { checkpoint: foreign }));
    expect(drained.summary.kinds.issues).toMatchObject({ state: "full" });
  });
});

describe("GitHubMetadataSource: what the repository cannot provide, and failures", () => {
  it("records issues as unavailable when they are disabled, and collects the rest", async () => {
    const drained = await drain(standin.source().collect("acme/no-issues"));
    const gone = { state: "unavailable", status: 410, reason: "disabled on this repository" };
    expect(drained.summary.kinds.issues).toEqual(gone);
    expect(drained.summary.kinds["issue-comments"]).toEqual(gone);
    expect(drained.summary.kinds["issue-events"]).toEqual(gone);
    expect(drained.summary.kinds.pulls).toEqual({ state: "full", items: 3 });
    expect(drained.files.has(kindPath("issues"))).toBe(false);
    expect(drained.summary.checkpoint.kinds.issues).toBeUndefined();
  });

  it("records a kind the App has no permission for as unavailable (403)", async () => {
    github.inject({
      repo: REPO,
      path: /^\/hooks/,
      times: 1,
      status: 403,
      json: { message: "Resource not accessible by integration" },
    });
    const drained = await drain(standin.source().collect(REPO));
    expect(drained.summary.kinds.hooks).toEqual({
      state: "unavailable",
      status: 403,
      reason: "the GitHub App lacks the permission to read it",
    });
    expect(drained.summary.kinds.teams).toMatchObject({ state: "full" });
  });

  it("fails whole, permanently, when the App cannot read the repository or it does not exist", async () => {
    const locked = await failure(standin.source().collect("acme/locked-out"));
    expect(locked).toBeInstanceOf(SourceError);
    expect((locked as SourceError).permanent).toBe(true);
    expect(locked.message).toMatch(/acme\/locked-out.*cannot read/);
    const missing = await failure(standin.source().collect("acme/nowhere"));
    expect(missing).toBeInstanceOf(RepositoryNotFoundError);
  });

  it("retries a 502 twice then succeeds; fails transiently when 5xx persists", async () => {
    const before = github.requests.length;
    github.inject({ repo: REPO, path: /^\/labels\?per_page=100$/, times: 2, status: 502 });
    const drained = await drain(standin.source().collect(REPO));
    expect(drained.summary.kinds.labels).toEqual({ state: "full", items: 120 });
    const labelFirstPages = repoRequests(REPO, before).filter(
      (r) => r.url === `/repos/${REPO}/labels?per_page=100`,
    );
    expect(labelFirstPages.map((r) => r.status)).toEqual([502, 502, 200]);

    github.inject({ repo: REPO, path: /^\/milestones/, times: 50, status: 503 });
    const err = await failure(standin.source().collect(REPO));
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).permanent).toBe(false);
    expect(err.message).toMatch(/milestones of acme\/app: GitHub answered HTTP 503/);
  });

  it("fails whole on garbage JSON, naming the kind and never quoting the answer", async () => {
    github.inject({
      repo: REPO,
      path: /^\/issues\/comments\?.*direction=asc/,
      times: 1,
      status: 200,
      raw: "<html>proxy error</html>",
    });
    const err = await failure(standin.source().collect(REPO));
    expect(err).toBeInstanceOf(MetadataFormatError);
    expect((err as MetadataFormatError).permanent).toBe(false);
    expect(err.message).toMatch(/issue-comments of acme\/app: GitHub's answer is not the JSON expected/);
    expect(err.message).not.toContain("<html>");
  });

  it("waits out primary and secondary rate limits, and gives up past the longest wait it accepts", async () => {
    const before = github.requests.length;
    github.primaryRateLimit(REPO, /^\/labels/, 1, 1);
    github.secondaryRateLimit(REPO, /^\/pulls\?/, 2, 1);
    const drained = await drain(standin.source().collect(REPO));
    expect(drained.summary.kinds.labels).toMatchObject({ state: "full" });
    expect(drained.summary.kinds.pulls).toMatchObject({ state: "full" });
    const limited = repoRequests(REPO, before).filter((r) => r.status === 403);
    expect(limited).toHaveLength(3);

    github.primaryRateLimit(REPO, /^\/autolinks/, 1, 3600);
    const err = await failure(standin.source({ maxWaitSeconds: 60 }).collect(REPO));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAt).toMatch(/^\d{4}-/);
  });

  it("fails when an asset's bytes differ from the digest the release lists", async () => {
    const served = github.metadata(REPO);
    const asset = (served.releases[0]!.assets as O[]).find((a) => a.id === 202)!;
    const digest = asset.digest;
    asset.digest = `sha256:${"0".repeat(64)}`;
    try {
      const err = await failure(standin.source().collect(REPO));
      expect(err).toBeInstanceOf(AssetMismatchError);
      expect(err.message).toMatch(/release asset 202 of v1\.0/);
      expect(err.message).not.toMatch(/sig=|http/);
    } finally {
      asset.digest = digest;
    }
  });

  it("stops when its signal is aborted, with a DeadlineError", async () => {
    const controller = new AbortController();
    const collection = standin.source().collect(REPO, { signal: controller.signal });
    let files = 0;
    const err = await (async () => {
      for await (const file of collection.files) {
        await (await file.open()).toArray();
        if (++files === 3) controller.abort();
      }
    })().then(
      () => expect.unreachable(),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlineError);
    await expect(collection.summary).rejects.toBe(err);
  });
});

export type { RepoMetadata };
