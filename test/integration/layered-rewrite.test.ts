// Live-share rewriting end to end: a branch pushed (its objects in a layer of their own), then
// deleted. While a kept snapshot still has the branch nothing is rewritten; once prune removed the
// last one, compaction rewrites that layer without the branch's objects, layer garbage deletes the
// old one after the grace period, and every kept snapshot still restores exactly as it was taken.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import type { Snapshot } from "../../functions/core/model.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const actor = "test";
const clock = manualClock("2026-11-20T09:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
const taken = new Map<string, { refs: string; objects: string }>();
const snapshots: Snapshot[] = [];
/** The branch's commit, tree and new blob: only the second snapshot reaches them. */
let branchObjects: string[] = [];

async function take(): Promise<void> {
  const outcome = await snapshotRepo(app, REPO, { url: source }, { actor, layers: true });
  expect(outcome.snapshot.kind).toBe("layered");
  snapshots.push(outcome.snapshot);
  taken.set(outcome.snapshot.id, { refs: await refsOf(source), objects: await objectsOf(source) });
  clock.advance(3_600_000);
}

async function expectKeptRestoreAsTaken(): Promise<void> {
  for (const snapshot of await app.index.list(REPO)) {
    const path = join(scratch, `restore-${snapshot.id}.git`);
    await restoreRepo(
      app,
      { repo: REPO, snapshotId: snapshot.id, target: { kind: "path", path } },
      { actor },
    );
    expect(await refsOf(path), snapshot.id).toBe(taken.get(snapshot.id)!.refs);
    expect(await objectsOf(path), snapshot.id).toBe(taken.get(snapshot.id)!.objects);
    await rm(path, { recursive: true, force: true });
  }
}

/** Whether any live layer holds `oid`. */
async function liveLayersHold(oid: string): Promise<boolean> {
  const live = (await app.layers!.layers(REPO)).filter((layer) => layer.state === "live");
  for (const layer of live) if ((await readLayerOids(app, layer)).has(oid)) return true;
  return false;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layered-rewrite-"));
  source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source }, "snapshots:\n  layers: true\n");
  app = await ws.open(clock);
  await take();
  const before = new Set((await objectsOf(source)).split("\n"));
  const commit = await pushCommit(source, "topic", "topic.txt", "only on a branch deleted later\n");
  branchObjects = (await objectsOf(source)).split("\n").filter((oid) => !before.has(oid));
  expect(branchObjects).toContain(commit);
  await take();
  await git(["update-ref", "-d", "refs/heads/topic"], { env: { GIT_DIR: source } });
  await pushCommit(source, "main", "one.txt", "one\n");
  await take();
  await pushCommit(source, "main", "two.txt", "two\n");
  await take();
}, 180_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("live-share rewriting", () => {
  it("rewrites nothing while a kept snapshot still reaches the branch", async () => {
    clock.advance(3 * 86_400_000); // past the store's retention of new archives (48 h)
    const report = await pruneRepo(app, REPO, parseRetentionPolicy({ last: 3 }), {
      dryRun: false,
      actor,
      compact: true,
    });
    expect(report.remove.map((r) => r.snapshot.id)).toEqual([snapshots[0]!.id]);
    expect(report.compaction?.rewrite).toEqual({ reason: "every live layer is at least half live" });
    for (const oid of branchObjects) expect(await liveLayersHold(oid), oid).toBe(true);
  }, 120_000);

  it("once no kept snapshot reaches the branch, its layer is rewritten without it; every kept snapshot restores whole", async () => {
    const branchLayer = snapshots[1]!.layers![0]!;
    const report = await pruneRepo(app, REPO, parseRetentionPolicy({ last: 2 }), {
      dryRun: false,
      actor,
      compact: true,
    });
    expect(report.remove.map((r) => r.snapshot.id)).toEqual([snapshots[1]!.id]);
    const rewrite = report.compaction?.rewrite;
    expect(rewrite?.inputs).toContain(branchLayer);
    expect(rewrite?.dropped).toBe(branchObjects.length);
    for (const oid of branchObjects) expect(await liveLayersHold(oid), oid).toBe(false);
    expect(await app.layers!.getLayer(REPO, branchLayer)).toMatchObject({
      state: "retired",
      replacedBy: [rewrite!.merged],
    });
    await expectKeptRestoreAsTaken();
  }, 120_000);

  it("after the grace period the old layer's archives go and every kept snapshot still restores whole", async () => {
    const branchLayer = snapshots[1]!.layers![0]!;
    const old = (await app.layers!.getLayer(REPO, branchLayer))!;
    clock.advance(3 * 86_400_000);
    const report = await pruneRepo(app, REPO, parseRetentionPolicy({ last: 2 }), { dryRun: false, actor });
    expect(report.layers?.deleted).toContain(branchLayer);
    const stored = new Set<string>();
    for await (const object of app.store.list(`layers/${REPO}/`)) stored.add(object.key);
    expect(stored.has(old.objectKey)).toBe(false);
    expect(stored.has(old.oidsKey)).toBe(false);
    await expectKeptRestoreAsTaken();
  }, 120_000);
});
