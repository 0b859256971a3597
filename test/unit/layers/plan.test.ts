// Compaction planning: levels by object count, a full level (8 or more) merges whole, oldest first,
// and only live layers take part.
import { describe, expect, it } from "vitest";
import { LAYERS_PER_LEVEL, levelOf, planCompaction } from "../../../functions/core/layers/plan.js";
import type { Layer } from "../../../functions/core/model.js";
import { layerRecord } from "../../helpers/layer-records.js";

let made = 0;
function layers(count: number, objects: number, overrides: Partial<Layer> = {}): Layer[] {
  return Array.from({ length: count }, () => {
    const n = made++;
    const createdAt = new Date(Date.parse("2026-01-01T00:00:00.000Z") + n * 60_000).toISOString();
    return layerRecord({
      id: `L${String(n).padStart(4, "0")}`,
      objects,
      createdAt,
      stateAt: createdAt,
      ...overrides,
    });
  });
}

describe("levelOf", () => {
  const table: Array<[number, number]> = [
    [0, 0],
    [1, 0],
    [2047, 0],
    [2048, 1],
    [16_383, 1],
    [16_384, 2],
    [131_071, 2],
    [131_072, 3],
    [1_048_575, 3],
    [1_048_576, 4],
  ];
  for (const [objects, level] of table) {
    it(`puts ${objects} objects in level ${level}`, () => expect(levelOf(objects)).toBe(level));
  }
});

describe("planCompaction", () => {
  it("plans nothing while every level holds at most 7 layers", () => {
    const all = [...layers(7, 10), ...layers(7, 3000), ...layers(7, 20_000), ...layers(1, 200_000)];
    expect(planCompaction(all)).toEqual([]);
  });

  it("merges a full level whole, oldest first, and says how many objects at most come out", () => {
    const level0 = layers(9, 100);
    const level1 = layers(3, 5000);
    const plan = planCompaction([...level1, ...[...level0].reverse()]);
    expect(plan).toHaveLength(1);
    expect(plan[0]!.level).toBe(0);
    expect(plan[0]!.inputs.map((l) => l.id)).toEqual(level0.map((l) => l.id));
    expect(plan[0]!.objects).toBe(900);
    expect(plan[0]!.layersInLevel).toBe(9);
  });

  it("plans each full level, lowest first", () => {
    const plan = planCompaction([...layers(LAYERS_PER_LEVEL, 20_000), ...layers(LAYERS_PER_LEVEL, 1)]);
    expect(plan.map((m) => [m.level, m.inputs.length])).toEqual([
      [0, 8],
      [2, 8],
    ]);
  });

  it("counts only live layers: retired and dead ones neither fill a level nor merge", () => {
    const live = layers(7, 50);
    const retired = layers(3, 50, { state: "retired", replacedBy: ["X"] });
    const dead = layers(2, 50, { state: "dead" });
    expect(planCompaction([...live, ...retired, ...dead])).toEqual([]);
    const plan = planCompaction([...live, ...layers(1, 60), ...retired]);
    expect(plan[0]!.inputs).toHaveLength(8);
    expect(plan[0]!.inputs.every((l) => l.state === "live")).toBe(true);
  });

  it("places legacy layers (old archives folded in) by their object count like any other", () => {
    const legacy = layers(8, 4000, { level: "legacy" });
    expect(planCompaction(legacy).map((m) => [m.level, m.inputs.length])).toEqual([[1, 8]]);
  });

  it("after merging a plan's level into one layer, the level no longer plans", () => {
    const inputs = layers(8, 300);
    const [merge] = planCompaction(inputs);
    const merged = layers(1, merge!.objects, { level: levelOf(merge!.objects) });
    const after = [
      ...inputs.map((l) => ({ ...l, state: "retired" as const, replacedBy: [merged[0]!.id] })),
      ...merged,
    ];
    expect(levelOf(merge!.objects)).toBe(1);
    expect(planCompaction(after)).toEqual([]);
  });
});
