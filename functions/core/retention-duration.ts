// Retention durations ("48h", "30d", "1y6mo"): parsing them, and adding one to an instant in UTC.
// "m" means minutes (as in Go and Prometheus); months are "mo", unlike restic, whose "m" is months.

import { UserInputError } from "./errors.js";

export interface Duration {
  /** As written, e.g. "48h": reasons quote it so a person sees their own words. */
  readonly text: string;
  /** Calendar months (a year is 12). Added with the day clamped to the month's end. */
  readonly months: number;
  /** Fixed milliseconds (weeks, days, hours, minutes). A day is 24h: all of this is UTC. */
  readonly ms: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const UNITS: Record<string, { months: number; ms: number }> = {
  y: { months: 12, ms: 0 },
  mo: { months: 1, ms: 0 },
  w: { months: 0, ms: 7 * DAY },
  d: { months: 0, ms: DAY },
  h: { months: 0, ms: HOUR },
  m: { months: 0, ms: MINUTE },
};

const EXPECTED = 'a number and a unit (y, mo, w, d, h or m), as in "30d", "48h" or "1y6mo"';

// A bound far beyond any sensible retention, so that date arithmetic stays finite and exact.
const MAX_MONTHS = 1000 * 12;
const MAX_MS = 1000 * 366 * DAY;

/**
 * Parses a duration such as "48h", "15m", "7d", "2w", "6mo", "7y" or a sum like "1y6mo".
 * Throws UserInputError naming the text and the problem; zero and negative durations are refused
 * because a window of nothing would keep nothing.
 */
export function parseDuration(text: string): Duration {
  const problem = (what: string): UserInputError =>
    new UserInputError(`invalid duration ${JSON.stringify(text)}: ${what}`);
  const source = text.trim();
  if (source === "") throw problem(`it is empty; expected ${EXPECTED}`);

  let months = 0;
  let ms = 0;
  const seen = new Set<string>();
  let rest = source;
  while (rest !== "") {
    const match = /^(\d+)\s*([a-zA-Z]*)\s*/.exec(rest);
    if (match === null) throw problem(`expected a number at ${JSON.stringify(rest)}; ${EXPECTED}`);
    const [whole, digits = "", unit = ""] = match;
    if (unit === "" && /^\d+[.,]\d/.test(rest))
      throw problem('use whole numbers, as in "36h" rather than "1.5d"');
    if (unit === "") throw problem(`no unit after ${digits}; expected ${EXPECTED}`);
    const scale = UNITS[unit];
    if (scale === undefined) throw problem(`unknown unit ${JSON.stringify(unit)}; expected ${EXPECTED}`);
    if (seen.has(unit)) throw problem(`unit ${JSON.stringify(unit)} appears twice`);
    seen.add(unit);
    const count = Number(digits);
    months += count * scale.months;
    ms += count * scale.ms;
    rest = rest.slice(whole.length);
  }
  if (months === 0 && ms === 0) throw problem("it must be longer than zero");
  if (months > MAX_MONTHS || ms > MAX_MS) throw problem("it must be at most 1000 years");
  return { text: source, months, ms };
}

/** `at` (epoch ms) plus `duration`: calendar months first (day clamped: Jan 31 + 1mo = Feb 28/29), then fixed time. */
export function addDuration(at: number, duration: Duration): number {
  return addMonthsClamped(at, duration.months) + duration.ms;
}

function addMonthsClamped(at: number, months: number): number {
  if (months === 0) return at;
  const t = new Date(at);
  const monthIndex = t.getUTCMonth() + months;
  const year = t.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  // Day 0 of the next month is the last day of this one.
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = new Date(at);
  shifted.setUTCFullYear(year, month, Math.min(t.getUTCDate(), lastDay));
  return shifted.getTime();
}
