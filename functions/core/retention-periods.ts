// Calendar periods for retention rules, in UTC: which hour, day, ISO week, month or year an instant
// falls in. Keys carry their type ("week:2026-W01", "month:2026-01") so that two kinds of period can
// never collide.

/** The periods a window rule (a duration) keeps the newest snapshot of. */
export type PeriodRule = "daily" | "weekly" | "monthly" | "yearly";
/** Every period a rule can count: the window rules' and the hour, which only keepHourly counts. */
export type Period = "hourly" | PeriodRule;

/** In the order reasons are listed. */
export const PERIOD_RULES: readonly PeriodRule[] = ["daily", "weekly", "monthly", "yearly"];

const PREFIX: Record<Period, string> = {
  hourly: "hour",
  daily: "day",
  weekly: "week",
  monthly: "month",
  yearly: "year",
};

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/**
 * The ISO-8601 week of an instant (UTC): weeks start on Monday, and week 1 is the week holding the
 * year's first Thursday. The year is the ISO week-year, so 2025-12-29 is 2026-W01 and 2021-01-03 is
 * 2020-W53: using the calendar year here would split one week into two periods.
 */
export function isoWeek(at: number): { year: number; week: number } {
  const d = new Date(at);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const mondayBased = (d.getUTCDay() + 6) % 7;
  // The Thursday of the same week decides the week-year.
  const thursday = midnight + (3 - mondayBased) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const dayOfYear = Math.round((thursday - Date.UTC(year, 0, 1)) / DAY_MS);
  return { year, week: Math.floor(dayOfYear / 7) + 1 };
}

/**
 * The typed key of the period `at` falls in for `rule`: "hour:2026-01-04T13", "day:2026-01-04",
 * "week:2026-W01", "month:2026-01", "year:2026".
 */
export function periodKey(rule: Period, at: number): string {
  const d = new Date(at);
  const year = pad(d.getUTCFullYear(), 4);
  switch (rule) {
    case "hourly":
      return `${PREFIX.hourly}:${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;
    case "daily":
      return `${PREFIX.daily}:${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    case "weekly": {
      const { year: weekYear, week } = isoWeek(at);
      return `${PREFIX.weekly}:${pad(weekYear, 4)}-W${pad(week)}`;
    }
    case "monthly":
      return `${PREFIX.monthly}:${year}-${pad(d.getUTCMonth() + 1)}`;
    case "yearly":
      return `${PREFIX.yearly}:${year}`;
  }
}

/** The key without its type prefix, as a person reads it in a reason: "2026-W01". */
export function periodLabel(key: string): string {
  return key.slice(key.indexOf(":") + 1);
}

/**
 * The first instant of the period `offset` periods after the one `at` falls in (offset 1: the next
 * hour, day, ISO week, month or year). A count rule lets a snapshot go once enough newer periods hold
 * snapshots; this is the earliest that can be.
 */
export function periodStart(rule: Period, at: number, offset: number): number {
  const d = new Date(at);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (rule) {
    case "hourly":
      return midnight + d.getUTCHours() * HOUR_MS + offset * HOUR_MS;
    case "daily":
      return midnight + offset * DAY_MS;
    case "weekly":
      return midnight - ((d.getUTCDay() + 6) % 7) * DAY_MS + offset * 7 * DAY_MS;
    case "monthly":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
    case "yearly":
      return Date.UTC(d.getUTCFullYear() + offset, 0, 1);
  }
}
