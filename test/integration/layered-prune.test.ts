// The index side with the layered write path end to end: ten layered backups of a repository
// pushed to between them, prune --compact merging their layers, then a prune by count and the
// layer garbage after the grace period; every kept snapshot still restores exactly as it was taken,
// and the store holds only layers a kept snapshot resolves to.
import { beforeAll, describe, expect, it } from "vitest";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import { layeredWorld, REPO } from "../helpers/layered-world.js";

const world = layeredWorld({ name: "layered-prune", config: "snapshots:\n  layers: true\n" });

beforeAll(async () => {
  await world.open();
  for (let n = 0; n < 10; n++) {
    if (n > 0) await world.push("main", `push-${n}.txt`, `push ${n}\n`);
    await world.snap();
  }
}, 180_000);

describe("layered snapshots through prune --compact and layer garbage", () => {
  it("compaction merges the ten level-0 layers; every snapshot restores as taken", async () => {
    const before = (await world.app.layers!.layers(REPO)).filter((l) => l.state === "live");
    expect(before).toHaveLength(10);
    const report = await world.prune({ last: 100 }, { compact: true });
    expect(report.remove).toEqual([]);
    expect(report.compaction?.merges).toHaveLength(1);
    expect(report.compaction!.merges[0]!.inputs).toHaveLength(10);
    const live = (await world.app.layers!.layers(REPO)).filter((l) => l.state === "live");
    expect(live.map((l) => l.id)).toEqual([report.compaction!.merges[0]!.merged]);
    for (const id of world.taken.keys()) await world.expectRestoresAsTaken(id);
  });

  it("a prune by count, past the grace period and the retention, leaves only what the kept snapshots read", async () => {
    world.clock.advance(2 * LAYER_GRACE_MS + 3_600_000);
    const report = await world.prune({ last: 3 });
    expect(report.remove).toHaveLength(7);
    expect(report.layers?.deleted).toHaveLength(10);
    const kept = await world.app.index.list(REPO);
    expect(kept).toHaveLength(3);
    const layers = await world.app.layers!.layers(REPO);
    const needed = new Set(
      kept.flatMap((s) => resolveLayers(s, layers)).flatMap((l) => [l.objectKey, l.oidsKey]),
    );
    const stored = await world.stored([`layers/${REPO}/`]);
    expect([...stored.keys()].sort()).toEqual([...needed].sort());
    for (const snapshot of kept) await world.expectRestoresAsTaken(snapshot.id);
  });
});
