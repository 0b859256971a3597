// The retention policy's edge: durations, the schema's messages, and the YAML file as shipped.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readYaml } from "../../functions/config/load.js";
import { UserInputError } from "../../functions/core/errors.js";
import {
  addDuration,
  DEFAULT_RETENTION_POLICY,
  parseDuration,
  parseRetentionPolicy,
} from "../../functions/core/retention-policy.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("parseDuration", () => {
  it.each([
    ["48h", 0, 48 * HOUR],
    ["15m", 0, 15 * 60_000],
    ["7d", 0, 7 * DAY],
    ["2w", 0, 14 * DAY],
    ["6mo", 6, 0],
    ["1y", 12, 0],
    ["7y", 84, 0],
    ["1y6mo", 18, 0],
    ["1d12h", 0, 36 * HOUR],
    [" 1y 2d ", 12, 2 * DAY],
  ])("%j is %i months and %i ms", (text, months, ms) => {
    expect(parseDuration(text)).toEqual({ text: text.trim(), months, ms });
  });

  it.each([
    ["", /"": it is empty; expected a number and a unit/],
    ["30", /"30": no unit after 30/],
    ["30x", /"30x": unknown unit "x"; expected a number and a unit \(y, mo, w, d, h or m\)/],
    ["30D", /unknown unit "D"/],
    ["1.5d", /use whole numbers/],
    ["-1d", /"-1d": expected a number at "-1d"/],
    ["d", /expected a number at "d"/],
    ["0d", /"0d": it must be longer than zero/],
    ["1d2d", /unit "d" appears twice/],
    ["1001y", /at most 1000 years/],
  ])("refuses %j", (text, message) => {
    expect(() => parseDuration(text)).toThrow(UserInputError);
    expect(() => parseDuration(text)).toThrow(message);
  });

  it("adds calendar months with the day clamped to the month's end, then fixed time", () => {
    const add = (iso: string, text: string): string =>
      new Date(addDuration(Date.parse(iso), parseDuration(text))).toISOString();
    expect(add("2024-02-29T12:00:00Z", "1y")).toBe("2025-02-28T12:00:00.000Z");
    expect(add("2024-02-29T12:00:00Z", "4y")).toBe("2028-02-29T12:00:00.000Z");
    expect(add("2025-01-31T00:00:00Z", "1mo")).toBe("2025-02-28T00:00:00.000Z");
    expect(add("2025-12-31T23:00:00Z", "2mo")).toBe("2026-02-28T23:00:00.000Z");
    expect(add("2025-12-31T23:00:00Z", "2h")).toBe("2026-01-01T01:00:00.000Z");
    expect(add("2025-03-30T00:00:00Z", "1y6mo1d")).toBe("2026-10-01T00:00:00.000Z");
  });
});

describe("the retention policy schema", () => {
  const problem = (input: unknown): string => {
    try {
      parseRetentionPolicy(input, "policy.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(UserInputError);
      return (err as Error).message;
    }
    throw new Error("expected the policy to be refused");
  };

  it("accepts any non-empty combination of rules", () => {
    expect(parseRetentionPolicy({ last: 3 })).toEqual({ last: 3 });
    expect(parseRetentionPolicy({ keepMonthly: 12 })).toEqual({ keepMonthly: 12 });
    expect(parseRetentionPolicy({ daily: "7d", keepDaily: 7, keepYearly: 7 })).toEqual({
      daily: { text: "7d", months: 0, ms: 7 * DAY },
      keepDaily: 7,
      keepYearly: 7,
    });
    expect(parseRetentionPolicy({ within: "15m", yearly: "7y" })).toEqual({
      within: { text: "15m", months: 0, ms: 15 * 60_000 },
      yearly: { text: "7y", months: 84, ms: 0 },
    });
  });

  it("refuses an empty policy, whatever shape the emptiness takes", () => {
    expect(problem({})).toBe(
      "policy.yaml: an empty policy would delete every snapshot; set at least one of within, last, daily, weekly, monthly, yearly, keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly",
    );
  });

  it("names an unknown key and what was expected", () => {
    expect(problem({ daily: "30d", dayly: "30d", keep_last: 3 })).toBe(
      [
        "policy.yaml: dayly: unknown key; expected one of within, last, daily, weekly, monthly, yearly, keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly",
        "policy.yaml: keep_last: unknown key; expected one of within, last, daily, weekly, monthly, yearly, keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly",
      ].join("\n"),
    );
  });

  it("names the key and the expected value for a wrong value", () => {
    expect(problem({ daily: 30 })).toBe(
      'policy.yaml: daily: expected a duration with a unit, as in "30d", got the number 30',
    );
    expect(problem({ weekly: null })).toBe(
      'policy.yaml: weekly: expected a duration such as "90d", got nothing (null)',
    );
    expect(problem({ monthly: "12 months" })).toBe(
      'policy.yaml: monthly: invalid duration "12 months": unknown unit "months"; expected a number and a unit (y, mo, w, d, h or m), as in "30d", "48h" or "1y6mo"',
    );
    expect(problem({ last: 0 })).toBe(
      "policy.yaml: last: expected a whole number of snapshots (1 or more), got the number 0",
    );
    expect(problem({ last: "3" })).toBe(
      'policy.yaml: last: expected a whole number of snapshots (1 or more), got the text "3"',
    );
    expect(problem({ last: 2.5 })).toMatch(/^policy.yaml: last: expected a whole number/);
    expect(problem({ keepDaily: 0 })).toBe(
      "policy.yaml: keepDaily: expected a whole number of days (1 or more), got the number 0",
    );
    expect(problem({ keepWeekly: "4w" })).toBe(
      'policy.yaml: keepWeekly: expected a whole number of weeks (1 or more), got the text "4w"',
    );
    expect(problem({ keepYearly: -7 })).toMatch(/^policy.yaml: keepYearly: expected a whole number of years/);
    expect(problem({ keepHourly: 1.5 })).toBe(
      "policy.yaml: keepHourly: expected a whole number of hours (1 or more), got the number 1.5",
    );
    expect(problem({ keepLast: 0 })).toBe(
      "policy.yaml: keepLast: expected a whole number of snapshots (1 or more), got the number 0",
    );
  });

  it("takes keepLast as restic's name for last, and refuses both at once", () => {
    expect(parseRetentionPolicy({ keepLast: 3, keepHourly: 24 })).toEqual({ keepLast: 3, keepHourly: 24 });
    expect(problem({ last: 3, keepLast: 5 })).toBe(
      "policy.yaml: keepLast: last and keepLast are the same rule; set one of them",
    );
  });

  it("refuses a document that is not a mapping", () => {
    expect(problem(["daily: 30d"])).toBe(
      "policy.yaml: expected a mapping of within, last, daily, weekly, monthly, yearly, keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, got a list",
    );
  });
});

const loadRetentionPolicy = (text: string, file: string) => parseRetentionPolicy(readYaml(text, file), file);

describe("retention-policy.yaml", () => {
  it("the shipped config/retention-policy.yaml is the default policy", () => {
    const text = readFileSync(new URL("../../config/retention-policy.yaml", import.meta.url), "utf8");
    expect(loadRetentionPolicy(text, "config/retention-policy.yaml")).toEqual(DEFAULT_RETENTION_POLICY);
  });

  it("reports `<file>: <key path>: <problem>`", () => {
    expect(() => loadRetentionPolicy("daily: 30d\nweekly: 13w\nmonthly: 1 year\n", "r.yaml")).toThrow(
      'r.yaml: monthly: invalid duration "1 year": unknown unit "year"',
    );
  });

  it("reports YAML syntax errors and duplicate keys with their line", () => {
    expect(() => loadRetentionPolicy("daily: 30d\ndaily: 7d\n", "r.yaml")).toThrow(
      /^r\.yaml: line 2: not valid YAML: Map keys must be unique$/,
    );
    expect(() => loadRetentionPolicy("daily: [30d\n", "r.yaml")).toThrow(/^r\.yaml: line \d+: /);
  });

  it("refuses an empty file or one with only comments", () => {
    expect(() => loadRetentionPolicy("", "r.yaml")).toThrow(
      /^r\.yaml: an empty policy would delete every snapshot/,
    );
    expect(() => loadRetentionPolicy("# daily: 30d\n", "r.yaml")).toThrow(UserInputError);
  });
});
