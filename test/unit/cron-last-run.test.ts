// When a schedule.yaml clock last fired (cron-runs.ts lastRunAtOrBefore): the CLI's org snapshots
// are due once it has fired since the latest one. A table of clocks and instants, UTC.
import { describe, expect, it } from "vitest";
import { lastRunAtOrBefore, runsIn30Days } from "../../functions/config/cron-runs.js";

const cases: [cron: string, at: string, last: string | undefined][] = [
  ["30 1 * * *", "2026-12-02T01:30:00.000Z", "2026-12-02T01:30:00.000Z"], // the firing itself
  ["30 1 * * *", "2026-12-02T01:29:59.999Z", "2026-12-01T01:30:00.000Z"],
  ["30 1 * * *", "2026-12-02T23:59:00.000Z", "2026-12-02T01:30:00.000Z"],
  ["*/15 * * * *", "2026-12-02T10:44:10.000Z", "2026-12-02T10:30:00.000Z"],
  ["0 2 * * 0", "2026-12-02T12:00:00.000Z", "2026-11-29T02:00:00.000Z"], // last Sunday
  ["0 2 * * 7", "2026-12-02T12:00:00.000Z", "2026-11-29T02:00:00.000Z"], // 7 is Sunday too
  ["0 0 1 1 *", "2026-12-02T12:00:00.000Z", "2026-01-01T00:00:00.000Z"],
  ["0 6,18 * * 1-5", "2026-12-05T12:00:00.000Z", "2026-12-04T18:00:00.000Z"], // Saturday: Friday's
  ["0 0 31 2 *", "2026-12-02T12:00:00.000Z", undefined], // never fires
  ["0 2 * * SUN", "2026-12-02T12:00:00.000Z", undefined], // names: not read here
  ["0 2 * *", "2026-12-02T12:00:00.000Z", undefined],
];

describe("lastRunAtOrBefore", () => {
  it.each(cases)("%s at %s fired last at %s", (cron, at, last) => {
    expect(lastRunAtOrBefore(cron, new Date(at))?.toISOString()).toBe(last);
  });

  it("runsIn30Days still counts as before", () => {
    expect(runsIn30Days("30 1 * * *", new Date("2026-12-01T00:00:00Z"))).toBe(30);
    expect(runsIn30Days("*/15 * * * *", new Date("2026-12-01T00:00:00Z"))).toBe(30 * 96);
    expect(runsIn30Days("0 2 * * 0", new Date("2026-12-01T00:00:00Z"))).toBe(4);
    expect(runsIn30Days("0 2 * * SUN", new Date("2026-12-01T00:00:00Z"))).toBeUndefined();
  });
});
