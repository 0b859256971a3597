// How often a schedule.yaml clock fires: the cost report counts the scheduled reads of backups.
/**
 * How many times a five-field cron fires in the 30 days from `from` (UTC), for the cost report's
 * count of scheduled reads. Numbers, `*`, ranges, lists and steps; a field with names (MON, JAN)
 * or anything else it cannot read gives undefined.
 */
export function runsIn30Days(cron: string, from: Date): number | undefined {
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
  // Cron's rule: when both day fields are restricted, a day matching either one fires.
  const dayAny = fields[2] === "*";
  const weekdayAny = fields[4] === "*";
  let runs = 0;
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let day = 0; day < 30; day++) {
    const d = new Date(start + day * 86_400_000);
    if (!months!.has(d.getUTCMonth() + 1)) continue;
    const byDate = days!.has(d.getUTCDate());
    const byWeekday = weekdays!.has(d.getUTCDay());
    const fires = dayAny || weekdayAny ? byDate && byWeekday : byDate || byWeekday;
    if (fires) runs += minutes!.size * hours!.size;
  }
  return runs;
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
