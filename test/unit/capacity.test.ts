// core/capacity.ts: the quota and the cost budget against now and the cost report's projection,
// the growth rule net of prunes (read from the audit trail), and where a projection crosses a limit.
import { describe, expect, it } from "vitest";
import { inWindow } from "../../functions/core/audit-chain.js";
import { bytesFreedSince, capacityFindings, crossingDay } from "../../functions/core/capacity.js";
import type { HealthReport } from "../../functions/core/health.js";
import { size } from "../../functions/core/health-checks.js";
import type { AuditReader } from "../../functions/core/ports.js";
import { snapshot } from "../contract/snapshot-index.js";

const at = "2026-12-01T00:00:00.000Z";
const daysAgo = (d: number) => new Date(Date.parse(at) - d * 86_400_000).toISOString();
const GIB = 2 ** 30;

/** A report of one repository with a 1 GiB archive a day for ten days, and a projection. */
function report(
  points: { day: number; bytes: number; monthlyCost: number }[],
  monthlyCost = 2,
): HealthReport {
  const snapshots = Array.from({ length: 10 }, (_, i) =>
    snapshot({ id: `s${i}`, takenAt: daysAgo(i + 0.5), size: GIB }),
  );
  return {
    ok: true,
    at,
    repos: [{ repo: "acme/widget", storedBytes: 10 * GIB, problems: [] } as never],
    snapshots: [snapshots],
    storage: {
      currency: "USD",
      bytes: 10 * GIB,
      monthlyCost,
      projection: { points: points.map((p) => ({ ...p, at, snapshots: 1, byClass: {} })) },
    } as never,
  };
}

describe("crossingDay", () => {
  it.each([
    [100, [[30, 200]], 150, 15],
    [
      100,
      [
        [30, 120],
        [60, 180],
      ],
      150,
      45,
    ],
    [100, [[30, 120]], 150, undefined],
    [200, [[30, 300]], 150, 0],
    [
      100,
      [
        [30, 100],
        [61, 100],
      ],
      100.5,
      undefined,
    ],
  ] as [number, [number, number][], number, number | undefined][])(
    "from %d through %j, %d is reached on day %s",
    (now, points, limit, day) => {
      expect(crossingDay(now, points, limit)).toBe(day);
    },
  );
});

describe("capacity findings", () => {
  const points = [
    { day: 30, bytes: 20 * GIB, monthlyCost: 4 },
    { day: 61, bytes: 30 * GIB, monthlyCost: 6 },
  ];

  it("the quota: ok far off, warned when the projection passes it within warnDays, failed when over", () => {
    const rules = (budgetBytes: number, warnDays = 30) => ({ budgetBytes, growthWindowDays: 7, warnDays });
    expect(capacityFindings(report(points), rules(100 * GIB), 0, size)).toEqual([
      { rule: "capacity.budgetBytes", status: "ok", reason: "10.0 GiB stored of a 100.0 GiB budget (10 %)" },
    ]);
    expect(capacityFindings(report(points), rules(15 * GIB), 0, size)[0]).toEqual({
      rule: "capacity.budgetBytes",
      status: "warning",
      reason: "10.0 GiB stored of a 15.0 GiB budget (67 %); projected to pass it in 15 days",
    });
    expect(capacityFindings(report(points), rules(15 * GIB, 10), 0, size)[0]!.status).toBe("ok");
    expect(capacityFindings(report(points), rules(10 * GIB), 0, size)[0]!.status).toBe("failed");
  });

  it("the monthly cost budget, in the price table's currency", () => {
    const rules = { monthlyCostBudget: 5, growthWindowDays: 7, warnDays: 60 };
    expect(capacityFindings(report(points), rules, 0, size)).toEqual([
      {
        rule: "capacity.monthlyCostBudget",
        status: "warning",
        reason: "2.00 USD a month of a 5.00 USD budget; projected to pass it in 46 days",
      },
    ]);
    expect(capacityFindings(report(points, 5), rules, 0, size)[0]!.status).toBe("failed");
  });

  it("growth: archives written in the window less what prunes freed, per day", () => {
    const rules = (growthBytesPerDay: number) => ({ growthBytesPerDay, growthWindowDays: 7, warnDays: 30 });
    // 7 archives of 1 GiB in the last 7 days: 1 GiB a day with nothing pruned.
    const grown = capacityFindings(report(points), rules(GIB / 2), 0, size)[0]!;
    expect(grown).toEqual({
      rule: "capacity.growthBytesPerDay",
      status: "warning",
      reason:
        "stored bytes grew 1.0 GiB a day over the last 7 days (7.0 GiB written, 0 B pruned), against 512.0 MiB a day",
    });
    // The prunes freed 6 GiB: net growth 1/7 GiB a day, under the rule.
    expect(capacityFindings(report(points), rules(GIB / 2), 6 * GIB, size)[0]!.status).toBe("ok");
  });

  it("reads the bytes prunes freed after a time from the audit trail's window", async () => {
    const entry = (action: string, when: string, details: Record<string, unknown>) => ({
      action,
      at: when,
      details,
    });
    const entries = [
      entry("prune.completed", daysAgo(10), { bytesFreed: 1000 }),
      entry("prune.completed", daysAgo(2), { bytesFreed: 300 }),
      entry("prune.completed", daysAgo(1), { bytesFreed: 200 }),
      entry("prune.deleted", daysAgo(1), { bytes: 5000 }),
      entry("prune.completed", daysAgo(1), { bytesFreed: "lots" }),
    ];
    const trail = {
      stored() {
        throw new Error("the whole trail is not read");
      },
      entriesSince: async (actions: readonly string[], since: string) =>
        entries.filter((e) => inWindow(e, new Set(actions), since)),
    } as unknown as AuditReader;
    expect(await bytesFreedSince(trail, new Date(daysAgo(7)))).toBe(500);
    expect(await bytesFreedSince(undefined, new Date(daysAgo(7)))).toBe(0);
  });
});
