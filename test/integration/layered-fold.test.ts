// Old archives folded in (docs/ARCHITECTURE.md): two chains (a full snapshot and incrementals, one
// with a branch made and deleted again) taken with layers off, then layered snapshots, then
// prune --compact. A crash before T-fold leaves every snapshot as it was; the fold turns every old
// snapshot layered, each still restoring exactly the refs and objects it was taken with; the old
// archives stay through the grace period and go after it, and the store holds fewer bytes.
import { beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { LayerIndex } from "../../functions/core/ports.js";
import { layeredWorld, REPO } from "../helpers/layered-world.js";

const DAY = 86_400_000;
const INCREMENTAL = { maxChain: 48, fullEveryMs: DAY };
const KEEP_ALL = { last: 100 };
const world = layeredWorld({ name: "layered-fold", start: "2026-11-20T09:00:00.000Z" });
const { clock } = world;
/** The old snapshots as taken (with layers off). */
const legacy: Snapshot[] = [];
let bytesBefore = 0;

async function take(layers: boolean): Promise<Snapshot> {
  return (await world.snap({ incremental: INCREMENTAL, layers })).snapshot;
}

async function expectEveryRestoreAsTaken(): Promise<void> {
  for (const id of world.taken.keys()) await world.expectRestoresAsTaken(id);
}

const total = (objects: Map<string, number>): number => [...objects.values()].reduce((a, b) => a + b, 0);

beforeAll(async () => {
  await world.open();
  // Chain 1: a full snapshot, a push, a branch made, then deleted (its objects only old snapshots hold).
  legacy.push(await take(false));
  await world.push("main", "one.txt", "one\n");
  legacy.push(await take(false));
  await world.push("topic", "topic.txt", "only on a branch deleted later\n");
  legacy.push(await take(false));
  await git(["update-ref", "-d", "refs/heads/topic"], { env: { GIT_DIR: world.source } });
  legacy.push(await take(false));
  // Chain 2, the next day.
  clock.advance(DAY);
  await world.push("main", "two.txt", "two\n");
  legacy.push(await take(false));
  await world.push("main", "three.txt", "three\n");
  legacy.push(await take(false));
  expect(legacy.map((s) => s.kind)).toEqual([
    "full",
    "incremental",
    "incremental",
    "incremental",
    "full",
    "incremental",
  ]);
  // Layers on.
  await world.push("main", "four.txt", "four\n");
  expect((await take(true)).kind).toBe("layered");
  await world.push("main", "five.txt", "five\n");
  expect((await take(true)).kind).toBe("layered");
  bytesBefore = total(await world.stored());
}, 240_000);

describe("old full and incremental archives folded into layers by compaction", () => {
  it("a crash before T-fold leaves every old snapshot as it was, restoring as taken", async () => {
    const layers = world.app.layers!;
    const crashing: LayerIndex = Object.assign(Object.create(layers) as LayerIndex, {
      commitFold: () => Promise.reject(new Error("crash before T-fold")),
    });
    await expect(
      world.prune(KEEP_ALL, { compact: true }, { ...world.app, layers: crashing }),
    ).rejects.toThrow(/crash before T-fold/);
    for (const old of legacy) expect(await world.app.index.get(REPO, old.id)).toEqual(old);
    await expectEveryRestoreAsTaken();
  }, 120_000);

  it("a crash right after the first chain's T-fold leaves that chain layered and the other as it was, all restoring as taken", async () => {
    const audit = {
      record: (event: Parameters<typeof world.app.audit.record>[0]) =>
        event.action === "compact.folded"
          ? Promise.reject(new Error("crash after T-fold"))
          : world.app.audit.record(event),
    };
    await expect(world.prune(KEEP_ALL, { compact: true }, { ...world.app, audit })).rejects.toThrow(
      /crash after T-fold/,
    );
    const kinds = await Promise.all(
      legacy.map(async (old) => (await world.app.index.get(REPO, old.id))?.kind),
    );
    expect(kinds).toEqual(["layered", "layered", "layered", "layered", "full", "incremental"]);
    // Chain 1 held the deleted branch's objects, which no layer had: its fold wrote a new layer.
    const layers = await world.app.layers!.layers(REPO);
    const chain1 = (await world.app.index.get(REPO, legacy[0]!.id))!;
    expect(layers.find((l) => l.id === chain1.layers![0])).toMatchObject({ level: 0, state: "live" });
    await expectEveryRestoreAsTaken();
  }, 120_000);

  it("prune --compact folds the rest: every snapshot is layered and restores exactly as taken", async () => {
    const report = await world.prune(KEEP_ALL, { compact: true });
    const fold = report.compaction?.fold;
    expect(fold?.skipped).toEqual([]);
    // Chain 2's objects are all in layers already: it names them and adds none.
    expect(fold?.folded).toEqual([{ snapshots: legacy.slice(4).map((s) => s.id), objects: 0 }]);
    for (const old of legacy) {
      const now = await world.app.index.get(REPO, old.id);
      expect(now).toMatchObject({ kind: "layered", refs: old.refs, takenAt: old.takenAt });
      expect(now?.parentId).toBeUndefined();
      expect(now?.objectKey).not.toBe(old.objectKey);
    }
    const records = await world.app.layers!.layers(REPO);
    expect(records.filter((l) => l.level === "legacy" && l.state === "retired")).toHaveLength(legacy.length);
    await expectEveryRestoreAsTaken();
    // Folding again finds nothing left to fold.
    const again = await world.prune(KEEP_ALL, { compact: true });
    expect(again.compaction?.fold).toEqual({ folded: [], skipped: [] });
  }, 180_000);

  it("the old archives stay through the grace period", async () => {
    clock.advance(LAYER_GRACE_MS / 2);
    await world.prune(KEEP_ALL);
    const objects = await world.stored();
    for (const old of legacy) expect(objects.has(old.objectKey), old.objectKey).toBe(true);
    await expectEveryRestoreAsTaken();
  }, 120_000);

  it("after the grace period (and the store's retention) the old archives and the crashed run's orphans go, the store holds fewer bytes, and every snapshot still restores", async () => {
    // Past the grace period, and past the store's retention of the newest old archives (48 h).
    clock.advance(3 * DAY);
    const report = await world.prune(KEEP_ALL);
    expect(report.layers?.deleted).toHaveLength(legacy.length);
    const objects = await world.stored();
    for (const old of legacy) expect(objects.has(old.objectKey), old.objectKey).toBe(false);
    const records = await world.app.layers!.layers(REPO);
    const named = new Set(records.filter((l) => !l.objectDeleted).flatMap((l) => [l.objectKey, l.oidsKey]));
    for (const snapshot of await world.app.index.list(REPO)) named.add(snapshot.objectKey);
    expect([...objects.keys()].sort()).toEqual([...named].sort());
    expect(total(objects)).toBeLessThan(bytesBefore);
    await expectEveryRestoreAsTaken();
  }, 180_000);
});
