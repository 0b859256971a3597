// When a schedule.yaml clock fires: how often (the cost report counts the scheduled reads of
// backups), and when it last did (the CLI's org snapshots are due once it has fired since the latest).
/**
 * How many times a five-field cron fires in the 30 days from `from` (UTC), for the cost report's
 * count of scheduled reads. Numbers, `*`, ranges, lists and steps; a field with names (MON, JAN)
 * or anything else it cannot read gives undefined.
 */
export function runsIn30Days(cron: string, from: Date): number | undefined {
  return runDaysIn30Days(cron, from)?.reduce((sum, { runs }) => sum + runs, 0);
}

/**
 * The days (00:00 UTC) in the 30 from `from` on which a five-field cron fires, and how often on
 * each: what the cost report needs when the day decides what a run does (a layered repository's
 * weekly full-restore verification). Undefined when it cannot read the cron, as runsIn30Days.
 */
export function runDaysIn30Days(cron: string, from: Date): { day: Date; runs: number }[] | undefined {
  const sets = cronSets(cron);
  if (!sets) return undefined;
  const days: { day: Date; runs: number }[] = [];
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let day = 0; day < 30; day++) {
    const date = new Date(start + day * 86_400_000);
    if (firesOn(sets, date)) days.push({ day: date, runs: sets.minutes.size * sets.hours.size });
  }
  return days;
}

/**
 * The latest time at or before `at` (UTC, to the minute) that a five-field cron fired, looking back
 * at most 366 days: what "due since its clock last fired" means for work the CLI runs on its own
 * schedule. Undefined when it cannot read the cron, or it did not fire in that time.
 */
export function lastRunAtOrBefore(cron: string, at: Date): Date | undefined {
  const sets = cronSets(cron);
  if (!sets) return undefined;
  const today = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const hours = [...sets.hours].sort((a, b) => b - a);
  const minutes = [...sets.minutes].sort((a, b) => b - a);
  for (let day = 0; day <= 366; day++) {
    const start = today - day * 86_400_000;
    if (!firesOn(sets, new Date(start))) continue;
    for (const hour of hours)
      for (const minute of minutes) {
        const run = start + (hour * 60 + minute) * 60_000;
        if (run <= at.getTime()) return new Date(run);
      }
  }
  return undefined;
}

interface CronSets {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  dayAny: boolean;
  weekdayAny: boolean;
}

function cronSets(cron: string): CronSets | undefined {
  const fields = cron.trim().split(/\s+/);
  const limits: [number, number][] = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 7],
  ];
  if (fields.length !== 5) return undefined;
  const sets = fields.map((field, i) => cronField(field, ...limits[i]!));
  if (sets.some((set) => set === undefined)) return undefined;
  const [minutes, hours, days, months, weekdays] = sets as Set<number>[];
  if (weekdays!.has(7)) weekdays!.add(0); // 7 is Sunday too
  return {
    minutes: minutes!,
    hours: hours!,
    days: days!,
    months: months!,
    weekdays: weekdays!,
    dayAny: fields[2] === "*",
    weekdayAny: fields[4] === "*",
  };
}

/** Whether the cron fires on the UTC day `d` (at some hour and minute of it). */
function firesOn(sets: CronSets, d: Date): boolean {
  if (!sets.months.has(d.getUTCMonth() + 1)) return false;
  const byDate = sets.days.has(d.getUTCDate());
  const byWeekday = sets.weekdays.has(d.getUTCDay());
  // Cron's rule: when both day fields are restricted, a day matching either one fires.
  return sets.dayAny || sets.weekdayAny ? byDate && byWeekday : byDate || byWeekday;
}

function cronField(field: string, low: number, high: number): Set<number> | undefined {
  const values = new Set<number>();
  for (const part of field.split(",")) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (match === null) return undefined;
    const [, , first, last, stepText] = match;
    const from = first === undefined ? low : Number(first);
    const to = first === undefined ? high : last === undefined ? (stepText ? high : from) : Number(last);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (from < low || to > high || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}
