// Compaction in the scheduled prune, on the emulated deployment (Firestore emulator,
// fake-gcs-server, the KMS stand-in; test/helpers/cloud-stack.ts): sixteen layered snapshots fill
// two levels (eight layers of over 2,048 objects, eight small ones). pruneSnapshots, which cannot
// decrypt, hands the repository to the Cloud Run job on snapshot-large; the job merges one level,
// finds its deadline passed and hands the rest on, then merges the other. Every snapshot still
// restores exactly as it was taken, from the merged layers only. A deep verification of a snapshot
// too big for verifySnapshot goes to the job the same way, which verifies it and records the verdict.
import { mkdtemp, readFile, rm, writeFile, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CloudEvent } from "@google-cloud/functions-framework";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupPolicy, type CloudApp } from "../../functions/app.js";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { git, startGit } from "../../functions/core/git/exec.js";
import { planCompaction } from "../../functions/core/layers/plan.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { runSnapshotRequest } from "../../functions/core/snapshot-request.js";
import { verifyHandler } from "../../functions/handlers/verify.js";
import { runSnapshotJob } from "../../functions/jobs/snapshot-job.js";
import { setLogWriter } from "../../functions/log.js";
import { cloudApp } from "../../functions/wiring.js";
import { startCloudStack, type CloudStack } from "../helpers/cloud-stack.js";
import { objectsOf, refsOf } from "../helpers/git-repos.js";

const REPO = "acme/app";
const CONFIG_DIR = fileURLToPath(new URL("../../config", import.meta.url));
let stack: CloudStack;
let scratch: string;
let source: string;
let configFile: string;
let app: CloudApp;
const logs: string[] = [];
const previousWriter = setLogWriter((line) => logs.push(line));
/** Each snapshot id with the source's refs and objects when it was taken. */
const taken = new Map<string, { refs: string; objects: string }>();

/** One commit on main adding `count` files of distinct content (git fast-import: quick at thousands). */
async function commitFiles(count: number, tag: string): Promise<void> {
  const parent = (await git(["rev-parse", "refs/heads/main"], { env: { GIT_DIR: source } })).trim();
  const lines = [
    "commit refs/heads/main",
    "committer Test <test@example.invalid> 1764633600 +0000",
    `data ${`add ${tag}`.length}`,
    `add ${tag}`,
    `from ${parent}`,
  ];
  for (let i = 0; i < count; i++) {
    const text = `${tag} file ${i}\n`;
    lines.push(`M 100644 inline ${tag}/f${i}.txt`, `data ${Buffer.byteLength(text)}`, text);
  }
  const run = startGit(["fast-import", "--quiet"], { env: { GIT_DIR: source }, stdin: "pipe" });
  run.child.stdin!.end(`${lines.join("\n")}\n`);
  await run.done;
}

async function snapshotNow(): Promise<void> {
  const request = {
    v: 1 as const,
    repo: REPO,
    reason: "manual" as const,
    requestedAt: new Date().toISOString(),
  };
  const outcome = await runSnapshotRequest(app, request, backupPolicy(app.settings, "queue"), {
    actor: "test",
    deadlineMs: 480_000,
  });
  const snapshot = "snapshot" in outcome ? outcome.snapshot?.snapshot : undefined;
  expect(snapshot?.kind, JSON.stringify(outcome)).toBe("layered");
  taken.set(snapshot!.id, { refs: await refsOf(source), objects: await objectsOf(source) });
}

const liveLayers = async () => (await app.layers!.layers(REPO)).filter((l) => l.state === "live");

const runJob = async () =>
  runSnapshotJob(
    await cloudApp("snapshotJob", stack.envOf("snapshotJob"), { ...stack.overrides, configFile }),
    1500,
  );

beforeAll(async () => {
  stack = await startCloudStack();
  scratch = await mkdtemp(join(tmpdir(), "infinity-compact-job-"));
  stack.github.addRepo(REPO);
  source = join(stack.root, `${REPO}.git`);
  await createDemoRepo(source);
  // The shipped config, layered, with a compaction deadline the first merge already passes.
  await cp(CONFIG_DIR, join(scratch, "config"), { recursive: true });
  configFile = join(scratch, "config", "backup-config.yaml");
  const yaml = await readFile(configFile, "utf8");
  expect(yaml).toMatch(/layers: false/);
  expect(yaml).toMatch(/compactDeadlineSeconds: \d+/);
  await writeFile(
    configFile,
    yaml
      .replace(/layers: false/, "layers: true")
      .replace(/compactDeadlineSeconds: \d+/, "compactDeadlineSeconds: 0.001"),
  );
  app = await cloudApp("snapshotRepo", stack.envOf("snapshotRepo"), { ...stack.overrides, configFile });
  // Eight layers of level 1 (over 2,048 objects each), then eight of level 0.
  for (let n = 0; n < 8; n++) {
    await commitFiles(2100, `big${n}`);
    await snapshotNow();
  }
  for (let n = 0; n < 8; n++) {
    await commitFiles(2, `small${n}`);
    await snapshotNow();
  }
}, 600_000);

afterAll(async () => {
  setLogWriter(previousWriter);
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("compaction on the prune clock, in the Cloud Run job", () => {
  it("sixteen snapshots leave sixteen live layers in two full levels", async () => {
    expect(taken.size).toBe(16);
    expect(await liveLayers()).toHaveLength(16);
    expect(planCompaction(await liveLayers()).map((m) => m.level)).toEqual([0, 1]);
  });

  it("a dry run of pruneSnapshots hands nothing over", async () => {
    expect((await stack.push("pruneSnapshots", { v: 1, dryRun: true })).status).toBe(204);
    expect(logs.some((l) => l.includes('"event":"compaction_handed_over"'))).toBe(false);
  });

  it("pruneSnapshots hands the repository to the job; the job merges both levels, handing on between them", async () => {
    expect((await stack.push("pruneSnapshots", { v: 1 })).status).toBe(204);
    const handOff = logs.filter((l) => l.includes('"event":"compaction_handed_over"'));
    expect(handOff).toHaveLength(1);
    expect(handOff[0]).toContain(REPO);
    expect(await liveLayers()).toHaveLength(16); // the function merged nothing itself

    expect(await runJob()).toBe(0);
    const runs = logs
      .filter((l) => l.includes('"event":"compaction_'))
      .map((l) => JSON.parse(l) as { event: string; merges?: number });
    expect(runs.map((r) => [r.event, r.merges])).toEqual([
      ["compaction_handed_over", undefined],
      ["compaction_handed_on", 1],
      ["compaction_done", 1],
    ]);
    const live = await liveLayers();
    expect(live).toHaveLength(2);
    expect(planCompaction(live)).toEqual([]);
    // Nothing left on the queue: a second run merges nothing.
    expect(await runJob()).toBe(0);
    expect(logs.filter((l) => l.includes('"event":"compaction_done"'))).toHaveLength(1);
  });

  it("every snapshot resolves to the two merged layers and restores exactly as taken", async () => {
    const layers = await app.layers!.layers(REPO);
    const live = new Set((await liveLayers()).map((l) => l.id));
    const restoreApp = await stack.app("restoreRepo");
    for (const [id, want] of taken) {
      const snapshot = (await app.index.list(REPO)).find((s) => s.id === id)!;
      for (const layer of resolveLayers(snapshot, layers)) expect(live.has(layer.id)).toBe(true);
      const path = join(scratch, `restore-${id}.git`);
      await restoreRepo(
        restoreApp,
        { repo: REPO, snapshotId: id, target: { kind: "path", path } },
        { actor: "test" },
      );
      expect(await refsOf(path), id).toBe(want.refs);
      expect(await objectsOf(path), id).toBe(want.objects);
      await rm(path, { recursive: true, force: true });
    }
  }, 300_000);

  it("a deep verification too big for verifySnapshot is handed to the job, which verifies and records it", async () => {
    // verifySnapshot with the hand-over threshold below this repository's restore.
    const yaml = await readFile(configFile, "utf8");
    const verifyConfig = join(scratch, "config", "backup-config-verify.yaml");
    await writeFile(verifyConfig, yaml.replace(/largeRepoBytes: \d+/, "largeRepoBytes: 1000"));
    const verifyApp = await cloudApp("verifySnapshot", stack.envOf("verifySnapshot"), {
      ...stack.overrides,
      configFile: verifyConfig,
    });
    const [newest] = await app.index.list(REPO);
    const request = { v: 1, repo: REPO, snapshotId: newest!.id, level: "deep" };
    await verifyHandler(async () => verifyApp)({
      id: "verify-1",
      data: { message: { data: Buffer.from(JSON.stringify(request)).toString("base64"), messageId: "m-1" } },
    } as unknown as CloudEvent<unknown>);
    const handed = logs.filter((l) => l.includes('"event":"verification_handed_over"'));
    expect(handed).toHaveLength(1);
    expect(JSON.parse(handed[0]!).bytes).toBeGreaterThan(1000);
    expect((await app.index.get(REPO, newest!.id))!.verification?.level).not.toBe("deep");

    expect(await runJob()).toBe(0);
    const verified = (await app.index.get(REPO, newest!.id))!.verification;
    expect(verified).toMatchObject({ verdict: "ok", level: "deep" });
    const passed = logs.filter(
      (l) =>
        l.includes('"event":"verification_passed"') && l.includes(newest!.id) && l.includes('"level":"deep"'),
    );
    expect(passed).toHaveLength(1);
  }, 300_000);
});
