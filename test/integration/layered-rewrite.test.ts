// Live-share rewriting end to end: a branch pushed (its objects in a layer of their own), then
// deleted. While a kept snapshot still has the branch nothing is rewritten; once prune removed the
// last one, compaction rewrites that layer without the branch's objects, layer garbage deletes the
// old one after the grace period, and every kept snapshot still restores exactly as it was taken.
import { beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import type { Snapshot } from "../../functions/core/model.js";
import { objectsOf } from "../helpers/git-repos.js";
import { layeredWorld, REPO } from "../helpers/layered-world.js";

const world = layeredWorld({
  name: "layered-rewrite",
  start: "2026-11-20T09:00:00.000Z",
  config: "snapshots:\n  layers: true\n",
});
const { clock } = world;
const snapshots: Snapshot[] = [];
/** The branch's commit, tree and new blob: only the second snapshot reaches them. */
let branchObjects: string[] = [];

async function take(): Promise<void> {
  snapshots.push((await world.snap()).snapshot);
}

async function expectKeptRestoreAsTaken(): Promise<void> {
  for (const snapshot of await world.app.index.list(REPO)) await world.expectRestoresAsTaken(snapshot.id);
}

/** Whether any live layer holds `oid`. */
async function liveLayersHold(oid: string): Promise<boolean> {
  const live = (await world.app.layers!.layers(REPO)).filter((layer) => layer.state === "live");
  for (const layer of live) if ((await readLayerOids(world.app, layer)).has(oid)) return true;
  return false;
}

beforeAll(async () => {
  await world.open();
  await take();
  const before = new Set((await objectsOf(world.source)).split("\n"));
  const commit = await world.push("topic", "topic.txt", "only on a branch deleted later\n");
  branchObjects = (await objectsOf(world.source)).split("\n").filter((oid) => !before.has(oid));
  expect(branchObjects).toContain(commit);
  await take();
  await git(["update-ref", "-d", "refs/heads/topic"], { env: { GIT_DIR: world.source } });
  await world.push("main", "one.txt", "one\n");
  await take();
  await world.push("main", "two.txt", "two\n");
  await take();
}, 180_000);

describe("live-share rewriting", () => {
  it("rewrites nothing while a kept snapshot still reaches the branch", async () => {
    clock.advance(3 * 86_400_000); // past the store's retention of new archives (48 h)
    const report = await world.prune({ last: 3 }, { compact: true });
    expect(report.remove.map((r) => r.snapshot.id)).toEqual([snapshots[0]!.id]);
    expect(report.compaction?.rewrite).toEqual({ reason: "every live layer is at least half live" });
    for (const oid of branchObjects) expect(await liveLayersHold(oid), oid).toBe(true);
  }, 120_000);

  it("once no kept snapshot reaches the branch, its layer is rewritten without it; every kept snapshot restores whole", async () => {
    const branchLayer = snapshots[1]!.layers![0]!;
    const report = await world.prune({ last: 2 }, { compact: true });
    expect(report.remove.map((r) => r.snapshot.id)).toEqual([snapshots[1]!.id]);
    const rewrite = report.compaction?.rewrite;
    expect(rewrite?.inputs).toContain(branchLayer);
    expect(rewrite?.dropped).toBe(branchObjects.length);
    for (const oid of branchObjects) expect(await liveLayersHold(oid), oid).toBe(false);
    expect(await world.app.layers!.getLayer(REPO, branchLayer)).toMatchObject({
      state: "retired",
      replacedBy: [rewrite!.merged],
    });
    await expectKeptRestoreAsTaken();
  }, 120_000);

  it("after the grace period the old layer's archives go and every kept snapshot still restores whole", async () => {
    const branchLayer = snapshots[1]!.layers![0]!;
    const old = (await world.app.layers!.getLayer(REPO, branchLayer))!;
    clock.advance(3 * 86_400_000);
    const report = await world.prune({ last: 2 });
    expect(report.layers?.deleted).toContain(branchLayer);
    const stored = await world.stored([`layers/${REPO}/`]);
    expect(stored.has(old.objectKey)).toBe(false);
    expect(stored.has(old.oidsKey)).toBe(false);
    await expectKeptRestoreAsTaken();
  }, 120_000);
});
