// restoreOrg in the deployment, on local stand-ins: two repositories of an org are backed up by the
// scheduled sweep, change after a moment T, and are restored as of T into another org through
// restoreOrg (HTTP, restorer role) and its Pub/Sub fan-out (restore-requests -> restoreOrgRepo).
// Each restored repository equals its source at T: refs, and the canonical projection the
// restore-github tests use. A dry run creates and publishes nothing; the report read back (GET)
// names each repository's snapshot, its distance from T and its outcome. A restore run with a
// tiny deadline hands itself on step by step and still ends equal, creating nothing twice.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { v1 } from "@google-cloud/pubsub";
import * as grpc from "@grpc/grpc-js";
import type { CloudEvent, Request, Response } from "@google-cloud/functions-framework";
import type { CloudApp } from "../../functions/app.js";
import { restoreHandler } from "../../functions/handlers/restore.js";
import { runSnapshotJob } from "../../functions/jobs/snapshot-job.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { restoreOrgRepoHandler } from "../../functions/handlers/restore-org.js";
import { setLogWriter } from "../../functions/log.js";
import { cloudApp, packageRoot } from "../../functions/wiring.js";
import { emulators } from "../helpers/emulators.js";
import { pushCommit, refsOf } from "../helpers/git-repos.js";
import { at } from "../helpers/github-metadata-fixture.js";
import type { RepoMetadata } from "../helpers/github-standin-metadata.js";
import { serveSettingsWrites } from "../helpers/github-standin-settings.js";
import { serveItemWrites } from "../helpers/github-standin-writes.js";
import { projection } from "../helpers/restore-projection.js";
import { PEOPLE, startCloudStack, type CloudStack } from "../helpers/cloud-stack.js";

const REPOS = ["acme/api", "acme/web"];
let stack: CloudStack;
let T: string;
const previousWriter = setLogWriter(() => {});
const repoPath = (name: string) => join(stack.root, `${name}.git`);
/** Each source as it was at T: its refs and its projection. */
const atT = new Map<string, { refs: string; projection: unknown }>();

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

/** Labels, a milestone, three issues (one closed) with comments. */
function sourceMetadata(meta: RepoMetadata, repo: string) {
  const api = `https://api.github.com/repos/${repo}`;
  meta.settings.has_issues = true;
  meta.labels.push(
    { id: 1, name: "bug", color: "d73a4a", description: "Something is broken", default: true },
    { id: 2, name: "docs", color: "0075ca", description: null, default: false },
  );
  const milestone = {
    id: 901,
    number: 1,
    title: "v1",
    description: "First",
    creator: user("alice"),
    open_issues: 0,
    closed_issues: 0,
    state: "open",
    created_at: at(1),
    updated_at: at(1),
    due_on: null,
    closed_at: null,
  };
  meta.milestones.push(milestone);
  const issue = (n: number, extra: Record<string, unknown>) => ({
    url: `${api}/issues/${n}`,
    id: 100 + n,
    number: n,
    title: `${repo} item ${n}`,
    body: `Body of ${n} in ${repo}`,
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
  meta.issues.push(
    issue(1, { labels: [{ name: "bug", color: "d73a4a" }], milestone }),
    issue(2, { state: "closed", state_reason: "completed", closed_at: at(300) }),
    issue(3, { labels: [{ name: "docs", color: "0075ca" }] }),
  );
  for (const [i, n] of [1, 1, 3].entries())
    meta.comments.push({
      id: 7000 + i,
      url: `${api}/issues/comments/${7000 + i}`,
      issue_url: `${api}/issues/${n}`,
      body: `Comment ${i} on ${n}`,
      user: user(i % 2 ? "bob" : "alice"),
      author_association: "MEMBER",
      reactions,
      created_at: at(400 + i),
      updated_at: at(400 + i),
    });
}

async function call(method: "GET" | "POST", body?: Record<string, unknown>) {
  const query = method === "GET" ? `?${new URLSearchParams(body as Record<string, string>)}` : "";
  const res = await fetch(stack.url("restoreOrg") + query, {
    method,
    headers: { "content-type": "application/json", ...stack.asRestorer() },
    ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, report: (await res.json()) as Record<string, unknown> & { items: Item[] } };
}
type Item = Record<string, unknown> & { repo: string; state: string; target: string };

const writesTo = (owner: string) =>
  stack.github.requests.filter(
    (r) => r.method !== "GET" && !r.url.includes("access_tokens") && r.url.includes(`/${owner}`),
  );

beforeAll(async () => {
  stack = await startCloudStack();
  serveSettingsWrites(stack.github);
  serveItemWrites(stack.github);
  stack.github.install("restored");
  for (const name of REPOS) {
    stack.github.addRepo(name);
    await createDemoRepo(repoPath(name));
    sourceMetadata(stack.github.metadata(name), name);
  }
  expect((await stack.push("sweep", { v: 1, reason: "schedule" })).status).toBe(204);
  expect(await stack.pump("snapshot-requests", "snapshotRepo")).toEqual([204, 204]);
  await stack.pump("verify-requests", "verifySnapshot");
  for (const name of REPOS)
    atT.set(name, {
      refs: await refsOf(repoPath(name)),
      projection: JSON.parse(JSON.stringify(projection(stack.github.metadata(name)))),
    });
  await sleep(1100);
  T = new Date().toISOString();
  await sleep(1100);
  // After T: api moves on and gets a new issue; the restore as of T has neither.
  await pushCommit(repoPath("acme/api"), "main", "after-t.txt", "after T\n");
  const meta = stack.github.metadata("acme/api");
  meta.issues.push({ ...meta.issues[2]!, id: 104, number: 4, title: "after T", created_at: at(900) });
  expect((await stack.push("sweep", { v: 1, reason: "reconcile" })).status).toBe(204);
  expect(await stack.pump("snapshot-requests", "snapshotRepo")).toEqual([204, 204]);
  await stack.pump("verify-requests", "verifySnapshot");
}, 180_000);

afterAll(async () => {
  setLogWriter(previousWriter);
  await stack?.close();
});

describe("restoreOrg: a whole organization as of T, fanned out through Pub/Sub", () => {
  it("a dry run lists each repository's snapshot at or before T, creates nothing and publishes nothing", async () => {
    const before = writesTo("restored").length;
    const { status, report } = await call("POST", { at: T, toOrg: "restored", dryRun: true });
    expect(status, JSON.stringify(report)).toBe(200);
    expect(report).toMatchObject({ dryRun: true, counts: { planned: 2 } });
    const app = await stack.app();
    for (const item of report.items) {
      expect(item.state).toBe("planned");
      expect(item.target).toBe(item.repo.replace("acme/", "restored/"));
      // The snapshot at or before T, not the newer one.
      expect(String(item.takenAt) < T).toBe(true);
      if (item.repo === "acme/api") expect((await app.index.latest(item.repo))!.id).not.toBe(item.snapshotId);
      expect(item.behindSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(await stack.pump("restore-requests", "restoreOrgRepo")).toEqual([]);
    expect(writesTo("restored").length).toBe(before);
  });

  it("refuses a caller outside the restorer role, and a body without a target", async () => {
    const operator = await fetch(stack.url("restoreOrg"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${stack.idToken(PEOPLE.operator)}`,
      },
      body: JSON.stringify({ at: T, toOrg: "restored" }),
    });
    expect(operator.status).toBe(403);
    await operator.arrayBuffer();
    const { status, report } = await call("POST", { at: T });
    expect(status).toBe(400);
    expect(String(report.error)).toMatch(/toOrg or prefix/);
    expect(await stack.pump("restore-requests", "restoreOrgRepo")).toEqual([]);
  });

  it("restores each repository as it was at T into the target org; the report says each one's outcome", async () => {
    const queued = await call("POST", { at: T, toOrg: "restored" });
    expect(queued.status, JSON.stringify(queued.report)).toBe(200);
    expect(queued.report.counts).toEqual({ queued: 2 });
    const waiting = await call("GET", { at: T, toOrg: "restored" });
    expect(waiting.report.counts).toEqual({ queued: 2 });
    expect(await stack.pump("restore-requests", "restoreOrgRepo")).toEqual([204, 204]);
    for (const name of REPOS) {
      const target = name.replace("acme/", "restored/");
      expect(await refsOf(repoPath(target))).toBe(atT.get(name)!.refs);
      expect(projection(stack.github.metadata(target))).toEqual(atT.get(name)!.projection);
    }
    // api's source moved on after T: the restore is not it.
    expect(await refsOf(repoPath("acme/api"))).not.toBe(atT.get("acme/api")!.refs);
    const done = await call("GET", { at: T, toOrg: "restored" });
    expect(done.status).toBe(200);
    expect(done.report.counts).toEqual({ restored: 2 });
    for (const item of done.report.items)
      expect(item).toMatchObject({
        state: "restored",
        takenAt: expect.any(String),
        behindSeconds: expect.any(Number),
        endedAt: expect.any(String),
        note: expect.stringMatching(/3 issues/),
      });
  });

  it("a target the App is not installed on is refused before anything is created, audited, and reported failed", async () => {
    const from = stack.github.requests.length;
    const queued = await call("POST", { at: T, toOrg: "elsewhere", include: ["acme/web"] });
    expect(queued.report.counts).toEqual({ queued: 1 });
    // Refused for good: acknowledged (no retry, no dead letter).
    expect(await stack.pump("restore-requests", "restoreOrgRepo")).toEqual([204]);
    expect(
      stack.github.requests.slice(from).filter((r) => r.method !== "GET" && !r.url.includes("access_tokens")),
    ).toEqual([]);
    const report = await call("GET", { at: T, toOrg: "elsewhere", include: ["acme/web"] });
    expect(report.report.items[0]).toMatchObject({
      state: "failed",
      error: expect.stringMatching(/elsewhere is outside the configured GitHub App installations/),
    });
    const refused: string[] = [];
    for await (const stored of (await stack.app("restoreOrgRepo")).auditTrail!.stored()) {
      const text = JSON.stringify(stored.value);
      if (text.includes('"restore.refused"')) refused.push(text);
    }
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain("github:elsewhere/web");
    expect(refused[0]).toContain(`user:${PEOPLE.restorer}`);
  });

  it("past its deadline a restore hands itself on, and the next runs continue from the journal, creating nothing twice", async () => {
    // restoreOrgRepo with a 1 ms deadline: every run writes one step, then publishes itself again.
    const configFile = join(stack.root, `tiny-deadline-${randomBytes(4).toString("hex")}.yaml`);
    const packaged = await readFile(join(packageRoot(), "config", "backup-config.yaml"), "utf8");
    await writeFile(
      configFile,
      packaged
        .replace(/restoreDeadlineSeconds: \d+/, "restoreDeadlineSeconds: 0.001")
        // A push is not "too long for a function" here: what is under test is the step-by-step hand-off.
        .replace(/restorePushBytesPerSecond: \d+/, "restorePushBytesPerSecond: 1000000000000"),
    );
    const app = await cloudApp("restoreOrgRepo", stack.envOf("restoreOrgRepo"), {
      ...stack.overrides,
      configFile,
    });
    expect(app.settings.backup.cloud.restoreDeadlineSeconds).toBe(0.001);
    const handler = restoreOrgRepoHandler(async () => app);
    const from = stack.github.requests.length;
    const queued = await call("POST", {
      at: T,
      prefix: "handoff-",
      toOrg: "restored",
      include: ["acme/web"],
    });
    expect(queued.report.counts).toEqual({ queued: 1 });
    const runs = await drain(handler);
    expect(runs).toBeGreaterThan(5);
    const target = "restored/handoff-web";
    expect(await refsOf(repoPath(target))).toBe(atT.get("acme/web")!.refs);
    expect(projection(stack.github.metadata(target))).toEqual(atT.get("acme/web")!.projection);
    // Nothing twice: one repository created, each issue and comment made once.
    const created = stack.github.requests
      .slice(from)
      .filter((r) => r.method === "POST" && /^\/orgs\/restored\/repos/.test(r.url));
    expect(created.length).toBe(1);
    expect(stack.github.metadata(target).issues.length).toBe(3);
    expect(stack.github.metadata(target).comments.length).toBe(3);
    const report = await call("GET", { at: T, prefix: "handoff-", toOrg: "restored", include: ["acme/web"] });
    expect(report.report.items[0]).toMatchObject({
      state: "restored",
      note: expect.stringMatching(/continued/),
    });
  });
});

describe("restores handed to the Cloud Run job", () => {
  it("restoreRepo's github target past its deadline answers 202, and the job continues from the journal", async () => {
    const app = await tinyDeadlineApp(
      "restoreRepo",
      "restoreDeadlineSeconds: 0.001",
      "restorePushBytesPerSecond: 1000000000000",
    );
    const target = "restored/job-web";
    const query = {
      repo: "acme/web",
      "target.kind": "github",
      "target.name": target,
      "target.private": "false",
    };
    const first = await callRestoreRepo(app, "POST", query);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({
      state: "continuing",
      handedTo: "snapshot-job",
      done: expect.any(Number),
    });
    const snapshotId = (first.body.snapshot as { id: string }).id;
    // Nothing queued for restoreOrgRepo: the rest is the job's.
    expect(await stack.pump("restore-requests", "restoreOrgRepo")).toEqual([]);
    const waiting = await callRestoreRepo(app, "GET", { ...query, snapshotId });
    expect(waiting.body).toMatchObject({ state: "continuing", handedTo: "snapshot-large" });
    expect(await runJob()).toBe(0);
    expect(await refsOf(repoPath(target))).toBe(atT.get("acme/web")!.refs);
    expect(projection(stack.github.metadata(target))).toEqual(atT.get("acme/web")!.projection);
    expect(stack.github.metadata(target).issues.length).toBe(3);
    expect(stack.github.metadata(target).comments.length).toBe(3);
    const done = await callRestoreRepo(app, "GET", { ...query, snapshotId });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      ok: true,
      state: "restored",
      note: expect.stringMatching(/continued/),
    });
    // A value the schema cannot take is named, before anything is restored.
    const bad = await callRestoreRepo(app, "GET", { ...query, "target.private": "perhaps" });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/target\.private: expected true or false/);
  });

  it("restoreOrgRepo sends a code push too long for a function straight to the job", async () => {
    const app = await tinyDeadlineApp("restoreOrgRepo", "restorePushBytesPerSecond: 1");
    const handler = restoreOrgRepoHandler(async () => app);
    const from = stack.github.requests.length;
    const queued = await call("POST", { at: T, prefix: "big-", toOrg: "restored", include: ["acme/web"] });
    expect(queued.report.counts).toEqual({ queued: 1 });
    expect(await drain(handler)).toBe(1);
    const target = "restored/big-web";
    // The function made the repository and pushed nothing: the push is the job's.
    expect(await refsOf(repoPath(target))).toBe("");
    const waiting = await call("GET", { at: T, prefix: "big-", toOrg: "restored", include: ["acme/web"] });
    expect(waiting.report.items[0]).toMatchObject({
      state: "continuing",
      handedTo: "snapshot-large",
      done: expect.any(Number),
      total: expect.any(Number),
      note: expect.stringMatching(/code push/),
    });
    expect(await runJob()).toBe(0);
    expect(await refsOf(repoPath(target))).toBe(atT.get("acme/web")!.refs);
    expect(projection(stack.github.metadata(target))).toEqual(atT.get("acme/web")!.projection);
    const created = stack.github.requests
      .slice(from)
      .filter((r) => r.method === "POST" && /^\/orgs\/restored\/repos/.test(r.url));
    expect(created.length).toBe(1);
    const report = await call("GET", { at: T, prefix: "big-", toOrg: "restored", include: ["acme/web"] });
    expect(report.report.items[0]).toMatchObject({ state: "restored" });
  });

  it("GET restoreOrg reads booleans from the query (?dryRun=true&private=false)", async () => {
    const res = await fetch(
      `${stack.url("restoreOrg")}?${new URLSearchParams({ at: T, toOrg: "restored", dryRun: "true", private: "false" })}`,
      { headers: stack.asRestorer() },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { counts: unknown }).counts).toEqual({ restored: 2 });
  });
});

/** A workload's app with one line of the packaged backup-config.yaml changed. */
async function tinyDeadlineApp(workload: "restoreRepo" | "restoreOrgRepo", ...lines: string[]) {
  const configFile = join(stack.root, `config-${randomBytes(4).toString("hex")}.yaml`);
  const packaged = await readFile(join(packageRoot(), "config", "backup-config.yaml"), "utf8");
  let changed = packaged;
  for (const line of lines) {
    const next = changed.replace(new RegExp(`${line.split(":")[0]!}: \\d+`), line);
    expect(next).not.toBe(changed);
    changed = next;
  }
  await writeFile(configFile, changed);
  return cloudApp(workload, stack.envOf(workload), { ...stack.overrides, configFile });
}

/** restoreRepo's handler called as the platform would, with the query (and no body). */
async function callRestoreRepo(app: CloudApp, method: "GET" | "POST", query: Record<string, string>) {
  const headers: Record<string, string> = stack.asRestorer();
  const req = { method, query, body: {}, headers, get: (h: string) => headers[h.toLowerCase()] };
  let status = 0;
  let body: Record<string, unknown> = {};
  const res = {
    status(code: number) {
      status = code;
      return res;
    },
    json(value: Record<string, unknown>) {
      body = value;
      return res;
    },
    set: () => res,
  };
  await restoreHandler(async () => app)(req as unknown as Request, res as unknown as Response);
  return { status, body };
}

async function runJob(): Promise<number> {
  return runSnapshotJob(await cloudApp("snapshotJob", stack.envOf("snapshotJob"), stack.overrides), 1500);
}

/** Delivers restore-requests to `handler` until none is left; returns how many runs it took. */
async function drain(handler: (event: CloudEvent<unknown>) => Promise<void>): Promise<number> {
  const { projectId, pubsubHost } = emulators();
  const [host, port] = pubsubHost.split(":");
  const subscriber = new v1.SubscriberClient({
    servicePath: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
  const subscription = `projects/${projectId}/subscriptions/${stack.subscription["restore-requests"]}`;
  let runs = 0;
  try {
    for (let idle = 0; idle < 3 && runs < 200;) {
      const [response] = await subscriber.pull({ subscription, maxMessages: 1, returnImmediately: true });
      const received = response.receivedMessages ?? [];
      if (!received.length) {
        idle++;
        await sleep(200);
        continue;
      }
      idle = 0;
      for (const r of received) {
        runs++;
        await handler({
          specversion: "1.0",
          type: "google.cloud.pubsub.topic.v1.messagePublished",
          source: "test",
          id: r.message!.messageId!,
          data: {
            message: {
              data: Buffer.from(r.message!.data as Uint8Array).toString("base64"),
              messageId: r.message!.messageId!,
            },
          },
        } as CloudEvent<unknown>);
        await subscriber.acknowledge({ subscription, ackIds: [r.ackId!] });
      }
    }
  } finally {
    await subscriber.close();
  }
  return runs;
}
