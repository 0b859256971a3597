// Layer garbage (core/layers/garbage.ts) on a real layer index, run by every backend: a layer a
// kept snapshot needs, directly or through replacedBy, is never deleted; garbage goes in the
// order record, grace, delete, markObjectDeleted, forget; a crash before any step leaves every kept
// snapshot resolvable to stored layers, and the next run finishes the work.
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../functions/core/deps.js";
import { collectLayerGarbage } from "../../functions/core/layers/garbage.js";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import type { Layer } from "../../functions/core/model.js";
import { layerKey, layerOidsKey } from "../../functions/core/object-keys.js";
import type { AuditEvent, BlobStore, KeyRecords, LayerIndex } from "../../functions/core/ports.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { layeredSnapshot, layerRecord } from "../helpers/layer-records.js";
import type { ManualClock } from "./snapshot-index.js";

export interface LayerGarbageFixture {
  /** index, layers, keyRecords and store all set; the store's createdAt follows `clock`. */
  deps: Deps & { layers: LayerIndex; keyRecords: KeyRecords };
  audit: AuditEvent[];
  cleanup(): Promise<void>;
}

const REPO = "acme/widget";
const DAY = 86_400_000;
const T0 = Date.parse("2026-11-01T10:00:00.000Z");
const at = (day: number, plusMs = 0): string => new Date(T0 + day * DAY + plusMs).toISOString();
const sid = (n: number): string => `${at(n).replace(/[-:.]/g, "")}-s${n}`;

/**
 * The history: S1..S3 each add a layer (L1..L3) on top of the previous; on day 4 L1..L3 merge into
 * M1; S4 adds L4 on top of S3 (resolved: M1). S5 stands alone on L5 (a history force-pushed away).
 * Then S1, S3 and S5 are removed, as prune would: kept are S2 (L2, L1 -> M1) and S4 (L4, M1).
 */
async function build(f: LayerGarbageFixture, clock: ManualClock): Promise<void> {
  const { deps } = f;
  let generation = 0;
  async function addLayer(id: string): Promise<Layer> {
    const layer = layerRecord({
      id,
      createdAt: clock.now().toISOString(),
      stateAt: clock.now().toISOString(),
      objectKey: layerKey(REPO, id),
      oidsKey: layerOidsKey(REPO, id),
      size: 100,
      oidsSize: 10,
    });
    await deps.store.put(layer.objectKey, Readable.from([Buffer.alloc(100, 1)]));
    await deps.store.put(layer.oidsKey, Readable.from([Buffer.alloc(10, 2)]));
    await deps.keyRecords.putDataKey({ repo: REPO, snapshotId: id, keyId: "k1", wrapped: "AQ==" });
    return layer;
  }
  async function snap(
    n: number,
    layers: string[],
    layer: Layer | undefined,
    basedOn: string[],
  ): Promise<void> {
    const snapshot = layeredSnapshot(sid(n), layers, {
      repo: REPO,
      takenAt: clock.now().toISOString(),
      confirmedAt: clock.now().toISOString(),
      objectKey: `repos/${REPO}/2026/11/0${n}/${sid(n)}.ibk`,
    });
    await deps.store.put(snapshot.objectKey, Readable.from([Buffer.from("own archive")]));
    await deps.layers.commitLayered(snapshot, layer, basedOn, generation++);
  }
  clock.set(at(1));
  await snap(1, ["L1"], await addLayer("L1"), []);
  clock.set(at(2));
  await snap(2, ["L2", "L1"], await addLayer("L2"), [sid(1)]);
  clock.set(at(3));
  await snap(3, ["L3", "L2", "L1"], await addLayer("L3"), [sid(2)]);
  clock.set(at(4));
  await deps.layers.commitMerge(REPO, await addLayer("M1"), ["L1", "L2", "L3"], generation++);
  clock.set(at(4, 1000));
  await snap(4, ["L4", "M1"], await addLayer("L4"), [sid(3)]);
  await snap(5, ["L5"], await addLayer("L5"), []);
  for (const n of [1, 3, 5]) {
    const removed = (await deps.index.get(REPO, sid(n)))!;
    await deps.index.remove(REPO, sid(n));
    await deps.store.delete(removed.objectKey);
  }
}

/** Every kept snapshot resolves, and every layer it resolves to has both archives stored. */
async function expectKeptReadable(f: LayerGarbageFixture): Promise<void> {
  const layers = await f.deps.layers.layers(REPO);
  const kept = await f.deps.index.list(REPO);
  expect(kept.map((s) => s.id).sort()).toEqual([sid(2), sid(4)]);
  for (const snapshot of kept) {
    for (const layer of resolveLayers(snapshot, layers)) {
      expect(
        await f.deps.store.stat(layer.objectKey),
        `${snapshot.id} needs ${layer.objectKey}`,
      ).toBeDefined();
      expect(await f.deps.store.stat(layer.oidsKey), `${snapshot.id} needs ${layer.oidsKey}`).toBeDefined();
      expect(await f.deps.keyRecords.dataKey(REPO, layer.id), `data key of ${layer.id}`).toBeDefined();
    }
  }
}

const states = async (f: LayerGarbageFixture): Promise<Array<[string, string, boolean]>> =>
  (await f.deps.layers.layers(REPO)).map((l) => [l.id, l.state, l.objectDeleted === true]);

/** Stops the run at its `crashAt`th mutating step (1-based), before the step is done. */
function crashing(f: LayerGarbageFixture, crashAt: number): { deps: Deps; steps: () => number } {
  let step = 0;
  const guard = (name: string): void => {
    if (++step === crashAt) throw new Error(`crash before step ${step} (${name})`);
  };
  const wrap = <T extends object>(target: T, methods: string[]): T =>
    new Proxy(target, {
      get(obj, key, receiver) {
        const value: unknown = Reflect.get(obj, key, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (methods.includes(String(key))) guard(String(key));
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  const deps: Deps = {
    ...f.deps,
    store: wrap<BlobStore>(f.deps.store, ["delete"]),
    layers: wrap<LayerIndex>(f.deps.layers, ["markDead", "markObjectDeleted", "forgetLayer"]),
    keyRecords: wrap<KeyRecords>(f.deps.keyRecords, ["removeDataKey"]),
  };
  return { deps, steps: () => step };
}

export function layerGarbageContract(
  name: string,
  factory: (clock: ManualClock) => Promise<LayerGarbageFixture>,
  makeClock: () => ManualClock,
): void {
  describe(`layer garbage: ${name}`, () => {
    let clock: ManualClock;
    let f: LayerGarbageFixture;
    beforeEach(async () => {
      clock = makeClock();
      f = await factory(clock);
      await build(f, clock);
    });
    afterEach(async () => {
      await f.cleanup();
    });
    const run = (deps: Deps = f.deps) =>
      collectLayerGarbage(deps, REPO, REPO, { now: clock.now(), dryRun: false, actor: "test" });

    it("drops what no kept snapshot needs, deletes retired and dead layers after the grace period, then forgets them", async () => {
      clock.set(at(4, LAYER_GRACE_MS - 1000)); // the merge is younger than the grace period
      const early = await run();
      expect(early.dead).toEqual(["L5"]);
      expect(early.deleted).toEqual([]);
      expect(await states(f)).toEqual([
        ["L1", "retired", false],
        ["L2", "retired", false],
        ["L3", "retired", false],
        ["M1", "live", false],
        ["L4", "live", false],
        ["L5", "dead", false],
      ]);
      await expectKeptReadable(f);

      clock.set(at(5, 12 * 3_600_000));
      const second = await run();
      expect(second.dead).toEqual([]);
      // L5 died two days after the merge: still in its grace period. L3 is named by no kept snapshot.
      expect(second.deleted).toEqual(["L1", "L2", "L3"]);
      expect(second.forgotten).toEqual(["L3"]);
      expect(second.bytesFreed).toBe(3 * 110);
      expect(await states(f)).toEqual([
        ["L1", "retired", true],
        ["L2", "retired", true],
        ["M1", "live", false],
        ["L4", "live", false],
        ["L5", "dead", false],
      ]);
      for (const id of ["L1", "L2", "L3"]) {
        expect(await f.deps.store.stat(layerKey(REPO, id))).toBeUndefined();
        expect(await f.deps.store.stat(layerOidsKey(REPO, id))).toBeUndefined();
        expect(await f.deps.keyRecords.dataKey(REPO, id)).toBeUndefined();
      }
      await expectKeptReadable(f);

      clock.set(at(4, 1000 + 2 * LAYER_GRACE_MS));
      const third = await run();
      expect(third.deleted).toEqual(["L5"]);
      expect(third.forgotten).toEqual(["L5"]);
      expect((await states(f)).map(([id]) => id)).toEqual(["L1", "L2", "M1", "L4"]);
      await expectKeptReadable(f);
      const actions = f.audit.filter((e) => e.action.startsWith("prune.layer-")).map((e) => e.action);
      expect(actions.filter((a) => a === "prune.layer-deleted")).toHaveLength(4);
      expect(actions.filter((a) => a === "prune.layer-dead")).toHaveLength(1);
    });

    it("never deletes a layer a kept snapshot resolves to, however old", async () => {
      clock.set(at(400));
      await run();
      await run();
      const left = await f.deps.layers.layers(REPO);
      expect(left.filter((l) => l.state === "live").map((l) => l.id)).toEqual(["M1", "L4"]);
      await expectKeptReadable(f);
    });

    it("a dry run plans the same and changes nothing", async () => {
      clock.set(at(6));
      const before = await states(f);
      const plan = await collectLayerGarbage(f.deps, REPO, REPO, {
        now: clock.now(),
        dryRun: true,
        actor: "t",
      });
      expect(plan.dead).toEqual(["L5"]);
      expect(plan.deleted).toEqual(["L1", "L2", "L3"]);
      expect(await states(f)).toEqual(before);
      expect(await f.deps.store.stat(layerKey(REPO, "L1"))).toBeDefined();
      expect((await f.deps.layers.layerState(REPO)).generation).toBe(6);
    });

    it("collects layer archives no record names once they are older than the grace period", async () => {
      clock.set(at(5));
      await f.deps.store.put(layerKey(REPO, "ORPHAN"), Readable.from([Buffer.alloc(7)]));
      await f.deps.keyRecords.putDataKey({ repo: REPO, snapshotId: "ORPHAN", keyId: "k1", wrapped: "AQ==" });
      clock.set(at(6));
      await f.deps.store.put(layerKey(REPO, "YOUNG"), Readable.from([Buffer.alloc(7)]));
      clock.set(at(6, 1000));
      const report = await run();
      expect(report.orphans).toEqual([layerKey(REPO, "ORPHAN")]);
      expect(await f.deps.store.stat(layerKey(REPO, "ORPHAN"))).toBeUndefined();
      expect(await f.deps.keyRecords.dataKey(REPO, "ORPHAN")).toBeUndefined();
      expect(await f.deps.store.stat(layerKey(REPO, "YOUNG"))).toBeDefined();
      await expectKeptReadable(f);
    });

    it("a crash before any step leaves every kept snapshot readable, and the next run finishes", async () => {
      // Count the steps of one whole run on a copy of the history first.
      clock.set(at(4, 1000 + 2 * LAYER_GRACE_MS));
      const total = crashing(f, 0);
      const full = await run(total.deps);
      // L5 dies in this run, so it waits for the next; L1..L3 go: 3 x (2 deletes, mark, key), 1 forget.
      expect(full.deleted).toEqual(["L1", "L2", "L3"]);
      const steps = total.steps();
      expect(steps).toBe(1 + 3 * 4 + 1);
      for (let crashAt = 1; crashAt <= steps; crashAt++) {
        await f.cleanup();
        clock = makeClock();
        f = await factory(clock);
        await build(f, clock);
        clock.set(at(4, 1000 + 2 * LAYER_GRACE_MS));
        await expect(run(crashing(f, crashAt).deps), `crash at ${crashAt}`).rejects.toThrow(
          /crash before step/,
        );
        await expectKeptReadable(f);
        await run();
        clock.advance(2 * LAYER_GRACE_MS);
        await run();
        expect(
          (await states(f)).map(([id]) => id),
          `crash at ${crashAt}`,
        ).toEqual(["L1", "L2", "M1", "L4"]);
        for (const id of ["L3", "L5"]) expect(await f.deps.store.stat(layerKey(REPO, id))).toBeUndefined();
        await expectKeptReadable(f);
      }
    });

    it("prune removes the snapshot records by the policy, then the layers only they needed", async () => {
      clock.set(at(6));
      // Keep the newest snapshot only: S2 goes, so L1 and L2 (retired into M1) lose their last reader.
      const report = await pruneRepo(f.deps, REPO, parseRetentionPolicy({ last: 1 }), {
        dryRun: false,
        actor: "test",
      });
      expect(report.remove.map((r) => r.snapshot.id)).toEqual([sid(2)]);
      expect(report.layers?.dead).toEqual(["L5"]);
      expect(report.layers?.deleted).toEqual(["L1", "L2", "L3"]);
      expect(report.layers?.forgotten).toEqual(["L1", "L2", "L3"]);
      expect(report.orphans).toEqual([]); // layer archives are not snapshot orphans
      const kept = await f.deps.index.list(REPO);
      expect(kept.map((s) => s.id)).toEqual([sid(4)]);
      expect(resolveLayers(kept[0]!, await f.deps.layers.layers(REPO)).map((l) => l.id)).toEqual([
        "L4",
        "M1",
      ]);
      expect(await f.deps.store.stat(layerKey(REPO, "M1"))).toBeDefined();
      expect(await f.deps.store.stat(layerKey(REPO, "L4"))).toBeDefined();
    });
  });
}
