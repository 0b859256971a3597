// The LayerIndex contract (functions/core/ports.ts), as one suite every backend runs: the
// generation moves by one per transaction, a stale one writes nothing, T-snap commits the snapshot
// as SnapshotIndex.commit does, and two transactions planned from one read cannot both land.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError } from "../../functions/core/errors.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import type { Layer, Snapshot } from "../../functions/core/model.js";
import type { FoldedSnapshot, LayerIndex, LegacyFold, SnapshotIndex } from "../../functions/core/ports.js";
import { snapshot } from "./snapshot-index.js";
import { layeredSnapshot, layerRecord } from "../helpers/layer-records.js";

export interface LayerIndexFixture {
  /** The snapshot index T-snap's records must show up in. */
  index: SnapshotIndex;
  layers: LayerIndex;
  /** A second LayerIndex on the same store (another process or instance), for races. */
  other: LayerIndex;
  cleanup(): Promise<void>;
}

const LINEAGE = "acme/widget";
const at = (day: number): string => `2026-11-${String(day).padStart(2, "0")}T10:00:00.000Z`;
const sid = (day: number): string => `202611${String(day).padStart(2, "0")}T100000000Z-snap`;

function snap(day: number, layers: string[]): Snapshot {
  return layeredSnapshot(sid(day), layers, { takenAt: at(day), confirmedAt: at(day) });
}

function layer(id: string, day: number, overrides: Partial<Layer> = {}): Layer {
  return layerRecord({ id, createdAt: at(day), stateAt: at(day), ...overrides });
}

export function layerIndexContract(name: string, factory: () => Promise<LayerIndexFixture>): void {
  describe(`LayerIndex contract: ${name}`, () => {
    let fixture: LayerIndexFixture;
    let index: SnapshotIndex;
    let layers: LayerIndex;
    beforeEach(async () => {
      fixture = await factory();
      ({ index, layers } = fixture);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const generation = async (lineage = LINEAGE): Promise<number> =>
      (await layers.layerState(lineage)).generation;

    /** Two layered snapshots: S1 with L1, S2 with L2 on top of S1's L1. Generation 2 after. */
    async function twoSnapshots(): Promise<void> {
      await layers.commitLayered(snap(1, ["L1"]), layer("L1", 1), [], 0);
      await layers.commitLayered(snap(2, ["L2", "L1"]), layer("L2", 2), [sid(1)], 1);
    }

    it("starts a lineage at generation 0 with no layers", async () => {
      expect(await layers.layerState(LINEAGE)).toEqual({ lineage: LINEAGE, generation: 0 });
      expect(await layers.layers(LINEAGE)).toEqual([]);
      expect(await layers.getLayer(LINEAGE, "L1")).toBeUndefined();
    });

    it("T-snap commits the snapshot and its layer, seen by get, list and latest, and moves the generation by one", async () => {
      const s1 = snap(1, ["L1"]);
      await layers.commitLayered(s1, layer("L1", 1), [], 0);
      expect(await generation()).toBe(1);
      expect(await index.get(LINEAGE, s1.id)).toEqual(s1);
      expect(await index.latest(LINEAGE)).toEqual(s1);
      expect(await index.repos()).toEqual([LINEAGE]);
      expect(await layers.getLayer(LINEAGE, "L1")).toEqual(layer("L1", 1));

      const s2 = snap(2, ["L2", "L1"]);
      await layers.commitLayered(s2, layer("L2", 2), [s1.id], 1);
      expect(await generation()).toBe(2);
      expect((await index.list(LINEAGE)).map((s) => s.id)).toEqual([s2.id, s1.id]);
      expect((await layers.layers(LINEAGE)).map((l) => l.id)).toEqual(["L1", "L2"]);
      // A snapshot that added no objects names only older layers.
      const s3 = snap(3, ["L2", "L1"]);
      await layers.commitLayered(s3, undefined, [s2.id], 2);
      expect(await generation()).toBe(3);
      expect(await index.get(LINEAGE, s3.id)).toEqual(s3);
    });

    it("keeps each lineage's generation apart", async () => {
      await layers.commitLayered(snap(1, ["L1"]), layer("L1", 1), [], 0);
      const other = layeredSnapshot("20261101T100000000Z-other", ["K1"], { repo: "acme/other" });
      await layers.commitLayered(other, layerRecord({ id: "K1", lineage: "acme/other" }), [], 0);
      expect(await generation()).toBe(1);
      expect(await generation("acme/other")).toBe(1);
      expect((await layers.layers("acme/other")).map((l) => l.id)).toEqual(["K1"]);
    });

    it("files a renamed repository's snapshot and layer under its lineage key", async () => {
      const renamed = layeredSnapshot("20261101T100000000Z-renamed", ["R1"], {
        repo: "acme/new-name",
        lineage: "id:42",
      });
      await layers.commitLayered(renamed, layerRecord({ id: "R1", lineage: "id:42" }), [], 0);
      expect(await index.get("id:42", renamed.id)).toEqual(renamed);
      expect(await generation("id:42")).toBe(1);
      expect(await generation("acme/new-name")).toBe(0);
    });

    it("T-snap retried with the same snapshot is a no-op, whatever the generation now is", async () => {
      const s1 = snap(1, ["L1"]);
      await layers.commitLayered(s1, layer("L1", 1), [], 0);
      await layers.commitLayered(s1, layer("L1", 1), [], 0);
      expect(await generation()).toBe(1);
      expect(await index.list(LINEAGE)).toEqual([s1]);
      expect(await layers.layers(LINEAGE)).toEqual([layer("L1", 1)]);
    });

    it("T-snap refuses a snapshot id already committed with other content", async () => {
      await layers.commitLayered(snap(1, ["L1"]), layer("L1", 1), [], 0);
      const changed = { ...snap(1, ["L1"]), refs: { "refs/heads/main": "b".repeat(40) } };
      await expect(layers.commitLayered(changed, undefined, [], 1)).rejects.toThrow(ConflictError);
      expect(await generation()).toBe(1);
      expect((await index.get(LINEAGE, sid(1)))?.refs).toEqual(snap(1, []).refs);
    });

    /** Nothing of S3 or L3 was written and the generation did not move. */
    async function expectUnwritten(generationBefore: number): Promise<void> {
      expect(await generation()).toBe(generationBefore);
      expect(await index.get(LINEAGE, sid(3))).toBeUndefined();
      expect(await layers.getLayer(LINEAGE, "L3")).toBeUndefined();
    }

    it("T-snap with a stale generation is ConflictError and writes nothing", async () => {
      await twoSnapshots();
      const attempt = layers.commitLayered(snap(3, ["L3", "L2", "L1"]), layer("L3", 3), [sid(2)], 1);
      await expect(attempt).rejects.toThrow(ConflictError);
      await expect(layers.commitLayered(snap(3, ["L3"]), layer("L3", 3), [], 5)).rejects.toThrow(
        /generation 2, expected 5/,
      );
      await expectUnwritten(2);
    });

    it("T-snap refuses a basedOn snapshot that was removed (pruned since the fetch)", async () => {
      await twoSnapshots();
      await index.remove(LINEAGE, sid(1));
      const attempt = layers.commitLayered(snap(3, ["L3", "L2", "L1"]), layer("L3", 3), [sid(2), sid(1)], 2);
      await expect(attempt).rejects.toThrow(ConflictError);
      await expect(attempt).rejects.toThrow(new RegExp(`${sid(1)} .*no longer in the index`));
      await expectUnwritten(2);
    });

    it("T-snap refuses a dead layer, and a layer the index does not hold", async () => {
      await twoSnapshots();
      await index.remove(LINEAGE, sid(1));
      await layers.markDead(LINEAGE, ["L1"], at(3), 2);
      const dead = layers.commitLayered(snap(3, ["L3", "L2", "L1"]), layer("L3", 3), [sid(2)], 3);
      await expect(dead).rejects.toThrow(ConflictError);
      await expect(dead).rejects.toThrow(/layer L1 is dead/);
      const unknown = layers.commitLayered(snap(3, ["L3", "L9"]), layer("L3", 3), [], 3);
      await expect(unknown).rejects.toThrow(/layer L9 is not in the index/);
      await expectUnwritten(3);
    });

    it("T-snap refuses a new layer id that is taken, and a new layer the snapshot does not name", async () => {
      await twoSnapshots();
      await expect(layers.commitLayered(snap(3, ["L2"]), layer("L2", 3), [], 2)).rejects.toThrow(
        ConflictError,
      );
      await expect(layers.commitLayered(snap(3, ["L2"]), layer("L3", 3), [], 2)).rejects.toThrow(
        /not in its layers list/,
      );
      await expectUnwritten(2);
      expect(await layers.getLayer(LINEAGE, "L2")).toEqual(layer("L2", 2));
    });

    it("T-merge adds the merged layer, retires the inputs into it, and snapshots resolve to it", async () => {
      await twoSnapshots();
      const merged = layer("M1", 4, { level: 1, objects: 24 });
      await layers.commitMerge(LINEAGE, merged, ["L1", "L2"], 2);
      expect(await generation()).toBe(3);
      const all = await layers.layers(LINEAGE);
      expect(all.map((l) => [l.id, l.state, l.replacedBy, l.stateAt])).toEqual([
        ["L1", "retired", ["M1"], merged.createdAt],
        ["L2", "retired", ["M1"], merged.createdAt],
        ["M1", "live", undefined, merged.createdAt],
      ]);
      const s2 = (await index.get(LINEAGE, sid(2)))!;
      expect(s2.layers).toEqual(["L2", "L1"]); // snapshot records are not rewritten
      expect(resolveLayers(s2, all).map((l) => l.id)).toEqual(["M1"]);
      // A snapshot may still be committed naming a retired layer; it resolves through the merge.
      await layers.commitLayered(snap(3, ["L3", "L2", "L1"]), layer("L3", 3), [sid(2)], 3);
      expect(await generation()).toBe(4);
    });

    it("T-merge refuses an input that is not live, and a stale generation, writing nothing", async () => {
      await twoSnapshots();
      await layers.commitMerge(LINEAGE, layer("M1", 4, { level: 1 }), ["L1"], 2);
      const before = await layers.layers(LINEAGE);
      const retired = layers.commitMerge(LINEAGE, layer("M2", 5, { level: 1 }), ["L2", "L1"], 3);
      await expect(retired).rejects.toThrow(ConflictError);
      await expect(retired).rejects.toThrow(/input layer L1 is retired, not live/);
      await expect(layers.commitMerge(LINEAGE, layer("M2", 5), ["L2", "L7"], 3)).rejects.toThrow(
        /L7 is not in the index/,
      );
      await expect(layers.commitMerge(LINEAGE, layer("M2", 5), ["L2"], 2)).rejects.toThrow(ConflictError);
      await layers.markDead(LINEAGE, ["L2"], at(5), 3);
      await expect(layers.commitMerge(LINEAGE, layer("M2", 5), ["L2"], 4)).rejects.toThrow(
        /L2 is dead, not live/,
      );
      expect(await generation()).toBe(4);
      expect(await layers.getLayer(LINEAGE, "M2")).toBeUndefined();
      expect((await layers.layers(LINEAGE)).filter((l) => l.id !== "L2")).toEqual(
        before.filter((l) => l.id !== "L2"),
      );
    });

    it("T-drop sets layers dead at the given time; a stale generation writes nothing", async () => {
      await twoSnapshots();
      await expect(layers.markDead(LINEAGE, ["L2"], at(5), 1)).rejects.toThrow(ConflictError);
      expect((await layers.getLayer(LINEAGE, "L2"))?.state).toBe("live");
      await layers.commitMerge(LINEAGE, layer("M1", 4), ["L1"], 2);
      await layers.markDead(LINEAGE, ["L1", "L2"], at(5), 3);
      expect(await generation()).toBe(4);
      const all = await layers.layers(LINEAGE);
      expect(all.map((l) => [l.id, l.state, l.stateAt])).toEqual([
        ["L1", "dead", at(5)],
        ["L2", "dead", at(5)],
        ["M1", "live", at(4)],
      ]);
      await expect(layers.markDead(LINEAGE, ["L2"], at(6), 4)).rejects.toThrow(/dead already/);
      await expect(layers.markDead(LINEAGE, ["L9"], at(6), 4)).rejects.toThrow(ConflictError);
      expect(await generation()).toBe(4);
    });

    it("markObjectDeleted only for a retired or dead layer, idempotent, generation untouched", async () => {
      await twoSnapshots();
      await expect(layers.markObjectDeleted(LINEAGE, "L1")).rejects.toThrow(/is live/);
      await expect(layers.markObjectDeleted(LINEAGE, "L9")).rejects.toThrow(NotFoundError);
      await layers.commitMerge(LINEAGE, layer("M1", 4), ["L1"], 2);
      await layers.markObjectDeleted(LINEAGE, "L1");
      await layers.markObjectDeleted(LINEAGE, "L1");
      expect(await layers.getLayer(LINEAGE, "L1")).toMatchObject({ state: "retired", objectDeleted: true });
      expect(await generation()).toBe(3);
    });

    it("forgetLayer refuses while stored, named by a snapshot or by a replacedBy; then removes it, idempotently", async () => {
      await twoSnapshots();
      await layers.commitMerge(LINEAGE, layer("M1", 4), ["L1", "L2"], 2);
      await layers.commitMerge(LINEAGE, layer("M2", 5, { level: 2 }), ["M1"], 3);
      await expect(layers.forgetLayer(LINEAGE, "L1")).rejects.toThrow(/archives are not deleted/);
      for (const id of ["L1", "L2", "M1"]) await layers.markObjectDeleted(LINEAGE, id);
      await expect(layers.forgetLayer(LINEAGE, "L1")).rejects.toThrow(
        new RegExp(`snapshot ${sid(1)} names it`),
      );
      // M1 is named by no snapshot, but L1 and L2 (named by S1, S2) resolve through it to M2.
      await expect(layers.forgetLayer(LINEAGE, "M1")).rejects.toThrow(/layer L[12] is replaced by it/);
      await index.remove(LINEAGE, sid(1));
      await index.remove(LINEAGE, sid(2));
      await layers.forgetLayer(LINEAGE, "L1");
      await layers.forgetLayer(LINEAGE, "L2");
      await layers.forgetLayer(LINEAGE, "M1");
      await layers.forgetLayer(LINEAGE, "M1");
      expect((await layers.layers(LINEAGE)).map((l) => l.id)).toEqual(["M2"]);
    });

    it("records a layer's verification; NotFoundError for an unknown layer", async () => {
      await twoSnapshots();
      const verification = { verdict: "ok" as const, level: "quick" as const, at: at(3) };
      await layers.recordLayerVerification(LINEAGE, "L2", verification);
      expect((await layers.getLayer(LINEAGE, "L2"))?.verification).toEqual(verification);
      await expect(layers.recordLayerVerification(LINEAGE, "L9", verification)).rejects.toThrow(
        NotFoundError,
      );
    });

    it("of two transactions planned from one generation, exactly one lands", async () => {
      await twoSnapshots();
      const races = await Promise.allSettled([
        layers.commitMerge(LINEAGE, layer("M1", 4), ["L1", "L2"], 2),
        fixture.other.commitMerge(LINEAGE, layer("M2", 4), ["L1", "L2"], 2),
      ]);
      expect(races.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = races.find((r) => r.status === "rejected");
      expect(lost?.reason).toBeInstanceOf(ConflictError);
      expect(await generation()).toBe(3);
      const winner = races[0]!.status === "fulfilled" ? "M1" : "M2";
      const all = await layers.layers(LINEAGE);
      expect(all.map((l) => [l.id, l.state, l.replacedBy])).toEqual([
        ["L1", "retired", [winner]],
        ["L2", "retired", [winner]],
        [winner, "live", undefined],
      ]);

      // A snapshot and a drop planned at one generation: the drop cannot take the layer it needs.
      const races2 = await Promise.allSettled([
        layers.commitLayered(snap(3, ["L3", winner]), layer("L3", 3), [sid(2)], 3),
        fixture.other.markDead(LINEAGE, [winner], at(5), 3),
      ]);
      expect(races2.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await generation()).toBe(4);
      const snapshotLanded = races2[0]!.status === "fulfilled";
      expect(await index.get(LINEAGE, sid(3))).toEqual(snapshotLanded ? snap(3, ["L3", winner]) : undefined);
      expect((await layers.getLayer(LINEAGE, winner))?.state).toBe(snapshotLanded ? "live" : "dead");
      expect(await layers.getLayer(LINEAGE, "L3")).toEqual(snapshotLanded ? layer("L3", 3) : undefined);
    });

    describe("T-fold (old archives folded in)", () => {
      const full = snapshot({ id: sid(1), takenAt: at(1), confirmedAt: at(1), hold: true });
      const incr = snapshot({
        id: sid(2),
        takenAt: at(2),
        confirmedAt: at(2),
        kind: "incremental",
        parentId: sid(1),
        objectKey: `repos/${LINEAGE}/2026/11/02/${sid(2)}.ibk`,
        verification: { at: at(2), verdict: "ok", level: "deep" },
      });
      const legacyOf = (s: Snapshot, id: string): Layer =>
        layer(id, 3, {
          level: "legacy",
          objectKey: s.objectKey,
          oidsKey: s.objectKey,
          oidsSize: 0,
          state: "retired",
          replacedBy: ["F1"],
        });
      const change = (s: Snapshot, layers = ["F1"]): FoldedSnapshot => ({
        id: s.id,
        legacyKey: s.objectKey,
        objectKey: s.objectKey.replace(/\.ibk$/, ".layered-x.ibk"),
        size: 99,
        sha256: "9".repeat(64),
        bundleBytes: 0,
        layers,
      });
      const fold = (changes = [change(full), change(incr)]): LegacyFold => ({
        layer: layer("F1", 3),
        legacy: [legacyOf(full, "G1"), legacyOf(incr, "G2")],
        snapshots: changes,
      });

      beforeEach(async () => {
        await index.commit(full);
        await index.commit(incr);
      });

      it("turns the chain's records layered in one transaction, keeping the hold, and a retry is a no-op", async () => {
        await layers.commitFold(LINEAGE, fold(), 0);
        expect(await generation()).toBe(1);
        const folded = await index.get(LINEAGE, incr.id);
        const { parentId: _p, verification: _v, ...rest } = incr;
        expect(folded).toEqual({ ...rest, ...omitId(change(incr)), kind: "layered" });
        expect((await index.get(LINEAGE, full.id))?.hold).toBe(true);
        const all = await layers.layers(LINEAGE);
        expect(all.map((l) => [l.id, l.state, l.level])).toEqual([
          ["F1", "live", 0],
          ["G1", "retired", "legacy"],
          ["G2", "retired", "legacy"],
        ]);
        expect(resolveLayers(folded!, all).map((l) => l.id)).toEqual(["F1"]);
        await layers.commitFold(LINEAGE, fold(), 0);
        expect(await generation()).toBe(1);
      });

      it("writes a folded snapshot's whole metadata record, and the summaries every reader lists follow", async () => {
        const whole = { items: { issues: 7, labels: 2 }, unavailable: {}, requests: 3, notModified: 1 };
        await layers.commitFold(LINEAGE, fold([change(full), { ...change(incr), metadata: whole }]), 0);
        expect((await index.get(LINEAGE, incr.id))?.metadata).toEqual(whole);
        const [listed] = await index.listMany([LINEAGE]);
        const all = (await index.listAll()).get(LINEAGE);
        for (const summaries of [listed, all]) {
          const summary = summaries?.find((s) => s.id === incr.id);
          expect(summary).toMatchObject({ kind: "layered", metadata: whole, layers: ["F1"] });
          expect(summary?.parentId).toBeUndefined();
          expect(summaries?.find((s) => s.id === full.id)).toMatchObject({ kind: "layered", hold: true });
        }
      });

      it("refuses a stale generation, a snapshot left out that builds on a folded one, and a moved archive, writing nothing", async () => {
        await expect(layers.commitFold(LINEAGE, fold(), 5)).rejects.toThrow(ConflictError);
        await expect(layers.commitFold(LINEAGE, fold([change(full)]), 0)).rejects.toThrow(
          /builds on .* not folded with it/,
        );
        const moved = { ...change(incr), legacyKey: "repos/acme/widget/elsewhere.ibk" };
        const movedFold = { ...fold([change(full), moved]) };
        movedFold.legacy = [legacyOf(full, "G1"), { ...legacyOf(incr, "G2"), objectKey: moved.legacyKey }];
        await expect(layers.commitFold(LINEAGE, movedFold, 0)).rejects.toThrow(ConflictError);
        expect(await generation()).toBe(0);
        expect(await layers.layers(LINEAGE)).toEqual([]);
        expect((await index.get(LINEAGE, incr.id))?.kind).toBe("incremental");
      });

      it("refuses a folded snapshot whose old archive no legacy record keeps, and a dead named layer", async () => {
        const unkept = { ...fold(), legacy: [legacyOf(full, "G1")] };
        await expect(layers.commitFold(LINEAGE, unkept, 0)).rejects.toThrow(/has no legacy record/);
        await layers.commitLayered(snap(4, ["L4"]), layer("L4", 4), [], 0);
        await layers.markDead(LINEAGE, ["L4"], at(5), 1);
        const naming = fold([change(full, ["F1", "L4"]), change(incr)]);
        await expect(layers.commitFold(LINEAGE, naming, 2)).rejects.toThrow(/L4 is dead/);
        expect(await generation()).toBe(2);
        expect((await index.get(LINEAGE, full.id))?.kind).toBe("full");
      });
    });
  });
}

function omitId(change: FoldedSnapshot): Omit<FoldedSnapshot, "id" | "legacyKey"> {
  const { id: _id, legacyKey: _key, ...rest } = change;
  return rest;
}
