// The deployment end to end, on local stand-ins: a scheduled sweep over three repositories of a
// GitHub org produces three verified, KMS-encrypted snapshots indexed in Firestore; restoreRepo
// restores one exactly; a push webhook, redelivery, a malformed message, a KMS outage and a big
// repository handed to the snapshot job each behave as promised.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { git } from "../../functions/core/git/exec.js";
import { runSnapshotJob } from "../../functions/jobs/snapshot-job.js";
import { setLogWriter } from "../../functions/log.js";
import { cloudApp } from "../../functions/wiring.js";
import { objectsOf, pushCommit, refsOf } from "../helpers/git-repos.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import { PEOPLE, startCloudStack, type CloudStack } from "../helpers/cloud-stack.js";

const REPOS = ["acme/api", "acme/web", "acme/docs"];
let stack: CloudStack;
const logs: string[] = [];
const previousWriter = setLogWriter((line) => logs.push(line));
let scratch: string;
const repoPath = (name: string) => join(stack.root, `${name}.git`);

beforeAll(async () => {
  stack = await startCloudStack();
  scratch = await mkdtemp(join(tmpdir(), "infinity-e2e-"));
  for (const [i, name] of REPOS.entries()) {
    stack.github.addRepo(name);
    await createDemoRepo(repoPath(name));
    await pushCommit(repoPath(name), "main", `only-${i}.txt`, `${name}\n`);
  }
}, 120_000);

afterAll(async () => {
  setLogWriter(previousWriter);
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("scheduled sweep -> snapshot -> verify -> restore", () => {
  it("sweeps the org into one snapshot request per repository", async () => {
    const res = await stack.push("sweep", { v: 1, reason: "schedule" });
    expect(res.status).toBe(204);
    const statuses = await stack.pump("snapshot-requests", "snapshotRepo");
    expect(statuses).toEqual([204, 204, 204]);
    expect((await stack.pump("verify-requests", "verifySnapshot")).length).toBe(3);
  });

  it("indexes three verified snapshots in Firestore, encrypted under the KMS key", async () => {
    const app = await stack.app();
    expect(await app.index.repos()).toEqual([...REPOS].sort());
    for (const name of REPOS) {
      const latest = (await app.index.latest(name))!;
      expect(latest.verification).toMatchObject({ verdict: "ok", level: "deep" });
      // Its data key is in the index, wrapped by the repository's key, which KMS wraps.
      expect(latest.keyRef).toBe("repository-key");
      const keySet = await app.keyRecords!.keySet(name);
      expect(keySet!.keys.at(-1)!.keyRef).toMatch(/^projects\/.+\/cryptoKeys\/.+\/cryptoKeyVersions\/\d+$/);
      expect(await app.keyRecords!.dataKey(name, latest.id)).toMatchObject({
        keyId: keySet!.keys.at(-1)!.id,
      });
      expect(latest.refs["refs/heads/main"]).toBe(
        (await git(["rev-parse", "main"], { env: { GIT_DIR: repoPath(name) } })).trim(),
      );
      const stored = await app.store.stat(latest.objectKey);
      expect(stored?.size).toBe(latest.size);
    }
    expect(
      stack.kms.calls.filter((c) => c.method === "Encrypt" && c.code === grpc.status.OK).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it("restoreRepo writes a bundle to the restore bucket equal to the source", async () => {
    const res = await fetch(stack.url("restoreRepo"), {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.asRestorer() },
      body: JSON.stringify({ data: { repo: "acme/web", target: { kind: "bucket" } } }),
    });
    const report = await res.json();
    expect(res.status, JSON.stringify(report)).toBe(200);
    expect(report).toMatchObject({ ok: true, repo: "acme/web", refs: 4 });
    const app = await stack.app();
    const bundle = join(scratch, "web.bundle");
    const { createWriteStream } = await import("node:fs");
    const { pipeline } = await import("node:stream/promises");
    await pipeline(await app.restoreStore.get(report.target), createWriteStream(bundle));
    const cloned = join(scratch, "web-from-bundle.git");
    await git(["clone", "--quiet", "--mirror", bundle, cloned]);
    expect(await refsOf(cloned)).toBe(await refsOf(repoPath("acme/web")));
    expect(await objectsOf(cloned)).toBe(await objectsOf(repoPath("acme/web")));
  });

  it("restoreRepo creates a new GitHub repository and pushes exactly the snapshot's refs", async () => {
    const res = await fetch(stack.url("restoreRepo"), {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.asRestorer() },
      body: JSON.stringify({ repo: "acme/api", target: { kind: "github", name: "acme/api-restored" } }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await refsOf(repoPath("acme/api-restored"))).toBe(await refsOf(repoPath("acme/api")));
  });

  it("the POST functions answer another method with 405 and an Allow header", async () => {
    const webhook = await fetch(stack.url("githubWebhook"));
    expect(webhook.status).toBe(405);
    expect(webhook.headers.get("allow")).toBe("POST");
    expect((await webhook.json()).error).toMatch(/use POST, not GET/);
    // restoreRepo also answers GET: how a restore to GitHub stands.
    const restore = await fetch(stack.url("restoreRepo"), { method: "PUT" });
    expect(restore.status).toBe(405);
    expect(restore.headers.get("allow")).toBe("GET, POST");
    expect((await restore.json()).error).toMatch(/use POST \(restore\) or GET \(report\), not PUT/);
  });

  it("restoreRepo refuses a bad body with 400 and names the field", async () => {
    const res = await fetch(stack.url("restoreRepo"), {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.asRestorer() },
      body: JSON.stringify({ repo: "acme/api", target: { kind: "tape" } }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/target/);
  });

  it("restoreRepo refuses a caller outside the restorer role with 403, and no token or a forged one with 401, each recorded", async () => {
    const call = (headers: Record<string, string>) =>
      fetch(stack.url("restoreRepo"), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ repo: "acme/web", target: { kind: "bucket", key: "refused/web.bundle" } }),
      });
    const operator = await call({ authorization: `Bearer ${stack.idToken(PEOPLE.operator)}` });
    expect(operator.status).toBe(403);
    expect((await operator.json()).error).toMatch(/operator@example.com is not in the restorer role/);
    const anonymous = await call({});
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
    const otherAudience = await call({
      authorization: `Bearer ${stack.idToken(PEOPLE.restorer, { aud: "https://elsewhere.run.app" })}`,
    });
    expect(otherAudience.status).toBe(401);
    await otherAudience.arrayBuffer();
    // Nothing was restored, and each refusal is in the audit trail with who asked and why.
    const app = await stack.app();
    expect(await app.restoreStore.stat("refused/web.bundle")).toBeUndefined();
    const denied: { actor?: string; repo?: string; outcome?: string }[] = [];
    for await (const entry of app.auditTrail!.stored()) {
      const event = entry.value as { action?: string; actor?: string; repo?: string; outcome?: string };
      if (event.action === "authz.denied") denied.push(event);
    }
    expect(denied.map((e) => [e.actor, e.repo, e.outcome])).toEqual([
      ["user:operator@example.com", "acme/web", "failure"],
      ["unauthenticated", "acme/web", "failure"],
      ["unauthenticated", "acme/web", "failure"],
    ]);
  });

  it("backupHealth reports the swept repositories verified, from the index alone (no GitHub key)", async () => {
    expect(stack.envOf("backupHealth").GITHUB_APP_PRIVATE_KEY).toBeUndefined();
    const res = await fetch(stack.url("backupHealth"));
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    const byRepo = Object.fromEntries(body.repos.map((r: { repo: string }) => [r.repo, r]));
    for (const name of REPOS) expect(byRepo[name]).toMatchObject({ verified: true, problems: [] });
    expect(body.storage).toBeDefined();
    expect(JSON.stringify(body.storage)).toMatch(/STANDARD|expectedClass/);

    // A browser gets the status page: the same figures, self-contained (nothing fetched elsewhere).
    const page = await fetch(stack.url("backupHealth"), {
      headers: { accept: "text/html,application/xhtml+xml" },
    });
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    const data = JSON.parse(
      /<script id="status-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!,
    );
    expect(data.totals.repos).toBe(body.repos.length);
    // The rows travel packed (web/status-rows.ts): [name, state index, ...].
    const { states, rows } = data.packed as { states: string[]; rows: [string, number][] };
    expect(rows).toHaveLength(body.repos.length);
    for (const name of REPOS) expect(states[rows.find((r) => r[0] === name)![1]]).toBe("healthy");
  });

  it("a repository whose first backup fails is shown, with why, and alerted on", async () => {
    stack.github.addRepo("acme/ghost"); // listed by GitHub, but its git data cannot be read
    const request = { v: 1, repo: "acme/ghost", reason: "schedule", requestedAt: new Date().toISOString() };
    expect((await stack.push("snapshotRepo", request)).status).toBe(204); // permanent: acknowledged
    const res = await fetch(stack.url("backupHealth"));
    const body = await res.json();
    expect(res.status).toBe(503);
    const ghost = body.repos.find((r: { repo: string }) => r.repo === "acme/ghost");
    expect(ghost.problemKinds).toEqual(["attempt-failed", "no-snapshot"]);
    expect(ghost.problems[0]).toMatch(/last backup attempt failed at .*: /);
    expect(logs.some((l) => l.includes('"event":"stale_repo"') && l.includes("acme/ghost"))).toBe(true);
    stack.github.removeRepo("acme/ghost");
  });
});

describe("one path for sweeps and pushes", () => {
  it("sweep, push, sweep, push of an unchanged repository with a wiki: one snapshot, holding the wiki", async () => {
    const name = "acme/handbook";
    stack.github.addRepo(name, { hasWiki: true });
    await createDemoRepo(repoPath(name));
    await createDemoRepo(repoPath(`${name}.wiki`));
    const app = await stack.app();
    for (const round of ["sweep", "push", "sweep", "push"]) {
      if (round === "sweep")
        expect((await stack.push("sweep", { v: 1, reason: "rpo-sweep" })).status).toBe(204);
      else expect((await stack.signedPush(name)).status).toBe(202);
      const statuses = await stack.pump("snapshot-requests", "snapshotRepo");
      expect(
        statuses.every((s) => s === 204),
        `${round}: ${statuses}`,
      ).toBe(true);
      await stack.pump("verify-requests", "verifySnapshot");
    }
    const snapshots = await app.index.list(name);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]!.wikiRefs).toBeDefined();
    expect(Object.keys(snapshots[0]!.wikiRefs!).length).toBeGreaterThan(0);
    expect(snapshots[0]!.verification?.verdict).toBe("ok");
  });
});

describe("GitHub metadata in the same path", () => {
  const name = "acme/tracker";
  const rpoSweep = async () => {
    expect((await stack.push("sweep", { v: 1, reason: "rpo-sweep" })).status).toBe(204);
    const statuses = await stack.pump("snapshot-requests", "snapshotRepo");
    expect(
      statuses.every((s) => s === 204),
      String(statuses),
    ).toBe(true);
    await stack.pump("verify-requests", "verifySnapshot");
  };

  it("a snapshot holds the repository's issues, pull requests and releases, verified", async () => {
    stack.github.addRepo(name);
    fillMetadata(stack.github.metadata(name), { repo: name, issues: 12, comments: 20 });
    await createDemoRepo(repoPath(name));
    await rpoSweep();
    const app = await stack.app();
    const [snapshot] = await app.index.list(name);
    expect(snapshot!.metadata?.items).toMatchObject({
      issues: expect.any(Number),
      pulls: expect.any(Number),
    });
    expect(snapshot!.metadata!.items["issue-comments"]).toBe(20);
    expect(snapshot!.metadataCheckpoint).toBeDefined();
    expect(snapshot!.verification?.verdict).toBe("ok");
  });

  it("unchanged metadata and refs: a confirmation only; one new comment: an incremental snapshot of it", async () => {
    const app = await stack.app();
    const before = await app.index.list(name);
    await rpoSweep();
    expect(await app.index.list(name)).toHaveLength(before.length);
    const served = stack.github.metadata(name);
    const issue = served.issues.find((i) => i.number === 1)!;
    issue.updated_at = at(900_000);
    served.comments.push({
      id: 899_999,
      issue_url: `https://api.github.com/repos/${name}/issues/1`,
      user: { login: "dave" },
      body: "A comment after the backup",
      created_at: at(900_000),
      updated_at: at(900_000),
    });
    await rpoSweep();
    const after = await app.index.list(name);
    expect(after).toHaveLength(before.length + 1);
    expect(after[0]!.kind).toBe("incremental");
    expect(after[0]!.refs).toEqual(before[0]!.refs);
    // The delta holds the new comment (and may repeat the one updated at the previous high-water mark).
    expect(after[0]!.metadata!.items["issue-comments"]).toBeGreaterThanOrEqual(1);
    expect(after[0]!.metadata!.items["issue-comments"]).toBeLessThanOrEqual(2);
    expect(after[0]!.verification?.verdict).toBe("ok");
  });
});

describe("events", () => {
  it("a burst of comment webhooks coalesces into one metadata snapshot", async () => {
    const name = "acme/tracker";
    const app = await stack.app();
    const before = (await app.index.list(name)).length;
    const served = stack.github.metadata(name);
    for (let i = 0; i < 10; i++) {
      served.comments.push({
        id: 900_000 + i,
        issue_url: `https://api.github.com/repos/${name}/issues/2`,
        user: { login: "erin" },
        body: `burst ${i}`,
        created_at: at(950_000 + i),
        updated_at: at(950_000 + i),
      });
      expect((await stack.signedPush(name, "issue_comment")).status).toBe(202);
    }
    const statuses = await stack.pump("snapshot-requests", "snapshotRepo");
    expect(statuses).toEqual(Array(10).fill(204));
    await stack.pump("verify-requests", "verifySnapshot");
    const after = await app.index.list(name);
    expect(after).toHaveLength(before + 1);
    expect(after[0]!.metadata!.items["issue-comments"]).toBeGreaterThanOrEqual(10);
    expect(logs.filter((l) => l.includes('"event":"snapshot_satisfied"') && l.includes(name)).length).toBe(9);
  });
});

describe("what the cloud backs up", () => {
  it("every installation of the App, plus the repositories backup-config.yaml lists outside them", async () => {
    stack.github.install("umbrella");
    stack.github.addRepo("umbrella/infra");
    await createDemoRepo(repoPath("umbrella/infra"));
    const extra = join(scratch, "mirror.git");
    await createDemoRepo(extra);
    const configFile = join(scratch, "backup-config.yaml");
    await writeFile(configFile, `version: 1\nsources:\n  - name: public/mirror\n    url: ${extra}\n`);
    const app = await cloudApp("sweep", stack.envOf("sweep"), { ...stack.overrides, configFile });
    const repos = await app.sources.listRepos();
    expect(repos.map((r) => r.name)).toEqual(
      expect.arrayContaining([...REPOS, "umbrella/infra", "public/mirror"]),
    );
    const mirror = repos.find((r) => r.name === "public/mirror")!;
    // A configured repository is read as configured: no App token is sent to it.
    expect((await app.sources.gitRemote(mirror)).headers?.Authorization).toBeUndefined();
    const infra = repos.find((r) => r.name === "umbrella/infra")!;
    expect((await app.sources.gitRemote(infra)).headers?.Authorization).toMatch(/^Basic /);
  });
});

describe("at-least-once delivery and failures", () => {
  it("a redelivered snapshot request makes one snapshot", async () => {
    const app = await stack.app();
    await pushCommit(repoPath("acme/docs"), "main", "twice.txt", "twice\n");
    const request = { v: 1, repo: "acme/docs", reason: "manual", requestedAt: new Date().toISOString() };
    const before = (await app.index.list("acme/docs")).length;
    expect((await stack.push("snapshotRepo", request, "m-1")).status).toBe(204);
    expect((await stack.push("snapshotRepo", request, "m-1")).status).toBe(204);
    expect((await app.index.list("acme/docs")).length).toBe(before + 1);
    await stack.pump("verify-requests", "verifySnapshot");
  });

  it("a malformed message is acknowledged, logged and changes nothing", async () => {
    const app = await stack.app();
    const before = await app.index.list("acme/docs");
    const res = await stack.push("snapshotRepo", { v: 1, repo: "not a repo", reason: "push" });
    expect(res.status).toBe(204);
    expect(await app.index.list("acme/docs")).toEqual(before);
  });

  it("a KMS refusal fails the snapshot with nothing half-made; the next request succeeds", async () => {
    const app = await stack.app();
    await pushCommit(repoPath("acme/api"), "main", "kms.txt", "kms\n");
    const before = (await app.index.list("acme/api")).length;
    // The repository key exists (earlier snapshots): the snapshot unwraps it, and that is refused.
    stack.kms.failNext(1, grpc.status.PERMISSION_DENIED, "Decrypt");
    const request = { v: 1, repo: "acme/api", reason: "push", requestedAt: new Date().toISOString() };
    const denied = await stack.push("snapshotRepo", request);
    expect(denied.status).toBe(204); // permanent: acknowledged, logged, alerted on
    expect(
      logs.some((line) => line.includes('"event":"snapshot_failed"') && line.includes("PERMISSION_DENIED")),
    ).toBe(true);
    expect((await app.index.list("acme/api")).length).toBe(before);
    expect((await stack.push("snapshotRepo", request)).status).toBe(204);
    expect((await app.index.list("acme/api")).length).toBe(before + 1);
    const keys: string[] = [];
    for await (const blob of app.store.list("repos/acme/api/")) keys.push(blob.key);
    expect(keys.length).toBe(before + 1);
  });

  it("a signed push webhook leads to a new snapshot; a bad signature is refused", async () => {
    const app = await stack.app();
    const head = await pushCommit(repoPath("acme/web"), "feature/search", "hook.txt", "hook\n");
    const res = await stack.signedPush("acme/web");
    expect(res.status).toBe(202);
    expect(await stack.pump("snapshot-requests", "snapshotRepo")).toEqual([204]);
    expect((await app.index.latest("acme/web"))!.refs["refs/heads/feature/search"]).toBe(head);
    const forged = await fetch(stack.url("githubWebhook"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-hub-signature-256": "sha256=00",
      },
      body: JSON.stringify({ repository: { full_name: "acme/web" } }),
    });
    expect(forged.status).toBe(401);
  });

  it("a repository too big for a function is handed to the snapshot job, which snapshots it", async () => {
    const app = await stack.app();
    await pushCommit(repoPath("acme/docs"), "main", "big.txt", "big\n");
    const before = (await app.index.list("acme/docs")).length;
    const request = {
      v: 1,
      repo: "acme/docs",
      reason: "schedule",
      requestedAt: new Date().toISOString(),
      sizeBytes: 5 * 1024 ** 3,
    };
    expect((await stack.push("snapshotRepo", request)).status).toBe(204);
    expect((await app.index.list("acme/docs")).length).toBe(before);
    expect(
      await runSnapshotJob(await cloudApp("snapshotJob", stack.envOf("snapshotJob"), stack.overrides), 1500),
    ).toBe(0);
    expect((await app.index.list("acme/docs")).length).toBe(before + 1);
  });
});

describe("the organization's own snapshot in the cloud", () => {
  it("the org sweep -> snapshotRepo -> verifySnapshot: format 2 under the org's own key, verified", async () => {
    const org = stack.github.orgMetadata("acme");
    org.members.push({ login: "ada", id: 1, role: "admin" });
    org.teams.push({
      team: { id: 1, slug: "core", name: "Core", privacy: "closed", permission: "push", parent: null },
      members: [{ login: "ada", id: 1, role: "maintainer" }],
      repos: [],
    });
    expect((await stack.push("sweep", { v: 1, reason: "org" })).status).toBe(204);
    // One request per organization the sources list (earlier tests may have added another).
    const requests = await stack.pump("snapshot-requests", "snapshotRepo");
    expect(requests.length).toBeGreaterThanOrEqual(1);
    // Verified like a repository's snapshot: through a verify request, by verifySnapshot (the
    // cloud never verifies inline, so the verdict below can only come from there).
    expect(await stack.pump("verify-requests", "verifySnapshot")).toContain(204);
    const app = await stack.app();
    const latest = (await app.index.latest("acme/@org"))!;
    expect(latest.verification).toMatchObject({ verdict: "ok", level: "deep" });
    expect(latest.metadata?.items).toMatchObject({ "org-members": 1, "org-teams": 1 });
    expect(latest.keyRef).toBe("repository-key");
    const keySet = await app.keyRecords!.keySet("acme/@org");
    expect(keySet!.keys.at(-1)!.keyRef).toMatch(/^projects\/.+\/cryptoKeyVersions\/\d+$/);
    expect(await app.keyRecords!.dataKey("acme/@org", latest.id)).toMatchObject({
      keyId: keySet!.keys.at(-1)!.id,
    });
  });
});

describe("secrets", () => {
  it("no log line carries the App key, the webhook secret or an installation token", async () => {
    const { WEBHOOK_SECRET } = await import("../helpers/cloud-stack.js");
    const privateKeyBody = stack.env.GITHUB_APP_PRIVATE_KEY!.split("\n")[1]!;
    expect(logs.length).toBeGreaterThan(10);
    for (const line of logs) {
      expect(line).not.toContain(privateKeyBody);
      expect(line).not.toContain(WEBHOOK_SECRET);
      expect(line).not.toMatch(/ghs_[A-Za-z0-9]{8,}/);
    }
  });
});
