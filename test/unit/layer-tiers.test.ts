// Storage classes of shared pack layers: a layer follows the youngest kept snapshot that resolves to
// it. What today's or a recent snapshot needs stays warm; what only an old yearly needs goes cold.
import { describe, expect, it } from "vitest";
import { layerClassInputs } from "../../functions/core/layer-tiers.js";
import { planRetention, type RetentionCandidate } from "../../functions/core/retention.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { chooseStorageClass, settledKeepUntil } from "../../functions/core/storage-tiers.js";

type Layered = RetentionCandidate & { layers: string[] };

const layered = (takenAt: string, layers: string[]): Layered => ({
  id: `${takenAt.replace(/[-:.]/g, "")}-layered`,
  takenAt,
  layers,
});

describe("layer storage classes", () => {
  // L0 holds a branch force-pushed away in 2025: only the 2024 yearly needs it. L1 is the history
  // every snapshot shares; L2 came with 5 January, L2b with a branch deleted again since; L3 is today's.
  const yearly2024 = layered("2024-12-31T00:00:00.000Z", ["L0", "L1"]);
  const jan05 = layered("2026-01-05T00:00:00.000Z", ["L2b", "L2", "L1"]);
  const newest = layered("2026-01-10T00:00:00.000Z", ["L3", "L2", "L1", "L1"]);
  const history = [yearly2024, jan05, newest];
  const now = new Date("2026-01-10T01:00:00.000Z");
  const plan = planRetention(history, DEFAULT_RETENTION_POLICY, now);
  const settled = settledKeepUntil(history, DEFAULT_RETENTION_POLICY, now);
  const inputs = layerClassInputs(
    plan.keep.map((k) => k.snapshot),
    plan.reference,
    settled,
    now,
    (s) => s.layers,
  );
  const writtenAt: Record<string, string> = {
    L0: yearly2024.takenAt,
    L1: "2024-06-01T00:00:00.000Z",
    L2: jan05.takenAt,
    L2b: jan05.takenAt,
    L3: newest.takenAt,
  };
  const classOf = (layer: string) => {
    const input = inputs.get(layer)!;
    return chooseStorageClass({ current: "STANDARD", createdAt: writtenAt[layer]!, now, ...input });
  };

  it("names every layer a kept snapshot needs, once, with its readers newest first", () => {
    expect(plan.keep.map((k) => k.snapshot.id)).toEqual([newest.id, jan05.id, yearly2024.id]);
    expect([...inputs.keys()].sort()).toEqual(["L0", "L1", "L2", "L2b", "L3"]);
    expect(inputs.get("L1")?.neededBy).toEqual([newest.id, jan05.id, yearly2024.id]);
    expect(inputs.get("L0")?.neededBy).toEqual([yearly2024.id]);
  });

  it("what the newest snapshot or one of the last 7 days needs stays STANDARD", () => {
    for (const layer of ["L1", "L2", "L3"]) {
      expect(classOf(layer)).toEqual({
        storageClass: "STANDARD",
        move: false,
        why: "read by the newest snapshot",
      });
    }
    expect(classOf("L2b")).toEqual({
      storageClass: "STANDARD",
      move: false,
      why: `read by ${jan05.id} (last 7 days)`,
    });
  });

  it("a layer only the year-old yearly needs goes to ARCHIVE, sure until that yearly is", () => {
    const l0 = inputs.get("L0")!;
    expect(l0.readBy).toBeUndefined();
    expect(l0.settledUntil).toBe(settled.get(yearly2024.id));
    expect(Date.parse(l0.settledUntil!)).toBeGreaterThan(Date.parse("2031-12-30T00:00:00.000Z"));
    expect(classOf("L0")).toMatchObject({ storageClass: "ARCHIVE", move: true });
    // A layer is kept as long as its longest-kept reader: L1 is sure until the yearly is.
    expect(inputs.get("L1")?.settledUntil).toBe(settled.get(yearly2024.id));
  });

  it("a reader that may go with the next snapshot counts as leaving now; open-ended wins", () => {
    const a = layered("2020-01-01T00:00:00.000Z", ["A"]);
    const b = layered("2019-01-01T00:00:00.000Z", ["A", "B"]);
    const later = new Map<string, string | null>([[b.id, null]]);
    const out = layerClassInputs([a, b], "2026-01-10T00:00:00.000Z", later, now, (s) => s.layers);
    expect(out.get("A")?.settledUntil).toBeNull();
    const only = layerClassInputs([a], "2026-01-10T00:00:00.000Z", new Map(), now, (s) => s.layers);
    expect(only.get("A")).toEqual({
      readBy: "read by the newest snapshot",
      settledUntil: now.toISOString(),
      neededBy: [a.id],
    });
  });
});
