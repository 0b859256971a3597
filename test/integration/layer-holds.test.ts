// Legal holds reach the layers: a held snapshot's layers are held in the store (no credential
// deletes them) through prune and compaction, the held snapshot restores exactly past its expiry,
// layers a merge replaced lose their hold and go after the grace period, and a release lifts the
// hold from every layer only held snapshots kept held. The hold command's part holds a snapshot's
// layers at once.
import { beforeAll, describe, expect, it } from "vitest";
import { RetainedError } from "../../functions/core/errors.js";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import { holdLayersOf } from "../../functions/core/layers/holds.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import type { Layer } from "../../functions/core/model.js";
import { layeredWorld, REPO } from "../helpers/layered-world.js";

const world = layeredWorld({ name: "layer-holds", config: "snapshots:\n  layers: true\n" });
const { clock } = world;
let heldId: string;

/** Whether the store holds both archives of `layer`, or neither (anything else fails). */
async function storeHeld(layer: Layer): Promise<boolean> {
  const pack = await world.app.store.stat(layer.objectKey);
  const oids = await world.app.store.stat(layer.oidsKey);
  expect(pack?.held === true, layer.id).toBe(oids?.held === true);
  return pack?.held === true;
}

const resolvedOfHeld = async () => {
  const held = (await world.app.index.list(REPO)).find((s) => s.id === heldId)!;
  return resolveLayers(held, await world.app.layers!.layers(REPO));
};

beforeAll(async () => {
  await world.open();
  for (let n = 0; n < 9; n++) {
    if (n > 0) await world.push("main", `push-${n}.txt`, `push ${n}\n`);
    await world.snap();
  }
  // The second snapshot is put on legal hold.
  heldId = [...world.taken.keys()][1]!;
  await world.app.index.setHold(REPO, heldId, true);
}, 180_000);

describe("legal holds on layered snapshots", () => {
  it("prune holds every layer the held snapshot resolves to, and no other; the store refuses to delete them", async () => {
    const report = await world.prune({ last: 100 });
    const needed = await resolvedOfHeld();
    expect(needed).toHaveLength(2); // its own layer and the first snapshot's
    expect(report.layers?.holds?.held.sort()).toEqual(needed.map((l) => l.id).sort());
    const neededIds = new Set(needed.map((l) => l.id));
    for (const layer of await world.app.layers!.layers(REPO))
      expect(await storeHeld(layer), layer.id).toBe(neededIds.has(layer.id));
    await expect(world.app.store.delete(needed[0]!.objectKey)).rejects.toBeInstanceOf(RetainedError);
  });

  it("past its expiry, through compaction and layer garbage, the held snapshot keeps its layers and restores exactly", async () => {
    const merged = await world.prune({ last: 100 }, { compact: true });
    expect(merged.compaction?.merges).toHaveLength(1);
    // A year on, past the grace period and the store's retention: only the newest is kept by the
    // policy, and the held one with it.
    clock.advance(365 * 24 * 3_600_000 + 2 * LAYER_GRACE_MS);
    const report = await world.prune({ last: 1 });
    const kept = (await world.app.index.list(REPO)).map((s) => s.id);
    expect(kept).toContain(heldId);
    expect(kept).toHaveLength(2);
    // The held snapshot now reads the merged layer: held; the inputs it named lost their hold and went.
    const needed = await resolvedOfHeld();
    expect(needed.map((l) => l.id)).toEqual([merged.compaction!.merges[0]!.merged]);
    expect(await storeHeld(needed[0]!)).toBe(true);
    expect(report.layers?.deleted.sort()).toEqual([...merged.compaction!.merges[0]!.inputs].sort());
    for (const layer of await world.app.layers!.layers(REPO))
      if (layer.id !== needed[0]!.id) expect(layer.objectDeleted, layer.id).toBe(true);
    await world.expectRestoresAsTaken(heldId);
  });

  it("released, the hold is lifted from its layers at the next prune", async () => {
    await world.app.index.setHold(REPO, heldId, false);
    await world.app.store.setLifecycle((await world.app.index.get(REPO, heldId))!.objectKey, { hold: false });
    const [layer] = await resolvedOfHeld();
    const report = await world.prune({ last: 1 });
    expect(report.remove.map((r) => r.snapshot.id)).toEqual([heldId]);
    expect(report.layers?.holds?.released).toEqual([layer!.id]);
    expect(await storeHeld(layer!)).toBe(false);
    // The newest snapshot still reads that layer: it stays, and restores exactly.
    const [newest] = await world.app.index.list(REPO);
    expect(resolveLayers(newest!, await world.app.layers!.layers(REPO)).map((l) => l.id)).toEqual([
      layer!.id,
    ]);
    await world.expectRestoresAsTaken(newest!.id);
  });

  it("the hold command's part holds a layered snapshot's layers at once, before any prune", async () => {
    const [newest] = await world.app.index.list(REPO);
    const [layer] = resolveLayers(newest!, await world.app.layers!.layers(REPO));
    expect(await storeHeld(layer!)).toBe(false);
    expect(await holdLayersOf(world.app, REPO, newest!)).toEqual([layer!.id]);
    expect(await storeHeld(layer!)).toBe(true);
    await expect(world.app.store.delete(layer!.oidsKey)).rejects.toBeInstanceOf(RetainedError);
  });
});
