// A restore to GitHub, the parts before the items: the refusals made before anything is created,
// LFS objects uploaded through the batch API before the refs are pushed, and the settings applied
// and read back by a second backup (a round trip compared by a canonical projection). Driven on the
// GitHub stand-in with the real @octokit/app clients and a real git server.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "@octokit/app";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../functions/app.js";
import { GitHubAppSource } from "../../functions/adapters/github/app-source.js";
import { installationClients, resilientOctokit } from "../../functions/adapters/github/metadata-octokit.js";
import { GitHubMetadataSource } from "../../functions/adapters/github/metadata-source.js";
import { GitHubRestoreWriter } from "../../functions/adapters/github/restore-writer.js";
import { backupRepository } from "../../functions/core/backup.js";
import { ConflictError } from "../../functions/core/errors.js";
import { initBare, readRefs } from "../../functions/core/git/local-repo.js";
import type { LfsPointer } from "../../functions/core/lfs/pointer.js";
import type { MetadataLine } from "../../functions/core/metadata/read.js";
import type { Snapshot } from "../../functions/core/model.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { preflight, RestoreRefusedError } from "../../functions/core/restore-github/preflight.js";
import { restoreToGitHub } from "../../functions/core/restore-github/restore-to-github.js";
import {
  applySettings,
  readSettings,
  type SnapshotSettings,
} from "../../functions/core/restore-github/settings.js";
import { openApp, type LocalApp } from "../../functions/wiring.js";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import { serveItemWrites } from "../helpers/github-standin-writes.js";
import { LfsStandin } from "../helpers/github-standin-lfs.js";
import { serveSettingsWrites, type SettingsWrite } from "../helpers/github-standin-settings.js";
import {
  FULL_RESTORE_PERMISSIONS,
  startGitHubStandin,
  type GitHubStandin,
} from "../helpers/github-standin.js";
import { commitFiles } from "../helpers/lfs-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 626262;
const actor = "test:restore-settings";
const { publicKey, privateKey } = appKeys();
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let root: string;
let github: GitHubStandin;
let lfs: LfsStandin;
let gitServer: GitHttpServer;
let ws: TestWorkspace;
let app: LocalApp;
let source: GitHubAppSource;
let writer: GitHubRestoreWriter;
let writes: SettingsWrite[];
let snapshot: Snapshot;
const objects = new Map<string, Buffer>();

function lfsObject(size: number): LfsPointer {
  const bytes = randomBytes(size);
  const pointer = lfs.put("acme/app", bytes);
  objects.set(pointer.oid, bytes);
  return pointer;
}

async function backup(repo: string): Promise<Snapshot> {
  const found = await app.sources.getRepo(repo);
  if (!found) throw new Error(`${repo} is not a source`);
  const result = await backupRepository(app, found, backupPolicy(app.settings, "inline"), { actor });
  if (result.error) throw new Error(result.error);
  return result.snapshot!.snapshot;
}

/** What a restore must not have done: create a repository, or write to one. */
function creations(from: number) {
  return github.requests
    .slice(from)
    .filter((r) => r.method !== "GET" && !r.url.startsWith("/app/installations/") && r.url !== "/graphql");
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "infinity-restore-github-"));
  github = await startGitHubStandin({ appId: APP_ID, publicKey, gitUrl: "", gitRoot: root });
  lfs = await new LfsStandin((password, repo) => github.canRead(password, repo)).start();
  gitServer = await startGitHttpServer({
    root,
    checkPassword: (password, repo) => github.canRead(password, repo),
    lfs: (req, res, repo) => lfs.handleBatch(req, res, repo),
  });
  writes = serveSettingsWrites(github);
  github.install("acme");
  github.install("restored");
  github.addRepo("acme/app");
  const bare = join(root, "acme", "app.git");
  await initBare(bare);
  await commitFiles(bare, "main", {
    "README.md": "# app\n",
    "assets/big.bin": lfsObject(1_300_000),
    "assets/small.bin": lfsObject(5_000),
  });
  await commitFiles(bare, "release/1.x", { "assets/tiny.bin": lfsObject(3) });
  fillMetadata(github.metadata("acme/app"), { repo: "acme/app", issues: 4, comments: 4 });
  ws = await workspace(
    {},
    `github:\n  owners: [acme, restored]\n  apiUrl: ${github.url}\n  gitUrl: ${gitServer.url}\n`,
  );
  app = await openApp(ws.configFile, {
    env: { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: privateKey },
  });
  const octokitApp = new App({
    appId: APP_ID,
    privateKey,
    log,
    Octokit: resilientOctokit({ baseUrl: github.url, log, msPerSecond: 5 }),
  });
  source = new GitHubAppSource({ app: octokitApp, gitBaseUrl: gitServer.url });
  writer = new GitHubRestoreWriter({ app: octokitApp, owners: ["acme", "restored"] });
  snapshot = await backup("acme/app");
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await gitServer?.close();
  await lfs?.close();
  await github?.close();
  await rm(root, { recursive: true, force: true });
});

// The canonical projection of a repository's settings: what a restore promises to carry over, read
// the same way from the original's snapshot and from the restored repository's.
const off = (v: unknown) => v === true;
function canon(settings: SnapshotSettings) {
  const repo = settings.repository ?? {};
  const pick = (line: MetadataLine, fields: string[]) =>
    Object.fromEntries(fields.filter((f) => line[f] !== undefined).map((f) => [f, line[f]]));
  return {
    repository: pick(repo, [
      "description",
      "homepage",
      "topics",
      "visibility",
      "private",
      "default_branch",
      "has_issues",
      "has_projects",
      "has_wiki",
      "has_discussions",
      "allow_squash_merge",
      "allow_merge_commit",
      "allow_rebase_merge",
      "allow_auto_merge",
      "delete_branch_on_merge",
      "squash_merge_commit_title",
      "squash_merge_commit_message",
    ]),
    protections: (settings.protections ?? []).map((p) => {
      const checks = p.required_status_checks as
        | { strict?: boolean; contexts?: string[]; checks?: { context: string; app_id: number | null }[] }
        | null
        | undefined;
      return {
        branch: p.branch,
        checks: checks ? { strict: checks.strict, checks: checks.checks ?? checks.contexts } : null,
        enforce_admins: off(p.enforce_admins),
        reviews: p.required_pull_request_reviews ?? null,
        restrictions: p.restrictions ?? null,
        flags: [
          "required_signatures",
          "required_linear_history",
          "allow_force_pushes",
          "allow_deletions",
        ].map((f) => off(p[f])),
        resolution: off(p.required_conversation_resolution),
      };
    }),
    rulesets: (settings.rulesets ?? []).map((r) =>
      pick(r, ["name", "target", "enforcement", "bypass_actors", "conditions", "rules"]),
    ),
    autolinks: (settings.autolinks ?? []).map((a) =>
      pick(a, ["key_prefix", "url_template", "is_alphanumeric"]),
    ),
    hooks: (settings.hooks ?? []).map((h) => pick(h, ["name", "active", "events", "config"])),
    keys: (settings.deployKeys ?? []).map((k) => pick(k, ["title", "key", "read_only"])),
  };
}

describe("refusals before anything is created", () => {
  it("a target outside the configured installations", async () => {
    const from = github.requests.length;
    const refused = preflight({ github: writer, index: app.index }, snapshot, { target: "elsewhere/app" });
    await expect(refused).rejects.toThrow(RestoreRefusedError);
    await expect(refused).rejects.toThrow(
      /elsewhere is outside the configured GitHub App installations \(acme, restored\)/,
    );
    expect(creations(from)).toEqual([]);
  });

  it("the source repository, unless the request says so explicitly", async () => {
    const from = github.requests.length;
    await expect(
      preflight({ github: writer, index: app.index }, snapshot, { target: "ACME/app" }),
    ).rejects.toThrow(/it is the repository the snapshot was taken of/);
    // Said explicitly: the next rule still holds (it exists and has content).
    await expect(
      preflight({ github: writer, index: app.index }, snapshot, {
        target: "acme/app",
        intoSource: true,
        intoExistingEmpty: true,
      }),
    ).rejects.toThrow(/acme\/app: it is not empty \(it has refs, issues, releases\)/);
    expect(creations(from)).toEqual([]);
  });

  it("missing App permissions, each named", async () => {
    const from = github.requests.length;
    github.permissions = { ...FULL_RESTORE_PERMISSIONS, issues: "read", administration: "read" };
    // A fresh writer: the installation (and its permissions) is looked up once per writer.
    const fresh = new GitHubRestoreWriter({
      app: new App({
        appId: APP_ID,
        privateKey,
        log,
        Octokit: resilientOctokit({ baseUrl: github.url, log, msPerSecond: 5 }),
      }),
    });
    try {
      await expect(
        preflight({ github: fresh, index: app.index }, snapshot, { target: "restored/new" }),
      ).rejects.toThrow(/lacks administration: write, issues: write \(it has .*administration: read/);
      // Code and settings only need no issues permission.
      github.permissions = { ...FULL_RESTORE_PERMISSIONS, issues: "read", pull_requests: "read" };
      const fresher = new GitHubRestoreWriter({
        app: new App({
          appId: APP_ID,
          privateKey,
          log,
          Octokit: resilientOctokit({ baseUrl: github.url, log }),
        }),
      });
      await expect(
        preflight({ github: fresher, index: app.index }, snapshot, { target: "restored/new", items: false }),
      ).resolves.toMatchObject({ warnings: [] });
    } finally {
      github.permissions = { ...FULL_RESTORE_PERMISSIONS };
    }
    expect(creations(from)).toEqual([]);
  });

  it("a refusal through the use case is an audit entry naming its reason (restore.refused)", async () => {
    const from = github.requests.length;
    await expect(
      restoreToGitHub(
        { ...app, github: app.githubRestore! },
        { repo: "acme/app", snapshotId: snapshot.id, target: "elsewhere/app" },
        { actor },
      ),
    ).rejects.toThrow(RestoreRefusedError);
    const refused: string[] = [];
    for await (const stored of app.auditTrail.stored()) {
      const text = JSON.stringify(stored.value);
      if (text.includes('"restore.refused"')) refused.push(text);
    }
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/elsewhere is outside the configured GitHub App installations/);
    expect(refused[0]).toContain("github:elsewhere/app");
    expect(refused[0]).toContain(actor);
    expect(creations(from)).toEqual([]);
  });

  it("an existing repository: refused unless allowed and empty", async () => {
    await source.createRepo("restored/empty", { private: true });
    const from = github.requests.length;
    await expect(
      preflight({ github: writer, index: app.index }, snapshot, { target: "restored/empty" }),
    ).rejects.toThrow(ConflictError);
    await expect(
      preflight({ github: writer, index: app.index }, snapshot, { target: "restored/empty" }),
    ).rejects.toThrow(/restored\/empty: it exists/);
    const allowed = await preflight({ github: writer, index: app.index }, snapshot, {
      target: "restored/empty",
      intoExistingEmpty: true,
    });
    expect(allowed.existing).toMatchObject({ fullName: "restored/empty", content: [] });
    expect(creations(from)).toEqual([]);
  });
});

describe("a restore to GitHub: LFS before refs, then settings", () => {
  it("uploads the LFS objects before the refs, and the settings read back equal the original's", async () => {
    const checked = await preflight({ github: writer, index: app.index }, snapshot, {
      target: "restored/app",
      hooks: true,
    });
    expect(checked).toEqual({ warnings: [] });
    const gitFrom = gitServer.requests.length;
    lfs.faults.upload5xx = 1; // one upload answered 503: retried with the whole object again
    const remote = await source.gitRemote(await source.createRepo("restored/app", { private: true }));
    const restored = await restoreRepo(
      app,
      { repo: "acme/app", snapshotId: snapshot.id, target: { kind: "push", remote } },
      { actor },
    );
    // LFS: every object uploaded, streamed, its bytes equal; the batch came before the first push.
    const total = [...objects.values()].reduce((sum, b) => sum + b.length, 0);
    expect(restored.lfs).toEqual({ objects: 3, uploaded: 3, bytes: total });
    for (const [oid, bytes] of objects) expect(lfs.bytesOf("restored/app", oid)?.equals(bytes)).toBe(true);
    expect(lfs.faults.upload5xx).toBe(0);
    expect(lfs.uploads).toHaveLength(3); // the refused attempt kept nothing
    const big = lfs.uploads.find((u) => u.size === 1_300_000)!;
    expect(big.largestChunk).toBeLessThan(big.size);
    const order = gitServer.requests.slice(gitFrom).map((r) => r.url);
    const batchAt = order.findIndex((u) => u.includes("/info/lfs/objects/batch"));
    const pushAt = order.findIndex((u) => u.includes("git-receive-pack"));
    expect(batchAt).toBeGreaterThanOrEqual(0);
    expect(batchAt).toBeLessThan(pushAt);
    expect(await readRefs(join(root, "restored", "app.git"))).toEqual(snapshot.refs);

    const report = await applySettings({ ...app, github: writer }, snapshot, "restored/app", {
      actor,
      hooks: true,
      deployKeys: true,
    });
    expect(report.failed).toEqual([]);
    expect(report.missing).toEqual([]);
    expect(report.applied).toEqual(
      expect.arrayContaining([
        "repository settings",
        "topics",
        "branch protection of main",
        "branch protection of release/1.x",
        "ruleset main rules",
        "autolink JIRA-",
        "webhook to hooks.example.com",
        "deploy key deploy",
      ]),
    );
    // No write carried a secret, and the restored webhook has none.
    expect(github.metadata("restored/app").hooks.every((h) => !("secret" in (h.config as object)))).toBe(
      true,
    );

    const copy = await backup("restored/app");
    const [original, restoredSettings] = await Promise.all([
      readSettings(app, snapshot, actor),
      readSettings(app, copy, actor),
    ]);
    expect(canon(restoredSettings.settings)).toEqual(canon(original.settings));
    expect(canon(original.settings).protections).toHaveLength(2);
    expect(canon(original.settings).repository).toMatchObject({
      visibility: "private",
      topics: ["backup", "demo"],
    });
  });

  it("webhooks and deploy keys only on request", async () => {
    const remote = await source.gitRemote(await source.createRepo("restored/plain", { private: true }));
    await restoreRepo(
      app,
      { repo: "acme/app", snapshotId: snapshot.id, target: { kind: "push", remote } },
      { actor },
    );
    const from = writes.length;
    const report = await applySettings({ ...app, github: writer }, snapshot, "restored/plain", { actor });
    expect(report.failed).toEqual([]);
    expect(report.skipped.map((s) => s.what)).toEqual(["1 webhook(s)", "1 deploy key(s)"]);
    const made = writes.slice(from).map((w) => w.rest);
    expect(made).not.toContain("/hooks");
    expect(made).not.toContain("/keys");
    expect(github.metadata("restored/plain").hooks).toEqual([]);
  });

  it("never more public than the original without the explicit flag", async () => {
    const from = writes.length;
    await expect(
      applySettings({ ...app, github: writer }, snapshot, "restored/plain", { actor, visibility: "public" }),
    ).rejects.toThrow(/refusing to make the restored repository public: the original was private/);
    expect(writes.slice(from)).toEqual([]);
    const report = await applySettings({ ...app, github: writer }, snapshot, "restored/plain", {
      actor,
      visibility: "public",
      allowMorePublic: true,
    });
    expect(report.applied).toContain("repository settings");
    expect(github.repository("restored/plain").visibility).toBe("public");
  });
});

describe("attachments on a restore to GitHub", () => {
  it("copies each attachment beside the restore and rewrites the bodies that link it to the copy", async () => {
    // GitHub has no public API to upload an attachment: the copy is the restore's own file.
    const repo = "acme/attach";
    github.addRepo(repo);
    const bare = join(root, "acme", "attach.git");
    await initBare(bare);
    await commitFiles(bare, "main", { "README.md": "# attach\n" });
    const { web, images, privateImages } = github.userContent.origins;
    const bytes = randomBytes(70_000);
    const path = `/user-attachments/assets/${randomUUID()}`;
    const url = `${web}${path}`;
    const meta = github.metadata(repo);
    meta.attachments.set(path, { host: "web", bytes, contentType: "image/png" });
    meta.settings.has_issues = true;
    const user = { login: "alice", id: 5, type: "User" };
    meta.issues.push({
      url: `https://api.github.com/repos/${repo}/issues/1`,
      id: 501,
      number: 1,
      title: "Broken screen",
      body: `See ![screen](${url}) and [again](${url}#top).`,
      user,
      labels: [],
      state: "open",
      locked: false,
      assignees: [],
      milestone: null,
      comments: 1,
      author_association: "MEMBER",
      created_at: at(10),
      updated_at: at(11),
      closed_at: null,
    });
    meta.comments.push({
      id: 9001,
      issue_url: `https://api.github.com/repos/${repo}/issues/1`,
      user,
      body: `Still ${url}`,
      author_association: "MEMBER",
      created_at: at(12),
      updated_at: at(12),
    });
    // The backup's metadata source knows the stand-in's user-content hosts.
    const octokitApp = new App({
      appId: APP_ID,
      privateKey,
      log,
      Octokit: resilientOctokit({ baseUrl: github.url, log, msPerSecond: 5 }),
    });
    const metadata = new GitHubMetadataSource({
      octokitFor: installationClients(octokitApp),
      userContent: { web, images: [images, privateImages] },
    });
    const found = await app.sources.getRepo(repo);
    const result = await backupRepository(
      { ...app, metadata },
      found!,
      backupPolicy(app.settings, "inline"),
      { actor },
    );
    expect(result.error).toBeUndefined();
    const taken = result.snapshot!.snapshot;
    serveItemWrites(github);
    try {
      const outcome = await restoreToGitHub(
        { ...app, github: app.githubRestore! },
        {
          repo,
          snapshotId: taken.id,
          target: "restored/attach",
          pacing: { perMinute: Infinity, perHour: Infinity, msPerSecond: 20 },
        },
        { actor },
      );
      expect(outcome.attachments).toMatchObject({ copied: 1, notStored: 0 });
      const restored = github.metadata("restored/attach");
      const bodies = [String(restored.issues[0]!.body), String(restored.comments[0]!.body)];
      for (const body of bodies) expect(body).not.toContain(url);
      const links = bodies.flatMap((b) => [...b.matchAll(/file:\/\/[^\s)]+/g)].map((m) => m[0]));
      expect(links).toHaveLength(3);
      expect(new Set(links).size).toBe(1);
      expect((await readFile(fileURLToPath(links[0]!))).equals(bytes)).toBe(true);
      expect(bodies[0]).toMatch(/See !\[screen\]\(file:\/\/[^)]+\) and \[again\]\(file:/);
    } finally {
      github.routes.pop();
    }
  });
});
