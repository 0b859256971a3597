// Three years of one repository under the default policy: a scheduled snapshot at 00:00 UTC and three
// pushes a day, pruned every day at 01:00. The store must settle at a bounded size and stay there.

import { describe, expect, it } from "vitest";
import { planRetention, type RetentionCandidate } from "../../functions/core/retention.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";

const DAY = 86_400_000;
const START = Date.parse("2023-01-01T00:00:00Z");
const DAYS = 3 * 365 + 1; // 2023-01-01 .. 2025-12-31 (2024 is a leap year)
const PUSH_TIMES = ["09:30:00", "14:10:00", "17:45:00"];

function snapshotsOf(day: number): { scheduled: RetentionCandidate; pushes: RetentionCandidate[] } {
  const date = new Date(START + day * DAY).toISOString().slice(0, 10);
  const at = (time: string): RetentionCandidate => ({ id: `${date}T${time}`, takenAt: `${date}T${time}Z` });
  return { scheduled: at("00:00:00"), pushes: PUSH_TIMES.map(at) };
}

/**
 * The most the default policy can keep at a prune on day D at 01:00 (reference D 00:00), rule by rule,
 * with no credit for overlaps:
 * - within 48h: snapshots after D-2 00:00, i.e. 3 on D-2, 4 on D-1 and D's 00:00 = 8, of which
 *   D-2 17:45, D-1 17:45 and D 00:00 are daily picks anyway: 5 more;
 * - daily 30d: one per day after D-30 00:00, i.e. days D-30 .. D (D-30's 17:45 is inside) = 31;
 * - weekly 90d: the 13 ISO weeks whose Sunday lies in D-90 .. D-1, plus the current week = 14;
 * - monthly 1y: the 12 month ends inside the year, plus the current month = 13;
 * - yearly 7y: one per calendar year of the history (2023, 2024, 2025) = 3;
 * - the oldest snapshot, kept while the 7y window reaches past it = 1.
 */
const UPPER_BOUND = 5 + 31 + 14 + 13 + 3 + 1; // 67
/**
 * The least, once a year has passed: the daily picks and the within extras (36); the Sundays in
 * D-90 .. D-31, outside the daily window (60 days: at least 8); the month ends in D-365 .. D-91,
 * outside the weekly window (275 days: at least 8); the oldest snapshot (1): 36 + 8 + 8 + 1 = 53.
 */
const LOWER_BOUND = 53;

interface Day {
  day: number;
  count: number;
}

const pruneTime = (day: number): Date => new Date(START + day * DAY + 3_600_000);

/** Runs the 3 years; `store` is what the last prune kept, `all` every snapshot up to that prune. */
function simulate(): { history: Day[]; store: RetentionCandidate[]; all: RetentionCandidate[] } {
  let store: RetentionCandidate[] = [];
  const all: RetentionCandidate[] = [];
  const history: Day[] = [];
  for (let day = 0; day < DAYS; day++) {
    const { scheduled, pushes } = snapshotsOf(day);
    // The 00:00 snapshot lands before the 01:00 prune; the day's pushes after it.
    store.push(scheduled);
    all.push(scheduled);
    store = planRetention(store, DEFAULT_RETENTION_POLICY, pruneTime(day)).keep.map((kept) => kept.snapshot);
    history.push({ day, count: store.length });
    if (day === DAYS - 1) break;
    store.push(...pushes);
    all.push(...pushes);
  }
  return { history, store, all };
}

describe("retention simulation: 3 years of daily backups and pushes, pruned daily", () => {
  const { history, store, all } = simulate();
  const steady = history.filter(({ day }) => day >= 366);

  it("settles between the explicit bounds once the monthly window is full, and never grows past them", () => {
    for (const { count } of history) expect(count).toBeLessThanOrEqual(UPPER_BOUND);
    for (const { count } of steady) {
      expect(count).toBeGreaterThanOrEqual(LOWER_BOUND);
      expect(count).toBeLessThanOrEqual(UPPER_BOUND);
    }
    // Over the last two years the size wanders only by the calendar (which weekday a month ends
    // on, a new yearly snapshot): no trend.
    const counts = steady.map(({ count }) => count);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(5);
    const year2 = steady.filter(({ day }) => day < 731).map(({ count }) => count);
    const year3 = steady.filter(({ day }) => day >= 731).map(({ count }) => count);
    expect(Math.max(...year3)).toBeLessThanOrEqual(Math.max(...year2) + 1);
  });

  it("pruning every day keeps exactly what one plan over the whole unpruned history keeps", () => {
    const once = planRetention(all, DEFAULT_RETENTION_POLICY, pruneTime(DAYS - 1));
    expect(store.map((snapshot) => snapshot.id).sort()).toEqual(
      once.keep.map((kept) => kept.snapshot.id).sort(),
    );
  });

  it("at the end: ~31 daily + ~13 weekly + ~13 monthly + 3 yearly + the oldest, less overlaps", () => {
    // The last prune: 2025-12-31 at 01:00, measured from that day's 00:00 snapshot.
    const final = planRetention(store, DEFAULT_RETENTION_POLICY, pruneTime(DAYS - 1));
    const having = (prefix: string): number =>
      final.keep.filter((kept) => kept.reasons.some((reason) => reason.startsWith(prefix))).length;
    expect(having("daily ")).toBe(31);
    expect(having("weekly ")).toBeGreaterThanOrEqual(13);
    expect(having("weekly ")).toBeLessThanOrEqual(14);
    expect(having("monthly ")).toBe(13);
    expect(having("yearly ")).toBe(3);
    expect(having("oldest yearly ")).toBe(1);
    // 2025-12-31: 31 daily (Dec 1 .. Dec 31) + 5 more within 48h + 9 more weekly (W40 .. W48) + 11 more
    // monthly (2024-12 .. 2025-10; 2025-11 is W48's Sunday) + yearly 2023 + the oldest, 2023-01-01.
    expect(final.keep.length).toBe(31 + 5 + 9 + 11 + 1 + 1);
  });

  it("when backups stop, daily prunes for 60 days remove nothing", () => {
    let kept = store;
    for (let day = DAYS; day < DAYS + 60; day++) {
      const plan = planRetention(kept, DEFAULT_RETENTION_POLICY, pruneTime(day));
      expect(plan.remove).toEqual([]);
      kept = plan.keep.map((entry) => entry.snapshot);
    }
    expect(kept.length).toBe(store.length);
  });
});
