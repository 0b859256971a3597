// `infinity-backup show`: what a snapshot holds of a repository's GitHub metadata, read from its
// archive chain without restoring anything. Snapshots are taken through the local pipeline with the
// real metadata collection (the real @octokit clients against the GitHub stand-in); what `show`
// prints must equal what the stand-in served when each snapshot was taken.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubMetadataSource } from "../../functions/adapters/github/metadata-source.js";
import { bytes } from "../../functions/cli/format.js";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import type { Snapshot } from "../../functions/core/model.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp } from "../../functions/wiring.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startMetadataStandin, type MetadataStandin } from "../helpers/github-world.js";
import { richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";
import { runCli } from "../helpers/cli-run.js";

type O = Record<string, unknown>;

const APP_ID = 616161;
const REPO = "acme/app";
const policy: IncrementalPolicy = { maxChain: 10, fullEveryMs: 20 * 3600 * 1000 };
const clock = manualClock("2026-11-27T00:00:00.000Z");

let standin: MetadataStandin;
let github: GitHubStandin;
let metadata: GitHubMetadataSource;
let ws: TestWorkspace;
let app: LocalApp;
let scratch: string;
let source: string;
let full: Snapshot;
let incremental: Snapshot;
/** What the stand-in served when the full snapshot was taken: issues and issue 5's comments. */
let before: { issues: O[]; comments5: O[] };

async function cli(...argv: string[]) {
  return runCli([...argv, "--config", ws.configFile]);
}

/** `show … --json`, parsed; the command must succeed. */
async function json(...argv: string[]): Promise<O> {
  const { code, stdout, stderr } = await cli("show", ...argv, "--json");
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as O;
}

async function snap(repo: string, withMetadata = true): Promise<Snapshot> {
  clock.advance(60 * 60_000);
  const outcome = await snapshotRepo(
    app,
    repo,
    { url: source },
    { actor: "test", incremental: policy, ...(withMetadata ? { metadata } : {}) },
  );
  expect(outcome.outcome).toBe("created");
  return outcome.snapshot;
}

// What `show` lists, computed from the API objects the stand-in serves.
const login = (u: unknown) => (u as { login?: string } | null)?.login ?? null;
const issueRow = (i: O) => ({
  number: i.number,
  state: i.state,
  state_reason: i.state_reason ?? null,
  title: i.title,
  user: login(i.user),
  comments: i.comments,
  labels: (i.labels as O[]).map((l) => l.name),
  updated_at: i.updated_at,
});
const issuesOnly = (issues: O[]) =>
  issues
    .filter((i) => i.pull_request === undefined)
    .sort((a, b) => Number(a.number) - Number(b.number))
    .map(issueRow);
const commentsOf = (comments: O[], n: number) =>
  comments
    .filter((c) => String(c.issue_url).endsWith(`/issues/${n}`))
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((c) => ({ id: c.id, user: login(c.user), body: c.body, created_at: c.created_at }));

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-show-"));
  source = await richRepo(scratch);
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  fillMetadata(github.addRepo(REPO), { repo: REPO });
  fillMetadata(github.addRepo("acme/no-issues"), { repo: "acme/no-issues", issues: 5, comments: 0 });
  github.metadata("acme/no-issues").settings.has_issues = false;
  metadata = standin.source();
  ws = await workspace({ [REPO]: source, "acme/no-issues": source, "acme/plain": source });
  app = await ws.open(clock);

  const served = github.metadata(REPO);
  before = { issues: structuredClone(served.issues), comments5: commentsOf(served.comments, 5) };
  full = await snap(REPO);
  // Between the two snapshots: issue 5 is renamed and gets a new comment (git data unchanged).
  const issue = served.issues.find((i) => i.number === 5)!;
  Object.assign(issue, {
    title: "Issue 5, renamed",
    comments: Number(issue.comments) + 1,
    updated_at: at(900_000),
  });
  served.comments.push({
    id: 799_999,
    issue_url: `https://api.github.com/repos/${REPO}/issues/5`,
    user: { login: "dave" },
    body: "A new comment\non two lines",
    created_at: at(900_000),
    updated_at: at(900_000),
  });
  served.timelines[5] = [
    {
      id: 55,
      actor: { login: "dave" },
      event: "renamed",
      rename: { from: "Issue 5", to: "Issue 5, renamed" },
      created_at: at(899_999),
    },
  ];
  incremental = await snap(REPO);
  await snap("acme/no-issues");
  await snap("acme/plain", false);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await github?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("show: a snapshot's metadata after its chain", () => {
  it("the incremental snapshot builds on the full one", () => {
    expect(full.kind).toBe("full");
    expect(incremental).toMatchObject({ kind: "incremental", parentId: full.id });
    expect(incremental.metadata?.items.issues).toBeLessThan(5); // a delta, not everything again
  });

  it("issues at the incremental: every issue the stand-in serves now, the renamed title included", async () => {
    const result = await json("--repo", REPO, "issues");
    expect(result).toMatchObject({
      repo: REPO,
      what: "issues",
      snapshot: { id: incremental.id, kind: "incremental" },
      chain: [full.id, incremental.id],
      state: { state: "present" },
    });
    expect(result.items).toEqual(issuesOnly(github.metadata(REPO).issues));
    const text = await cli("show", "--repo", REPO, "issues");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${REPO} snapshot ${incremental.id}`);
    expect(text.stdout).toMatch(/\n\s+5\s+open\s+Issue 5, renamed\s+alice\s+1\s+2026-01-11T10:00:00Z\n/);
    expect(text.stdout).not.toMatch(/Issue 5\s+alice/);
    expect(text.stdout).toContain(`${(result.items as O[]).length} issues`);
  });

  it("issue 5 at the incremental: its body, every comment with the new one, and its timeline", async () => {
    const result = await json("--repo", REPO, "issue", "5");
    const served = github.metadata(REPO);
    expect(result.issue).toMatchObject({
      number: 5,
      title: "Issue 5, renamed",
      body: "Body of 5\nwith ünïcode ✓",
    });
    const comments = result.comments as { state: O; items: O[] };
    expect(comments.state).toEqual({ state: "present" });
    expect(
      comments.items.map((c) => ({ id: c.id, user: c.user, body: c.body, created_at: c.created_at })),
    ).toEqual(commentsOf(served.comments, 5));
    expect(comments.items.at(-1)).toMatchObject({ id: 799_999, user: "dave", issue_number: 5 });
    expect((result.events as { items: O[] }).items).toEqual([
      expect.objectContaining({
        event: "renamed",
        actor: "dave",
        rename: { from: "Issue 5", to: "Issue 5, renamed" },
      }),
    ]);
    // Filtered while read: nothing of another issue.
    for (const c of comments.items) expect(c.issue_number).toBe(5);

    const { code, stdout } = await cli("show", "--repo", REPO, "issue", "5");
    expect(code).toBe(0);
    expect(stdout).toContain("#5 Issue 5, renamed  [open]");
    expect(stdout).toContain("    Body of 5\n    with ünïcode ✓");
    expect(stdout).toContain(`── ${at(900_000)}  dave commented:\n    A new comment\n    on two lines`);
    expect(stdout).toContain(`── ${at(899_999)}  dave renamed it from "Issue 5" to "Issue 5, renamed"`);
    for (const c of commentsOf(served.comments, 5)) expect(stdout).toContain(String(c.body).split("\n")[0]);
  });

  it("--at before the change and --snapshot of the full one show the old state", async () => {
    for (const choose of [
      ["--at", full.takenAt],
      ["--snapshot", full.id],
    ]) {
      const issues = await json("--repo", REPO, ...choose, "issues");
      expect(issues).toMatchObject({ snapshot: { id: full.id, kind: "full" }, chain: [full.id] });
      expect(issues.items).toEqual(issuesOnly(before.issues));
      expect((issues.items as O[]).find((i) => i.number === 5)?.title).toBe("Issue 5");
      const issue = await json("--repo", REPO, ...choose, "issue", "5");
      expect((issue.comments as { items: O[] }).items.map((c) => c.id)).toEqual(
        before.comments5.map((c) => c.id),
      );
      expect((issue.events as { items: O[] }).items).toEqual([]);
    }
    const text = await cli("show", "--repo", REPO, "--at", full.takenAt, "issue", "5");
    expect(text.stdout).toContain("#5 Issue 5  [open]");
    expect(text.stdout).not.toContain("A new comment");
  });

  it("pulls: state, merged, base <- head, as served", async () => {
    const result = await json("--repo", REPO, "pulls");
    expect(
      (result.items as O[]).map((p) => [p.number, p.state, p.merged_at, p.draft, p.base, p.head, p.title]),
    ).toEqual(
      github
        .metadata(REPO)
        .pulls.map((p) => [
          p.number,
          p.state,
          p.merged_at,
          p.draft,
          (p.base as O).ref,
          (p.head as O).ref,
          p.title,
        ]),
    );
    const { stdout } = await cli("show", "--repo", REPO, "pulls");
    expect(stdout).toMatch(/\n\s*2\s+merged\s+Issue 2\s+bob\s+main <- feature-2\n/);
    expect(stdout).toMatch(/\n\s*4\s+draft\s+Issue 4\s+bob\s+main <- feature-4\n/);
  });

  it("pull 2: its reviews, review comments with path and line, and timeline", async () => {
    const result = await json("--repo", REPO, "pull", "2");
    const served = github.metadata(REPO);
    expect(result.pull).toMatchObject({ number: 2, merged_at: at(49_000), merge_commit_sha: "b".repeat(40) });
    expect((result.reviews as { items: O[] }).items.map((r) => [r.id, r.user, r.state, r.body])).toEqual(
      served.reviews[2]!.map((r) => [r.id, login(r.user), r.state, r.body]),
    );
    expect(
      (result.reviewComments as { items: O[] }).items.map((c) => [c.id, c.path, c.line, c.body]),
    ).toEqual(served.reviewComments.map((c) => [c.id, c.path, c.line, c.body]));
    expect((result.events as { items: O[] }).items.map((e) => e.event)).toEqual([
      "review_requested",
      "merged",
      "closed",
      "head_ref_deleted",
    ]);
    const { stdout } = await cli("show", "--repo", REPO, "pull", "2");
    expect(stdout).toContain("#2 Issue 2  [merged]");
    expect(stdout).toContain(`main <- acme:feature-2`);
    expect(stdout).toContain("alice reviewed: APPROVED\n    LGTM");
    expect(stdout).toContain("carol commented on src/app.ts:2");
    expect(stdout).toContain("(reply to 60001)");
    expect(stdout).toContain("    Fixed.");
    expect(stdout).toContain(`bob merged it in ${"b".repeat(12)}`);
  });

  it("releases with their assets and sizes; labels; milestones", async () => {
    const served = github.metadata(REPO);
    const releases = await json("--repo", REPO, "releases");
    expect(
      (releases.items as O[]).map((r) => [
        r.tag_name,
        r.name,
        (r.assets as O[]).map((a) => [a.name, a.size]),
      ]),
    ).toEqual(
      [...served.releases]
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((r) => [r.tag_name, r.name, (r.assets as O[]).map((a) => [a.name, a.size])]),
    );
    const text = (await cli("show", "--repo", REPO, "releases")).stdout;
    const binary = (served.releases[0]!.assets as O[])[0]!;
    expect(text).toMatch(
      new RegExp(
        `v1\\.0\\s+One\\s+${at(89_500)}\\s+app-linux-x64\\.tar\\.gz\\s+${bytes(Number(binary.size)).replace(".", "\\.")}`,
      ),
    );
    expect(text).toMatch(/v1\.1-rc\s+-\s+-\s+draft, prerelease\s+\(no assets\)/);

    const labels = await json("--repo", REPO, "labels");
    expect((labels.items as O[]).map((l) => l.name)).toEqual(served.labels.map((l) => String(l.name)).sort());
    expect((await cli("show", "--repo", REPO, "labels")).stdout).toMatch(
      /bug\s+#d73a4a\s+Something is broken/,
    );
    const milestones = await json("--repo", REPO, "milestones");
    expect(milestones.items).toEqual(
      served.milestones.map((m) => ({
        number: m.number,
        title: m.title,
        state: m.state,
        open_issues: m.open_issues,
        closed_issues: m.closed_issues,
        due_on: m.due_on,
      })),
    );
  });

  it("settings: the repository, its branch protections, rulesets and autolinks", async () => {
    const result = await json("--repo", REPO, "settings");
    const settings = result.settings as Record<string, { state: O; items: O[] }>;
    expect(settings.repository!.items[0]).toMatchObject({
      full_name: REPO,
      description: "The app",
      default_branch: "main",
    });
    expect(settings["branch-protections"]!.items.map((p) => p.branch)).toEqual(["main", "release/1.x"]);
    const { stdout } = await cli("show", "--repo", REPO, "settings");
    expect(stdout).toMatch(/description\s+The app\n/);
    expect(stdout).toMatch(/topics\s+backup, demo\n/);
    expect(stdout).toMatch(
      /\nmain\n[^]*required_pull_request_reviews\.required_approving_review_count\s+2\n/,
    );
    expect(stdout).toMatch(/required_status_checks\.contexts\s+ci\n/);
    expect(stdout).toContain("\nrelease/1.x\n");
    expect(stdout).toMatch(/main rules \(id 42\)[^]*enforcement\s+active/);
    expect(stdout).toMatch(/JIRA-\s+https:\/\/jira\.example\.com\/browse\/JIRA-<num>/);
  });

  it("kinds: each kind's state and item count after the chain", async () => {
    const result = await json("--repo", REPO, "kinds");
    const kinds = new Map(
      (result.kinds as { kind: string; state: O; items?: number }[]).map((k) => [k.kind, k]),
    );
    const served = github.metadata(REPO);
    expect(kinds.get("issues")).toEqual({
      kind: "issues",
      state: { state: "present" },
      items: served.issues.length,
    });
    expect(kinds.get("issue-comments")?.items).toBe(served.comments.length);
    expect(kinds.get("labels")?.items).toBe(served.labels.length);
    expect(kinds.get("pulls")?.items).toBe(served.pulls.length);
    expect([...kinds.values()].every((k) => k.state.state === "present")).toBe(true);
    const { stdout } = await cli("show", "--repo", REPO, "kinds");
    expect(stdout).toMatch(new RegExp(`\\nissues\\s+present\\s+${served.issues.length}\\n`));
  });

  it("an unavailable kind is shown as unavailable, with its reason", async () => {
    const kinds = await json("--repo", "acme/no-issues", "kinds");
    const issues = (kinds.kinds as O[]).find((k) => k.kind === "issues");
    expect(issues).toEqual({
      kind: "issues",
      state: { state: "unavailable", status: 410, reason: "disabled on this repository" },
    });
    const list = await cli("show", "--repo", "acme/no-issues", "issues");
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("Issues: unavailable in this snapshot (410: disabled on this repository)");
    expect((await cli("show", "--repo", "acme/no-issues", "kinds")).stdout).toMatch(
      /issue-comments\s+unavailable\s+410: disabled on this repository/,
    );
    const one = await cli("show", "--repo", "acme/no-issues", "issue", "1");
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(
      /issues were unavailable when snapshot .* was taken: 410 disabled on this repository/,
    );
    // Its pull requests are there; their conversation is not, and says why.
    const pull = await cli("show", "--repo", "acme/no-issues", "pull", "2");
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain(
      "Comments: unavailable in this snapshot (410: disabled on this repository)",
    );
    expect(pull.stdout).toContain("alice reviewed: APPROVED");
  });

  it("bad arguments exit 2 and name what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--repo", REPO, "issue", "abc"],
        /^infinity-backup show: "abc" is not an issue number \(a whole number from 1\)\n$/,
      ],
      [["--repo", REPO, "pull", "0"], /"0" is not a pull request number/],
      [["--repo", REPO, "issue"], /issue needs an issue number, e.g. show --repo NAME issue 12/],
      [
        ["--repo", REPO, "frobs"],
        /unknown "frobs"; show one of issues, pulls, releases, labels, milestones, settings, kinds, issue N or pull N/,
      ],
      [["--repo", REPO], /say what to show: issues, pulls/],
      [["--repo", REPO, "issues", "5"], /unexpected argument "5" after issues/],
      [["--repo", REPO, "pull", "5", "6"], /unexpected argument "6" after pull 5/],
      [["issues"], /show needs exactly one --repo NAME/],
      [
        ["--repo", REPO, "--at", full.takenAt, "--snapshot", full.id, "issues"],
        /give --snapshot or --at, not both/,
      ],
      [["--repo", REPO, "--at", "yesterday", "issues"], /--at "yesterday" is not a time/],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr, stdout } = await cli("show", ...argv);
      expect(code, argv.join(" ")).toBe(2);
      expect(stderr).toMatch(message);
      expect(stdout).toBe("");
    }
    // Other commands still take no arguments.
    const list = await cli("list", "extra");
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/unexpected argument "extra"/);
  });

  it("what cannot be shown exits 1: no metadata, no such snapshot, no such issue", async () => {
    const plain = await cli("show", "--repo", "acme/plain", "issues");
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/snapshot \S+ of acme\/plain holds no GitHub metadata/);
    const missing = await cli("show", "--repo", REPO, "--snapshot", "20200101T000000000Z-00000000", "issues");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no snapshot 20200101T000000000Z-00000000 of acme\/app/);
    const early = await cli("show", "--repo", REPO, "--at", "2020-01-01T00:00:00Z", "issues");
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/no snapshot of acme\/app at or before/);
    const none = await cli("show", "--repo", REPO, "issue", "99999");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(new RegExp(`no issue #99999 in snapshot ${incremental.id} of acme/app`));
    const notPull = await cli("show", "--repo", REPO, "pull", "5");
    expect(notPull.code).toBe(1);
    expect(notPull.stderr).toMatch(/no pull request #5 in snapshot/);
  });

  it("a login on the redaction list is hidden in every show until taken off it; others stay as they are", async () => {
    const add = await cli("redact", "add", "--login", "dave", "--reason", "GDPR request 7");
    expect(add.code, add.stderr).toBe(0);
    const result = await json("--repo", REPO, "issue", "5");
    const comments = (result.comments as { items: O[] }).items;
    expect(comments.find((c) => c.id === 799_999)).toMatchObject({ user: "[redacted]", body: "[redacted]" });
    expect((result.events as { items: O[] }).items[0]).toMatchObject({ actor: "[redacted]" });
    expect(JSON.stringify(result)).not.toMatch(/dave/i);
    const others = comments.filter((c) => c.user !== "[redacted]");
    expect(others.length).toBeGreaterThan(0);
    for (const c of others) expect(c.body).not.toBe("[redacted]");
    const text = await cli("show", "--repo", REPO, "issue", "5");
    expect(text.stdout).not.toMatch(/dave/i);
    expect(text.stdout).toContain("[redacted] commented:\n    [redacted]");
    const listed = JSON.parse((await cli("redact", "list", "--json")).stdout) as O[];
    expect(listed).toEqual([expect.objectContaining({ login: "dave", reason: "GDPR request 7" })]);

    expect((await cli("redact", "remove", "--login", "dave")).code).toBe(0);
    const again = await json("--repo", REPO, "issue", "5");
    expect((again.comments as { items: O[] }).items.at(-1)).toMatchObject({
      user: "dave",
      body: "A new comment\non two lines",
    });
    const bad = await cli("redact", "add", "--login", "not a login", "--reason", "x");
    expect(bad.code).toBe(2);
  });

  it("every archive read is audited as snapshot.read, the chain's links included", async () => {
    const marker = (await readFile(join(app.dataDir, "audit.jsonl"), "utf8")).split("\n").length;
    await json("--repo", REPO, "issue", "5");
    const entries = (await readFile(join(app.dataDir, "audit.jsonl"), "utf8"))
      .split("\n")
      .slice(marker - 1)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as O);
    expect(entries.map((e) => [e.action, e.snapshotId, e.outcome])).toEqual([
      ["snapshot.read", full.id, "success"],
      ["snapshot.read", incremental.id, "success"],
    ]);
    expect(entries[0]).toMatchObject({
      repo: REPO,
      actor: expect.stringMatching(/^cli:/),
      details: { purpose: "show issue 5", for: incremental.id, bytes: full.size },
    });
  });
});
