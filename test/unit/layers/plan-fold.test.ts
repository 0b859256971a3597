// planFold: old snapshots grouped by the full snapshot their chain starts at, parents first; a
// chain that cannot fold whole (a hold, a broken link) is left; metadata deltas fold.
import { describe, expect, it } from "vitest";
import { planFold } from "../../../functions/core/layers/plan-fold.js";
import type { Snapshot } from "../../../functions/core/model.js";
import { snapshot } from "../../contract/snapshot-index.js";
import { layeredSnapshot } from "../../helpers/layer-records.js";

const at = (day: number, hour = 0): string =>
  `2026-11-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00.000Z`;
const full = (id: string, day: number, more: Partial<Snapshot> = {}): Snapshot =>
  snapshot({ id, takenAt: at(day), ...more });
const incr = (
  id: string,
  parentId: string,
  day: number,
  hour: number,
  more: Partial<Snapshot> = {},
): Snapshot => snapshot({ id, takenAt: at(day, hour), kind: "incremental", parentId, ...more });

const LAYERED = layeredSnapshot("L", ["X"], { takenAt: at(9) });

describe("planFold", () => {
  it("folds nothing in a repository with no layered snapshot (layers off)", () => {
    const plan = planFold([full("a", 1), incr("a1", "a", 1, 1)]);
    expect(plan).toEqual([
      {
        snapshots: [full("a", 1), incr("a1", "a", 1, 1)],
        skip: expect.stringMatching(/no layered snapshot/),
      },
    ]);
  });

  it("groups each chain under its full snapshot, parents first, oldest chain first, and leaves layered snapshots out", () => {
    const list = [
      layeredSnapshot("L", ["X"], { takenAt: at(5) }),
      incr("b2", "b1", 3, 2),
      full("b", 3),
      incr("a1", "a", 1, 1),
      incr("b1", "b", 3, 1),
      full("a", 1),
    ];
    expect(planFold(list).map((c) => [c.snapshots.map((s) => s.id), c.skip])).toEqual([
      [["a", "a1"], undefined],
      [["b", "b1", "b2"], undefined],
    ]);
  });

  it("folds a chain whose incrementals hold GitHub metadata as a delta (the fold writes it whole)", () => {
    const delta = { metadata: { items: { issues: 2 }, unavailable: {}, requests: 1, notModified: 0 } };
    const plan = planFold([full("a", 1, delta), incr("a1", "a", 1, 1, delta), LAYERED]);
    expect(plan).toEqual([{ snapshots: [full("a", 1, delta), incr("a1", "a", 1, 1, delta)] }]);
  });

  it("leaves a chain whole when one of it is on legal hold, and folds the others", () => {
    const plan = planFold([full("a", 1), incr("a1", "a", 1, 1, { hold: true }), full("b", 2), LAYERED]);
    expect(plan[0]).toMatchObject({ skip: expect.stringMatching(/a1 is on legal hold/) });
    expect(plan[0]!.snapshots.map((s) => s.id)).toEqual(["a", "a1"]);
    expect(plan[1]!.skip).toBeUndefined();
  });

  it("leaves a chain with no refs at all (no git objects to fold), so the cloud does not hand it over daily", () => {
    const plan = planFold([full("a", 1, { refs: {} }), incr("a1", "a", 1, 1, { refs: {} }), LAYERED]);
    expect(plan[0]!.skip).toMatch(/holds no git objects/);
  });

  it("leaves a chain whose parent is not in the index, naming the link", () => {
    const [chain] = planFold([incr("a2", "gone", 1, 2), LAYERED]);
    expect(chain!.skip).toMatch(/a2's chain is broken \(parent gone/);
  });
});
