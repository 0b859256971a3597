// An organization's own snapshot ("<org>/@org") takes the repositories' snapshot path: a format 2
// archive under the lineage's own repository key, verified like any snapshot (inline by the CLI,
// a verify request in the cloud), readable with `show --org`, shredded by `forget`. The CLI's
// `backup` takes it when the org clock (schedule.yaml orgSnapshot) has fired since the latest, or
// now with --org. Driven through the real CLI, @octokit/app and the GitHub stand-in.
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { lastRunAtOrBefore } from "../../functions/config/cron-runs.js";
import { decodeHeader, REPOSITORY_KEY_REF } from "../../functions/core/archive/header.js";
import { backupRepository } from "../../functions/core/backup.js";
import type { VerifyRequest } from "../../functions/core/messages.js";
import { backupOrgs } from "../../functions/core/org-snapshot.js";
import { planOrgRestore } from "../../functions/core/restore-org.js";
import type { Publisher } from "../../functions/core/ports.js";
import { runSnapshotRequest } from "../../functions/core/snapshot-request.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import { openApp, type LocalApp } from "../../functions/wiring.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";
import { runCli } from "../helpers/cli-run.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 727272;
const { privateKey } = appKeys();
const ENV = { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: privateKey };
/** Once a year: two backups in a test never straddle a firing. */
const YEARLY = "0 0 1 1 *";

let world: GitHubWorld;
let root: string;
let git: GitHttpServer;
let github: GitHubStandin;
let ws: TestWorkspace;
/** The core tests' app (a data folder of their own, on a clock in hand). */
let app: LocalApp;

/** Runs the CLI in-process with the App's credentials in the environment for the call. */
async function cli(...argv: string[]) {
  return runCli([...argv, "--config", ws.configFile], ENV);
}

interface Report {
  ok: boolean;
  results: {
    repo: string;
    error?: string;
    snapshot?: { outcome: string; snapshot: { id: string } };
    verify?: { verification: { verdict: string; level: string } };
  }[];
  orgsNotDue?: { org: string; latestAt: string }[];
}

async function backup(...args: string[]): Promise<Report> {
  const run = await cli("backup", "--json", "--quiet", ...args);
  expect(run.code, run.stderr + run.stdout).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

/** The archive's clear-text header, read from the stored file's first bytes. */
async function headerOf(app: LocalApp, objectKey: string) {
  const file = await open(join(app.dataDir, "archives", objectKey), "r");
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4096), 0, 4096, 0);
    const decoded = decodeHeader(buffer.subarray(0, bytesRead))!;
    return { ...decoded, version: decoded.raw.readUInt16BE(8) };
  } finally {
    await file.close();
  }
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-org-snapshot-", ["acme"]);
  ({ root, git, github } = world);
  github.addRepo("acme/app");
  await createDemoRepo(join(root, "acme", "app.git"));
  const org = github.orgMetadata("acme");
  Object.assign(org.settings, { name: "Acme Corp", two_factor_requirement_enabled: true });
  org.members.push({ login: "ada", id: 1, role: "admin" }, { login: "bob", id: 2, role: "member" });
  org.teams.push({
    team: { id: 1, slug: "core", name: "Core", privacy: "closed", permission: "push", parent: null },
    members: [{ login: "bob", id: 2, role: "maintainer" }],
    repos: [{ id: 11, full_name: "acme/app", permissions: { admin: false, push: true, pull: true } }],
  });
  ws = await workspace({}, `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`);
  await writeFile(join(ws.dir, "config", "schedule.yaml"), `version: 1\norgSnapshot: "${YEARLY}"\n`);
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
  await world?.close();
});

describe("an organization's own snapshot on the one snapshot path", () => {
  it("the CLI's backup takes it: format 2 under the org's own key, verified, once per clock firing", async () => {
    const first = await backup();
    expect(first.results.map((r) => [r.repo, r.snapshot?.outcome, r.verify?.verification.verdict])).toEqual([
      ["acme/app", "created", "ok"],
      ["acme/@org", "created", "ok"],
    ]);
    const cliApp = await openApp(ws.configFile, { env: ENV });
    try {
      const snapshot = (await cliApp.index.latest("acme/@org"))!;
      expect(snapshot.keyRef).toBe(REPOSITORY_KEY_REF);
      expect(snapshot.refs).toEqual({});
      expect(snapshot.verification).toMatchObject({ verdict: "ok", level: "deep" });
      expect(snapshot.metadata?.items).toMatchObject({ org: 1, "org-members": 2, "org-teams": 1 });
      const { header, version } = await headerOf(cliApp, snapshot.objectKey);
      expect(version).toBe(2);
      expect(header).toEqual({
        aead: "AES256_GCM_HKDF_1MB",
        keyRef: REPOSITORY_KEY_REF,
        snapshotId: snapshot.id,
        repo: "acme/@org",
        createdAt: snapshot.takenAt,
      });
      // Its data key is in its own lineage's key record, under a key apart from the repository's.
      const own = await cliApp.keyRecords!.keySet("acme/@org");
      const repo = await cliApp.keyRecords!.keySet("acme/app");
      expect(await cliApp.keyRecords!.dataKey("acme/@org", snapshot.id)).toBeDefined();
      expect(own?.keys.map((k) => k.id)).toHaveLength(1);
      expect(own!.keys[0]!.id).not.toBe(repo?.keys[0]?.id);
      const audit: { repo?: string; action?: string; snapshotId?: string }[] = [];
      for await (const entry of cliApp.auditTrail.stored()) audit.push(entry.value as (typeof audit)[number]);
      expect(
        audit.filter((e) => e.repo === "acme/@org").map((e) => `${e.action}:${e.snapshotId ?? ""}`),
      ).toEqual(expect.arrayContaining([`snapshot.created:${snapshot.id}`, `verify.passed:${snapshot.id}`]));
    } finally {
      await cliApp.close();
    }

    // The clock has not fired since: not due, and said so.
    const second = await backup();
    expect(second.results.map((r) => r.repo)).toEqual(["acme/app"]);
    expect(second.orgsNotDue?.map((n) => n.org)).toEqual(["acme"]);
    const text = await cli("backup", "--quiet");
    expect(text.stdout).toContain(`acme/@org: not due`);
    expect(text.stdout).toContain(`--org acme takes one now`);

    // --org takes one now, and only it.
    const forced = await backup("--org", "acme");
    expect(forced.results.map((r) => [r.repo, r.snapshot?.outcome, r.verify?.verification.verdict])).toEqual([
      ["acme/@org", "created", "ok"],
    ]);
    const list = await cli("list", "--org", "acme", "--json");
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(2);

    const unknown = await cli("backup", "--org", "initech");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /not an organization of the configured sources: initech \(configured: acme\)/,
    );
  });

  it("show --org reads it back as the stand-in serves it", async () => {
    const teams = await cli("show", "--org", "acme", "teams", "--json");
    expect(teams.code, teams.stderr).toBe(0);
    const parsed = JSON.parse(teams.stdout) as { repo: string; items: Record<string, unknown>[] };
    expect(parsed.repo).toBe("acme/@org");
    expect(parsed.items.map((t) => [t.slug, t.members])).toEqual([
      ["core", [{ login: "bob", id: 2, role: "maintainer" }]],
    ]);
    const members = await cli("show", "--org", "acme", "members", "--json");
    expect((JSON.parse(members.stdout) as { items: { login: string }[] }).items.map((m) => m.login)).toEqual([
      "ada",
      "bob",
    ]);
  });

  it("records a kind the App may not read (403) as unavailable, and the snapshot still succeeds", async () => {
    github.orgMetadata("acme").forbidden = new Set(["teams"]);
    try {
      const run = await backup("--org", "acme");
      expect(run.results[0]).toMatchObject({
        repo: "acme/@org",
        verify: { verification: { verdict: "ok" } },
      });
      const shown = await cli("show", "--org", "acme", "teams");
      expect(shown.stdout).toMatch(/teams: unavailable \(403 the GitHub App lacks the permission/);
      const status = await cli("status", "--json");
      const repos = (JSON.parse(status.stdout) as { repos: Record<string, unknown>[] }).repos;
      const org = repos.find((r) => r.repo === "acme/@org");
      expect(org).toMatchObject({ org: "acme", verified: true });
      expect(org?.metadataUnavailable).toEqual({
        "org-teams": expect.stringMatching(/^403: the GitHub App lacks the permission/) as unknown,
      });
      expect(repos.find((r) => r.repo === "acme/app")).not.toHaveProperty("org");
    } finally {
      github.orgMetadata("acme").forbidden = new Set();
    }
  });

  it("forget --repo acme/@org shreds every org snapshot and leaves the repositories alone", async () => {
    const forget = await cli("forget", "--repo", "acme/@org", "--reason", "test", "--confirm", "acme/@org");
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stdout).toMatch(/Forgot acme\/@org: its 1 key\(s\) are destroyed; 3 snapshot\(s\)/);
    const shown = await cli("show", "--org", "acme", "members");
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(/is shredded: acme\/@org was forgotten/);
    const again = await cli("backup", "--org", "acme", "--json");
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/a new snapshot of acme\/@org is shredded/);
    // The repository's snapshots read as before.
    const verify = await cli("verify", "--repo", "acme/app", "--json");
    expect(verify.code, verify.stderr).toBe(0);
    const settings = await cli("show", "--repo", "acme/app", "settings");
    expect(settings.code, settings.stderr).toBe(0);
  });
});

/** One snapshot of acme/app in the core test's data folder, beside the org's. */
async function openAppAndBackUpRepo(): Promise<void> {
  const repo = (await app.sources.listRepos()).find((r) => r.name === "acme/app")!;
  await backupRepository(app, repo, { incremental: false, verify: false }, { actor: "test" });
}

describe("the org snapshot from the core, with a clock in hand", () => {
  let cws: TestWorkspace;
  const clock = manualClock("2026-12-01T12:00:00.000Z");

  beforeAll(async () => {
    cws = await workspace({}, `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`);
    app = await openApp(cws.configFile, { clock, env: ENV });
  });

  afterAll(async () => {
    await app?.close();
    await cws?.cleanup();
  });

  it("is due once the org clock has fired since the latest", async () => {
    const policy = {
      incremental: false as const,
      verify: { level: "quick" as const, where: "inline" as const },
    };
    const take = () =>
      backupOrgs(app, policy, {
        actor: "test",
        dueSince: lastRunAtOrBefore("30 1 * * *", clock.now())!,
      });
    expect((await take()).results.map((r) => r.snapshot?.outcome)).toEqual(["created"]);
    clock.set("2026-12-02T01:29:00.000Z");
    expect(await take()).toMatchObject({ results: [], notDue: [{ org: "acme" }] });
    clock.set("2026-12-02T01:30:00.000Z");
    const due = await take();
    expect(due.results.map((r) => [r.snapshot?.outcome, r.verify?.verification.verdict])).toEqual([
      ["created", "ok"],
    ]);
    expect(await app.index.list("acme/@org")).toHaveLength(2);
  });

  it("is no repository to restore: restore --all leaves it out", async () => {
    await openAppAndBackUpRepo();
    const plan = await planOrgRestore(app, {
      at: clock.now().toISOString(),
      toOrg: "acme-restored",
      dryRun: true,
    });
    expect(plan.map((item) => item.repo)).toEqual(["acme/app"]);
  });

  it("in the cloud, a request for <org>/@org queues its verification like a repository's", async () => {
    const published: VerifyRequest[] = [];
    const publisher: Publisher = {
      publish: async (topic, messages) => {
        expect(topic).toBe("verify-requests");
        published.push(...(messages as VerifyRequest[]));
        return messages.map((_, i) => String(i));
      },
    };
    clock.advance(60_000);
    const outcome = await runSnapshotRequest(
      { ...app, publisher },
      { v: 1, repo: "acme/@org", reason: "schedule", requestedAt: clock.now().toISOString() },
      { incremental: false, verify: { level: "deep", where: "queue" } },
      { actor: "test", deadlineMs: 60_000 },
    );
    expect(outcome).toMatchObject({
      handedOver: false,
      verifyQueued: true,
      snapshot: { outcome: "created" },
    });
    const id = "snapshot" in outcome ? outcome.snapshot?.snapshot.id : undefined;
    expect(published).toEqual([{ v: 1, repo: "acme/@org", snapshotId: id, level: "deep" }]);
    expect((await app.index.get("acme/@org", id!))?.verification).toBeUndefined();
    // What verifySnapshot (the verify-requests handler) does with it.
    const verified = await verifySnapshot(app, "acme/@org", id!, { level: "deep", actor: "test" });
    expect(verified.verification.verdict).toBe("ok");
    expect((await app.index.get("acme/@org", id!))?.verification?.verdict).toBe("ok");
  });
});
