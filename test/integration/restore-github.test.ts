// Restore to GitHub, whole, on the GitHub stand-in with the real @octokit clients: a repository with
// every metadata kind a restore writes back is backed up through the CLI, restored into a new
// repository, and the two compared by a canonical projection (titles, bodies without the provenance
// header, states, labels, milestones, comment order with reviews and review comments, releases and
// their assets' SHA-256s); numbers equal. A restore whose answers are lost halfway continues on the
// next run and creates nothing twice; a secondary limit mid-restore slows it down and loses nothing.
import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import { RestoreDeadlineError } from "../../functions/core/restore-github/errors.js";
import { LeaseHeldError } from "../../functions/core/errors.js";
import { stripProvenance } from "../../functions/core/restore-github/provenance.js";
import {
  restoreToGitHub,
  type GitHubRestoreOutcome,
} from "../../functions/core/restore-github/restore-to-github.js";
import { openApp } from "../../functions/wiring.js";
import { cli } from "../helpers/cli-run.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { refsOf, pushCommit } from "../helpers/git-repos.js";
import { at } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import type { RepoMetadata } from "../helpers/github-standin-metadata.js";
import { serveSettingsWrites, type SettingsWrite } from "../helpers/github-standin-settings.js";
import type { RestoreJournal } from "../../functions/core/ports.js";
import { serveItemWrites, type ItemWritesOptions } from "../helpers/github-standin-writes.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { projection } from "../helpers/restore-projection.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 616161;
const { privateKey } = appKeys();
type O = Record<string, unknown>;

let world: GitHubWorld;
let root: string;
let gitServer: GitHttpServer;
let github: GitHubStandin;
let ws: TestWorkspace;
let env: Record<string, string>;
let settingsWrites: SettingsWrite[];
const assetSha = new Map<string, string>();

const user = (login: string) => ({ login, id: login.length, type: "User" });
const reactions = {
  total_count: 0,
  "+1": 0,
  "-1": 0,
  laugh: 0,
  hooray: 0,
  confused: 0,
  heart: 0,
  rocket: 0,
  eyes: 0,
};

/** The source's git data: main, a merged and a closed pull request (branches deleted), an open one, a tag. */
async function sourceGit(bare: string) {
  await initBare(bare);
  const c1 = await pushCommit(bare, "main", "a.txt", "one\n");
  const h2 = await pushCommit(bare, "feature-2", "b.txt", "two\n");
  const h3 = await pushCommit(bare, "feature-3", "c.txt", "three\n");
  const h5 = await pushCommit(bare, "feature-5", "e.txt", "five\n");
  const run = (...args: string[]) => git(args, { env: { GIT_DIR: bare } });
  // #2 merged by fast-forward; its branch deleted; GitHub keeps refs/pull/N/head.
  await run("update-ref", "refs/heads/main", h2);
  await run("update-ref", "-d", "refs/heads/feature-2");
  await run("update-ref", "-d", "refs/heads/feature-3");
  await run("update-ref", "refs/pull/2/head", h2);
  await run("update-ref", "refs/pull/3/head", h3);
  await run("update-ref", "refs/pull/5/head", h5);
  await run("update-ref", "refs/tags/v1.0", h2);
  await run("symbolic-ref", "HEAD", "refs/heads/main");
  return { c1, h2, h3, h5 };
}

/** Every kind a restore writes back, in GitHub's API shape. */
function sourceMetadata(meta: RepoMetadata, repo: string, shas: Awaited<ReturnType<typeof sourceGit>>) {
  const api = `https://api.github.com/repos/${repo}`;
  meta.settings.has_issues = true;
  meta.labels.push(
    { id: 1, name: "bug", color: "d73a4a", description: "Something is broken", default: true },
    { id: 2, name: "enhancement", color: "a2eeef", description: null, default: true },
    { id: 3, name: "good first issue", color: "7057ff", description: "Easy", default: false },
  );
  const milestone = (number: number, state: string) => ({
    id: 900 + number,
    number,
    title: `v${number}`,
    description: `Milestone ${number}`,
    creator: user("alice"),
    open_issues: 0,
    closed_issues: 0,
    state,
    created_at: at(number),
    updated_at: at(number),
    due_on: null,
    closed_at: null,
  });
  meta.milestones.push(milestone(1, "open"), milestone(3, "closed")); // 2 was deleted
  const labels = (...names: string[]) => names.map((name) => ({ name, color: "fff" }));
  const issue = (n: number, extra: O) => ({
    url: `${api}/issues/${n}`,
    id: 100 + n,
    number: n,
    title: `Item ${n}`,
    body: `Body of ${n}\nwith ünïcode ✓`,
    user: user(n % 2 ? "alice" : "bob"),
    labels: [],
    state: "open",
    state_reason: null,
    locked: false,
    active_lock_reason: null,
    assignees: [],
    milestone: null,
    comments: 0,
    reactions,
    author_association: "MEMBER",
    created_at: at(100 + n),
    updated_at: at(200 + n),
    closed_at: null,
    ...extra,
  });
  const pr = { pull_request: { url: "x" } };
  meta.issues.push(
    issue(1, { labels: labels("bug", "good first issue"), milestone: milestone(1, "open") }),
    issue(2, { ...pr, state: "closed", closed_at: at(300) }),
    issue(3, { ...pr, state: "closed", closed_at: at(301) }),
    issue(4, {
      assignees: [user("alice"), user("dave")],
      state: "closed",
      state_reason: "not_planned",
      locked: true,
      active_lock_reason: "resolved",
      closed_at: at(302),
    }),
    issue(5, { ...pr, labels: labels("enhancement") }),
    issue(6, { ...pr, title: "Head gone" }),
    issue(8, { body: null, milestone: milestone(3, "closed") }),
  );
  const branch = (ref: string, sha: string) => ({
    label: `acme:${ref}`,
    ref,
    sha,
    repo: { full_name: repo },
  });
  const pull = (n: number, extra: O) => {
    const i = meta.issues.find((x) => x.number === n)!;
    return {
      id: 300 + n,
      number: n,
      title: i.title,
      body: i.body,
      user: i.user,
      state: i.state,
      locked: false,
      labels: i.labels,
      assignees: [],
      milestone: null,
      requested_reviewers: [],
      requested_teams: [],
      merged_at: null,
      merge_commit_sha: null,
      draft: false,
      auto_merge: null,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      ...extra,
    };
  };
  meta.pulls.push(
    pull(2, {
      head: branch("feature-2", shas.h2),
      base: branch("main", shas.c1),
      merged_at: at(299),
      merge_commit_sha: shas.h2,
    }),
    pull(3, { head: branch("feature-3", shas.h3), base: branch("main", shas.c1) }),
    pull(5, { head: branch("feature-5", shas.h5), base: branch("main", shas.h2), draft: true }),
    pull(6, { head: branch("gone", "9".repeat(40)), base: branch("main", shas.h2) }),
  );
  const comment = (id: number, n: number, t: number, body: string) => ({
    id,
    issue_url: `${api}/issues/${n}`,
    user: user("carol"),
    body,
    author_association: "MEMBER",
    reactions,
    created_at: at(t),
    updated_at: at(t),
  });
  meta.comments.push(
    comment(7001, 1, 400, "First comment on 1"),
    comment(7002, 2, 401, "Comment on the merged one"),
    comment(7003, 1, 402, "Second comment on 1"),
    comment(7004, 4, 403, "Won't do"),
    comment(7005, 2, 420, "After the review"),
  );
  meta.reviews[2] = [
    {
      id: 81,
      user: user("alice"),
      body: "LGTM",
      state: "APPROVED",
      commit_id: shas.h2,
      submitted_at: at(410),
    },
    { id: 82, user: user("bob"), body: "", state: "COMMENTED", commit_id: shas.h2, submitted_at: at(411) },
  ];
  const reviewComment = (id: number, t: number, body: string, extra: O = {}) => ({
    id,
    pull_request_review_id: 82,
    pull_request_url: `${api}/pulls/2`,
    diff_hunk: "@@ -0,0 +1 @@\n+two",
    path: "b.txt",
    commit_id: shas.h2,
    original_commit_id: shas.h2,
    user: user("bob"),
    body,
    created_at: at(t),
    updated_at: at(t),
    author_association: "MEMBER",
    reactions,
    line: 1,
    original_line: 1,
    side: "RIGHT",
    position: 1,
    original_position: 1,
    subject_type: "line",
    ...extra,
  });
  meta.reviewComments.push(
    reviewComment(6001, 412, "Why two?"),
    reviewComment(6002, 413, "Because.", { in_reply_to_id: 6001 }),
  );
  const asset = (id: number, name: string, bytes: Buffer) => {
    meta.assetBytes.set(id, bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    assetSha.set(name, sha256);
    return {
      id,
      name,
      label: null,
      state: "uploaded",
      content_type: "application/octet-stream",
      size: bytes.length,
      digest: `sha256:${sha256}`,
      download_count: 1,
      uploader: user("alice"),
      created_at: at(500),
      updated_at: at(500),
    };
  };
  meta.releases.push(
    {
      id: 11,
      tag_name: "v1.0",
      target_commitish: "main",
      name: "One",
      body: "First release",
      draft: false,
      prerelease: false,
      author: user("alice"),
      created_at: at(490),
      published_at: at(491),
      assets: [
        asset(201, "app.tar.gz", randomBytes(200 * 1024 + 3)),
        asset(202, "sums.txt", Buffer.from("abc\n")),
      ],
    },
    {
      id: 12,
      tag_name: "v1.1",
      target_commitish: "main",
      name: null,
      body: null,
      draft: true,
      prerelease: true,
      author: user("bob"),
      created_at: at(495),
      published_at: null,
      assets: [],
    },
  );
}

/** Restored: review comments and reviews come back as comments; a restored thread is all comments. */
function restoredProjection(meta: RepoMetadata) {
  return projection(meta);
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-restore-github-", ["acme"]);
  ({ root, git: gitServer, github } = world);
  github.orgMetadata("acme"); // the backup also snapshots the organization (acme/@org)
  settingsWrites = serveSettingsWrites(github);
  github.addRepo("acme/app");
  const shas = await sourceGit(join(root, "acme", "app.git"));
  sourceMetadata(github.metadata("acme/app"), "acme/app", shas);
  github.addRepo("acme/tiny");
  await initBare(join(root, "acme", "tiny.git"));
  await pushCommit(join(root, "acme", "tiny.git"), "main", "t.txt", "tiny\n");
  const tiny = github.metadata("acme/tiny");
  tiny.issues.push({ ...(github.metadata("acme/app").issues[0] as O), labels: [], milestone: null });
  ws = await workspace(
    {},
    `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${gitServer.url}\n`,
  );
  const keyFile = join(root, "app-key.pem");
  await writeFile(keyFile, privateKey, { mode: 0o600 });
  env = { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: "", GITHUB_APP_PRIVATE_KEY_FILE: keyFile };
  const backup = await withEnv(() => cli("backup", "--config", ws.configFile, "--json"));
  expect(backup.code, backup.stderr + backup.stdout).toBe(0);
});

afterAll(async () => {
  await ws?.cleanup();
  await world?.close();
});

async function withEnv<T>(run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The core use case through the CLI's own app, with pacing shrunk (GitHub's would take minutes). */
async function restore(
  target: string,
  more: { transientRetries?: number } = {},
  pacing = { perMinute: Infinity, perHour: Infinity, msPerSecond: 20 },
) {
  const app = await openApp(ws.configFile, { env });
  try {
    return await restoreToGitHub(
      { ...app, github: app.githubRestore! },
      { repo: "acme/app", target, pacing, ...more },
      { actor: "test" },
    );
  } finally {
    await app.close();
  }
}

function expectRestored(target: string, outcome: GitHubRestoreOutcome) {
  const original = projection(github.metadata("acme/app"));
  const restored = restoredProjection(github.metadata(target));
  expect(restored.labels).toEqual(original.labels);
  expect(restored.milestones).toEqual(original.milestones);
  expect(restored.releases).toEqual(original.releases);
  expect(restored.issues.map((i) => i.number)).toEqual(original.issues.map((i) => i.number));
  expect(restored.issues).toEqual(original.issues);
  // Every number kept; the gaps are closed placeholders that say why.
  const meta = github.metadata(target);
  expect(meta.issues.map((i) => i.number).sort((a, b) => Number(a) - Number(b))).toEqual([
    1, 2, 3, 4, 5, 6, 7, 8,
  ]);
  const placeholder = meta.issues.find((i) => i.number === 7)!;
  expect(placeholder.state).toBe("closed");
  expect(String(placeholder.body)).toMatch(/#7 was not in the backup/);
  expect(meta.milestones.find((m) => m.number === 2)).toMatchObject({
    state: "closed",
    title: "Placeholder 2",
  });
  // Pull requests: #2 (merged), #3 (closed) and #5 (open, draft) are pull requests again; #6 lost its head.
  expect(meta.pulls.map((p) => p.number).sort()).toEqual([2, 3, 5]);
  expect(meta.pulls.find((p) => p.number === 5)).toMatchObject({ draft: true, head: { ref: "feature-5" } });
  expect(meta.pulls.find((p) => p.number === 2)).toMatchObject({
    state: "closed",
    head: { ref: "restored/pr-2" },
  });
  expect(outcome.items.pullsAsIssues).toEqual([
    { number: 6, why: expect.stringMatching(/head commit is not in the backup/) },
  ]);
  expect(String(meta.issues.find((i) => i.number === 6)!.body)).toMatch(
    /Restored as an issue: its head commit/,
  );
  // Provenance: original author, date and link at the top of each item and comment.
  expect(String(meta.issues.find((i) => i.number === 1)!.body)).toMatch(
    /^<!-- infinity-backup restored issue acme\/app#1 -->\n> Originally by @alice on 2026-01-01T00:01:41Z: https:\/\/github.com\/acme\/app\/issues\/1\n\n/,
  );
  expect(meta.comments.every((c) => String(c.body).startsWith("<!-- infinity-backup restored"))).toBe(true);
  expect(outcome.numbersKept).toBe(true);
  expect(outcome.mapping.issues).toEqual({ "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8 });
  expect(outcome.mapping.pulls).toEqual([2, 3, 5]);
}

describe("restore to GitHub", () => {
  it("brings back code, issues, pull requests, comments, reviews, labels, milestones and releases with their numbers", async () => {
    const writes = serveItemWrites(github);
    const outcome = await restore("acme/app-restored");
    expectRestored("acme/app-restored", outcome);
    // The merged pull request is closed with a note naming its merge commit.
    const pr2 = github.metadata("acme/app-restored").issues.find((i) => i.number === 2)!;
    expect(String(pr2.body)).toMatch(/Merged on 2026-01-01T00:04:59Z as [0-9a-f]{40}/);
    // The code: every ref but refs/pull/*, plus the pull requests' restored branches.
    const refs = await refsOf(join(root, "acme", "app-restored.git"));
    const source = await refsOf(join(root, "acme", "app.git"));
    for (const line of source.split("\n").filter((l) => l && !l.includes("refs/pull/")))
      expect(refs).toContain(line);
    expect(refs).toMatch(/refs\/heads\/restored\/pr-2\n/);
    // Issues went through the import endpoint: one request per plain issue, with its comments.
    expect(outcome.items.imported).toBe(true);
    expect(writes.created.filter((w) => w.rest === "/import/issues").length).toBe(4); // #1, #4, #7, #8
    // The mapping is written beside the restore.
    const app = await openApp(ws.configFile, { env });
    try {
      const body = await (await app.store.get(outcome.mappingKey)).toArray();
      expect(JSON.parse(Buffer.concat(body).toString("utf8"))).toEqual(outcome.mapping);
    } finally {
      await app.close();
    }
    github.routes.pop();
  });

  it("a restore stopped after its settings writes, before the settings step was journaled, sends none of them again", async () => {
    serveItemWrites(github);
    const app = await openApp(ws.configFile, { env });
    const target = "acme/app-settings-resumed";
    const pacing = { perMinute: Infinity, perHour: Infinity, msPerSecond: 20 };
    try {
      const real = app.githubRestore!;
      let died = false;
      // The run dies right after the settings writes, before the settings step's result is kept.
      const dying: RestoreJournal = {
        entries: (id) => real.journal.entries(id),
        intend: (id, key) => real.journal.intend(id, key),
        complete: async (id, key, result) => {
          if (key === "settings" && !died) {
            died = true;
            throw new Error("the run died before journaling the settings step");
          }
          await real.journal.complete(id, key, result);
        },
      };
      const from = settingsWrites.length;
      await expect(
        restoreToGitHub(
          { ...app, github: { ...real, journal: dying } },
          { repo: "acme/app", target, pacing },
          { actor: "test" },
        ),
      ).rejects.toThrow(/died before journaling/);
      const first = settingsWrites.slice(from).filter((w) => w.repo === target);
      expect(first.length).toBeGreaterThan(0);
      const again = settingsWrites.length;
      const outcome = await restoreToGitHub(
        { ...app, github: real },
        { repo: "acme/app", target, pacing },
        { actor: "test" },
      );
      expect(outcome.resumed).toBe(true);
      expect(settingsWrites.slice(again).filter((w) => w.repo === target)).toEqual([]);
      // The report still lists what the first run applied, from the journal.
      expect(outcome.settings!.applied).toContain("repository settings");
      expect(outcome.settings!.failed).toEqual([]);
      expectRestored(target, outcome);
    } finally {
      await app.close();
      github.routes.pop();
    }
  });

  it("assigns each original assignee who may be assigned on the target; the others stay named in the header", async () => {
    serveItemWrites(github, { assignable: ["alice"] });
    try {
      const outcome = await restore("acme/app-assigned");
      expectRestored("acme/app-assigned", outcome);
      const four = github.metadata("acme/app-assigned").issues.find((i) => i.number === 4)!;
      expect((four.assignees as { login: string }[]).map((a) => a.login)).toEqual(["alice"]);
      expect(String(four.body)).toMatch(/Assigned to @alice, @dave/);
      // A second run assigns nothing again (journaled).
      const again = await restore("acme/app-assigned");
      expect(again.resumed).toBe(true);
      expect((four.assignees as { login: string }[]).map((a) => a.login)).toEqual(["alice"]);
    } finally {
      github.routes.pop();
    }
  });

  it("continues a restore whose answer was lost halfway, creating nothing twice (issues created one by one)", async () => {
    const options: ItemWritesOptions = { importAccepted: false, loseAnswerAfter: 14 };
    const writes = serveItemWrites(github, options);
    // No retries: the run stops at the lost answer, as a killed one would, its step left at "intent".
    await expect(restore("acme/app-resumed", { transientRetries: 0 })).rejects.toThrow(/502/);
    const before = writes.created.length;
    expect(before).toBe(14);
    const outcome = await restore("acme/app-resumed");
    expect(outcome.resumed).toBe(true);
    expect(outcome.items.imported).toBe(false);
    expectRestored("acme/app-resumed", outcome);
    // Nothing created twice: one create per item, the lost one found by its provenance marker.
    const creates = writes.created.filter((w) => w.rest === "/issues" || /\/comments$/.test(w.rest));
    expect(new Set(creates.map((w) => JSON.stringify(w))).size).toBeLessThanOrEqual(creates.length);
    const meta = github.metadata("acme/app-resumed");
    expect(meta.issues).toHaveLength(8);
    expect(meta.comments).toHaveLength(8); // 5 comments + 1 review with a body + 2 review comments
    expect(new Set(meta.comments.map((c) => c.body)).size).toBe(8);
    // A third run finds everything done and writes nothing.
    const third = await restore("acme/app-resumed");
    expect(third.pacing.writes).toBe(0);
    github.routes.pop();
  });

  it("refuses a second restore into the same target while one runs (the target's lease); the first finishes alone", async () => {
    serveItemWrites(github);
    const runs = await Promise.allSettled([restore("acme/app-twice"), restore("acme/App-Twice")]);
    github.routes.pop();
    const done = runs.filter((r) => r.status === "fulfilled");
    const refused = runs.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(done).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(LeaseHeldError);
    expect(String(refused[0]!.reason.message)).toMatch(
      /another restore into acme\/App-Twice|acme\/app-twice is running/,
    );
    expectRestored("acme/app-twice", (done[0] as PromiseFulfilledResult<GitHubRestoreOutcome>).value);
    // One item per number: nothing was created twice.
    expect(github.metadata("acme/app-twice").issues).toHaveLength(8);
    // The lease is given back: a later run into the same target finds everything done.
    expect((await restore("acme/app-twice")).pacing.writes).toBe(0);
  });

  it("slows down on a secondary limit mid-restore and loses nothing; a lost answer is looked up, not sent twice", async () => {
    const writes = serveItemWrites(github, {
      importAccepted: false,
      contentLimit: { max: 6, windowMs: 250, retryAfterSeconds: 1 },
      loseAnswerAfter: 20,
    });
    const outcome = await restore("acme/app-limited");
    expect(writes.limited).toBeGreaterThan(0);
    expect(outcome.pacing.slowdowns).toBe(writes.limited);
    expectRestored("acme/app-limited", outcome);
    github.routes.pop();
  });

  it("carries its pace to the next run: a continuing run keeps the hour's count and a secondary limit's wait", async () => {
    // The restore's clock, moved only by the pacer's sleeps: hours of pacing take no real time.
    let now = Date.parse("2026-12-01T00:00:00Z");
    const clock = { now: () => new Date(now) };
    let killOnWaitOf: number | undefined;
    const sleep = async (ms: number) => {
      if (killOnWaitOf !== undefined && ms >= killOnWaitOf) throw new Error("killed while waiting");
      now += ms;
    };
    const run = async (target: string, pacing: Record<string, unknown>, deadline?: number) => {
      const app = await openApp(ws.configFile, { env });
      try {
        return await restoreToGitHub(
          { ...app, clock, github: app.githubRestore! },
          { repo: "acme/app", target, pacing: { perMinute: 80, perHour: Infinity, sleep, ...pacing } },
          { actor: "test", ...(deadline === undefined ? {} : { deadline }) },
        );
      } finally {
        await app.close();
      }
    };
    // 1. An hourly cap of 8: the first run stops at its deadline (30 s in) after its 9th write, an
    //    hour after its 1st; the next run starts at once and must not begin a new hour of its own.
    const hourly = serveItemWrites(github, { importAccepted: false, clock: () => now });
    try {
      await expect(run("acme/app-paced", { perHour: 8 }, now + 30_000)).rejects.toBeInstanceOf(
        RestoreDeadlineError,
      );
      const first = hourly.times.length;
      expect(first).toBe(9);
      const outcome = await run("acme/app-paced", { perHour: 8 });
      expectRestored("acme/app-paced", outcome);
      const at = hourly.times.map((t) => t.at);
      expect(at.length).toBeGreaterThan(first + 8);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(750);
      for (let i = 8; i < at.length; i++) expect(at[i]! - at[i - 8]!).toBeGreaterThanOrEqual(3_600_000);
    } finally {
      github.routes.pop();
    }
    // 2. A secondary limit (retry-after 600 s) on the 5th write, and the run killed while it waits:
    //    the next run writes nothing before the wait is over, and keeps the doubled spacing.
    const limited = serveItemWrites(github, {
      importAccepted: false,
      clock: () => now,
      refuse: { nth: [5], retryAfterSeconds: 600 },
    });
    try {
      killOnWaitOf = 600_000;
      await expect(run("acme/app-backoff", {})).rejects.toThrow(/killed while waiting/);
      killOnWaitOf = undefined;
      const refusedAt = limited.times.find((t) => t.limited)!.at;
      expect(limited.times).toHaveLength(5);
      const outcome = await run("acme/app-backoff", {});
      expectRestored("acme/app-backoff", outcome);
      const after = limited.times.slice(5).map((t) => t.at);
      expect(after[0]).toBeGreaterThanOrEqual(refusedAt + 600_000);
      for (let i = 1; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBeGreaterThanOrEqual(1500);
    } finally {
      github.routes.pop();
    }
  });

  it("restores through the CLI (restore --to-github), paced at GitHub's limits, and refuses a taken name", async () => {
    serveItemWrites(github);
    const done = await withEnv(() =>
      cli(
        "restore",
        "--config",
        ws.configFile,
        "--repo",
        "acme/tiny",
        "--to-github",
        "acme/tiny-restored",
        "--json",
      ),
    );
    expect(done.code, done.stderr + done.stdout).toBe(0);
    const report = JSON.parse(done.stdout) as {
      ok: boolean;
      numbersKept: boolean;
      items: { issues: number };
    };
    expect(report).toMatchObject({ ok: true, numbersKept: true, items: { issues: 1 } });
    expect(
      github.metadata("acme/tiny-restored").issues.map((i) => stripProvenance(i.body as string)),
    ).toEqual([github.metadata("acme/tiny").issues[0]!.body]);
    const taken = await withEnv(() =>
      cli(
        "restore",
        "--config",
        ws.configFile,
        "--repo",
        "acme/tiny",
        "--to-github",
        "acme/app",
        "--snapshot",
        "x",
      ),
    );
    expect(taken.code).not.toBe(0);
    github.routes.pop();
  });
});
