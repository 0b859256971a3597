// Layer storage classes in prune: both archives of a layer follow its youngest kept reader, through
// merges (resolve), by the same rule as an archive; a layer only an old yearly reads goes cold, one
// the newest snapshot reads comes back warm once the colder class's minimum is served.
import { describe, expect, it } from "vitest";
import { applyLayerClasses, planLayerClasses } from "../../../functions/core/layers/classes.js";
import type { Layer } from "../../../functions/core/model.js";
import type { BlobInfo, BlobStore, LifecycleChange } from "../../../functions/core/ports.js";
import { planRetention } from "../../../functions/core/retention.js";
import { DEFAULT_RETENTION_POLICY } from "../../../functions/core/retention-policy.js";
import { layeredSnapshot, layerRecord } from "../../helpers/layer-records.js";

const policy = DEFAULT_RETENTION_POLICY;
const snap = (takenAt: string, layers: string[]) =>
  layeredSnapshot(`${takenAt.replace(/[-:.]/g, "")}-x`, layers, { takenAt, confirmedAt: takenAt });
// L0: only the 2024 yearly needs it. L1: merged into M1 (retired), which every snapshot shares.
const yearly2024 = snap("2024-12-31T00:00:00.000Z", ["L0", "L1"]);
const jan05 = snap("2026-01-05T00:00:00.000Z", ["L2", "L1"]);
const newest = snap("2026-01-10T00:00:00.000Z", ["L3", "L2", "L1"]);
const snapshots = [newest, jan05, yearly2024];
const now = new Date("2026-01-10T01:00:00.000Z");
const layers: Layer[] = [
  layerRecord({ id: "L0", createdAt: yearly2024.takenAt }),
  layerRecord({ id: "L1", state: "retired", replacedBy: ["M1"] }),
  layerRecord({ id: "M1", createdAt: "2024-06-01T00:00:00.000Z" }),
  layerRecord({ id: "L2", createdAt: jan05.takenAt }),
  layerRecord({ id: "L3", createdAt: newest.takenAt }),
];
const objects: BlobInfo[] = layers.flatMap((layer) =>
  [layer.objectKey, layer.oidsKey].map((key) => ({
    key,
    size: 1,
    createdAt: layer.createdAt,
    // M1 went to ARCHIVE by age, as the bucket's own rule would have moved it.
    storageClass: layer.id === "M1" ? "ARCHIVE" : "STANDARD",
    metadata: {},
  })),
);
const plan = planRetention(snapshots, policy, now);
const moves = planLayerClasses({
  kept: plan.keep.map((k) => k.snapshot),
  snapshots,
  reference: plan.reference,
  policy,
  now,
  layers,
  objects,
});

describe("layer storage classes", () => {
  it("sends what only an old yearly reads cold, and brings back warm what the newest reads", () => {
    expect(
      moves.map((m) => [m.layerId, m.key.endsWith(".oids.ibk") ? "oids" : "pack", m.from, m.to]),
    ).toEqual([
      ["M1", "pack", "ARCHIVE", "STANDARD"],
      ["M1", "oids", "ARCHIVE", "STANDARD"],
      ["L0", "pack", "STANDARD", "ARCHIVE"],
      ["L0", "oids", "STANDARD", "ARCHIVE"],
    ]);
    expect(moves[0]!.why).toMatch(/newest/);
  });

  it("moves nothing a recent snapshot reads, and nothing of a retired layer", () => {
    expect(moves.some((m) => ["L1", "L2", "L3"].includes(m.layerId))).toBe(false);
  });

  it("applies the moves to both archives, and a dry run only counts them", async () => {
    const calls: Array<[string, LifecycleChange]> = [];
    // Only setLifecycle is called: the recording store has nothing else.
    const store = {
      setLifecycle: async (key: string, change: LifecycleChange) => void calls.push([key, change]),
    };
    expect(await applyLayerClasses({ store: store as unknown as BlobStore }, moves, true)).toEqual({
      "ARCHIVE -> STANDARD": 2,
      "STANDARD -> ARCHIVE": 2,
    });
    expect(calls).toEqual([]);
    await applyLayerClasses({ store: store as unknown as BlobStore }, moves, false);
    expect(calls).toEqual(moves.map((m) => [m.key, { storageClass: m.to }]));
  });
});
