// Capacity rules, from the storage and cost report the health report already holds (index only):
// stored bytes against a quota, the monthly cost against a budget, each also when the report's
// year projection (cost.ts projectYear) passes it within `warnDays`; and the net growth of stored
// bytes per day over the last `growthWindowDays`: bytes of the archives written in the window and
// still held, less the bytes prunes freed in it (their audit entries), divided by its days.
import type { HealthReport } from "./health.js";
import type { AuditReader } from "./ports.js";

export interface CapacityRules {
  budgetBytes?: number;
  monthlyCostBudget?: number;
  growthBytesPerDay?: number;
  growthWindowDays: number;
  warnDays: number;
}

export type CapacityRule =
  "capacity.budgetBytes" | "capacity.monthlyCostBudget" | "capacity.growthBytesPerDay";

export interface CapacityFinding {
  rule: CapacityRule;
  status: "ok" | "warning" | "failed";
  reason: string;
}

const DAY_MS = 86_400_000;

/** Whether a rule looks ahead, so the health report must replay the year (seconds, the first time). */
export function capacityNeedsProjection(
  rules: Pick<CapacityRules, "budgetBytes" | "monthlyCostBudget">,
): boolean {
  return rules.budgetBytes !== undefined || rules.monthlyCostBudget !== undefined;
}
export const BUDGET_WARNING = 0.8;

/** The findings of every rule that is set; `freedBytes`: what prunes freed within the growth window. */
export function capacityFindings(
  report: HealthReport,
  rules: CapacityRules,
  freedBytes: number,
  size: (bytes: number) => string,
): CapacityFinding[] {
  const findings: CapacityFinding[] = [];
  const stored = report.repos.reduce((sum, r) => sum + r.storedBytes, 0);
  const storage = "error" in report.storage ? undefined : report.storage;
  const points = storage?.projection?.points ?? [];
  if (rules.budgetBytes !== undefined) {
    const limit = rules.budgetBytes;
    const share = stored / limit;
    const now = `${size(stored)} stored of a ${size(limit)} budget (${Math.round(share * 100)} %)`;
    const day = crossingDay(
      stored,
      points.map((p) => [p.day, p.bytes]),
      limit,
    );
    findings.push(
      share >= 1
        ? { rule: "capacity.budgetBytes", status: "failed", reason: now }
        : day !== undefined && day <= rules.warnDays
          ? {
              rule: "capacity.budgetBytes",
              status: "warning",
              reason: `${now}; projected to pass it in ${day} days`,
            }
          : { rule: "capacity.budgetBytes", status: share >= BUDGET_WARNING ? "warning" : "ok", reason: now },
    );
  }
  if (rules.monthlyCostBudget !== undefined && storage) {
    const limit = rules.monthlyCostBudget;
    const money = (n: number) => `${n.toFixed(2)} ${storage.currency}`;
    const now = `${money(storage.monthlyCost)} a month of a ${money(limit)} budget`;
    const day = crossingDay(
      storage.monthlyCost,
      points.map((p) => [p.day, p.monthlyCost]),
      limit,
    );
    findings.push(
      storage.monthlyCost >= limit
        ? { rule: "capacity.monthlyCostBudget", status: "failed", reason: now }
        : day !== undefined && day <= rules.warnDays
          ? {
              rule: "capacity.monthlyCostBudget",
              status: "warning",
              reason: `${now}; projected to pass it in ${day} days`,
            }
          : { rule: "capacity.monthlyCostBudget", status: "ok", reason: now },
    );
  }
  if (rules.growthBytesPerDay !== undefined) {
    const since = Date.parse(report.at) - rules.growthWindowDays * DAY_MS;
    const written = report.snapshots
      .flat()
      .filter((s) => Date.parse(s.takenAt) > since)
      .reduce((sum, s) => sum + s.size, 0);
    const perDay = Math.round((written - freedBytes) / rules.growthWindowDays);
    const said =
      `stored bytes grew ${size(Math.max(0, perDay))} a day over the last ${rules.growthWindowDays} days ` +
      `(${size(written)} written, ${size(freedBytes)} pruned), against ${size(rules.growthBytesPerDay)} a day`;
    findings.push({
      rule: "capacity.growthBytesPerDay",
      status: perDay > rules.growthBytesPerDay ? "warning" : "ok",
      reason: said,
    });
  }
  return findings;
}

/**
 * The first day (rounded up) on which a value that is `now` today and `points` ([day, value],
 * ascending) later reaches `limit`, straight lines between the points; undefined within the year.
 */
export function crossingDay(now: number, points: [number, number][], limit: number): number | undefined {
  let [prevDay, prev] = [0, now];
  if (prev >= limit) return 0;
  for (const [day, value] of points) {
    if (value >= limit) return Math.ceil(prevDay + ((limit - prev) / (value - prev)) * (day - prevDay));
    [prevDay, prev] = [day, value];
  }
  return undefined;
}

/** Bytes the prunes recorded in the audit trail freed after `since` (prune.completed entries). */
export async function bytesFreedSince(trail: AuditReader | undefined, since: Date): Promise<number> {
  if (!trail) return 0;
  let freed = 0;
  for (const e of await trail.entriesSince(["prune.completed"], since.toISOString())) {
    if (!(Date.parse(e.at) > since.getTime())) continue;
    const bytes = (e.details as { bytesFreed?: unknown } | undefined)?.bytesFreed;
    if (typeof bytes === "number" && Number.isFinite(bytes)) freed += bytes;
  }
  return freed;
}
