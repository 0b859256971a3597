// The cost report's arithmetic on small tables with known bytes and prices, the year's projection, and
// the price table file (config/pricing.yaml) against its schema and the built-in copy.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { DEFAULT_PRICING, pricingSchema } from "../../functions/config/pricing.js";
import { parseConfig } from "../../functions/config/load.js";
import {
  GIB,
  projectYear,
  summarizeStorage,
  type PriceTable,
  type ProjectedSnapshot,
  type StoredObject,
} from "../../functions/core/cost.js";
import { DEFAULT_RETENTION_POLICY, parseRetentionPolicy } from "../../functions/core/retention-policy.js";

const PRICES: PriceTable = {
  currency: "USD",
  storage: { STANDARD: 0.02, NEARLINE: 0.01, COLDLINE: 0.004, ARCHIVE: 0.0012, LOCAL: 0.5 },
  retrieval: { STANDARD: 0, NEARLINE: 0.01, COLDLINE: 0.02, ARCHIVE: 0.05, LOCAL: 0 },
};

const object = (gib: number, storageClass: string | undefined, tier: string): StoredObject => ({
  bytes: gib * GIB,
  storageClass,
  tier,
});

describe("summarizeStorage", () => {
  it("adds up bytes per class and tier and prices them", () => {
    const summary = summarizeStorage(
      [
        object(2, "STANDARD", "daily"),
        object(1, "STANDARD", "within"),
        object(1, "REGIONAL", "daily"), // a class the table does not know: priced as STANDARD
        object(10, "NEARLINE", "weekly"),
        object(5, "COLDLINE", "monthly"),
        object(100, "ARCHIVE", "yearly"),
        object(3, "LOCAL", "orphan"),
      ],
      PRICES,
    );
    expect(summary.byClass).toEqual([
      { storageClass: "STANDARD", objects: 3, bytes: 4 * GIB, monthlyCost: 0.08 },
      { storageClass: "NEARLINE", objects: 1, bytes: 10 * GIB, monthlyCost: 0.1 },
      { storageClass: "COLDLINE", objects: 1, bytes: 5 * GIB, monthlyCost: 0.02 },
      { storageClass: "ARCHIVE", objects: 1, bytes: 100 * GIB, monthlyCost: 0.12 },
      { storageClass: "LOCAL", objects: 1, bytes: 3 * GIB, monthlyCost: 1.5 },
    ]);
    expect(summary.byTier).toEqual([
      { tier: "yearly", objects: 1, bytes: 100 * GIB },
      { tier: "weekly", objects: 1, bytes: 10 * GIB },
      { tier: "monthly", objects: 1, bytes: 5 * GIB },
      { tier: "daily", objects: 2, bytes: 3 * GIB },
      { tier: "orphan", objects: 1, bytes: 3 * GIB },
      { tier: "within", objects: 1, bytes: 1 * GIB },
    ]);
    expect(summary.objects).toBe(7);
    expect(summary.bytes).toBe(122 * GIB);
    expect(summary.monthlyCost).toBe(1.82); // 0.08 + 0.1 + 0.02 + 0.12 + 1.5
    expect(summary.retrievalCost).toBe(5.2); // 0.1 + 0.1 + 5
  });

  it("prices part of a GiB in proportion", () => {
    const summary = summarizeStorage([{ bytes: GIB / 4, storageClass: "NEARLINE", tier: "weekly" }], PRICES);
    expect(summary.monthlyCost).toBe(0.0025);
    expect(summary.retrievalCost).toBe(0.0025);
  });

  it("is empty and free for no objects", () => {
    expect(summarizeStorage([], PRICES)).toEqual({
      objects: 0,
      bytes: 0,
      byClass: [],
      byTier: [],
      monthlyCost: 0,
      retrievalCost: 0,
    });
  });
});

describe("projectYear", () => {
  const now = new Date("2026-01-14T12:00:00Z");
  const start = (storageClass: string): ProjectedSnapshot[] => [
    {
      id: "a",
      takenAt: "2026-01-14T00:00:00.000Z",
      bytes: GIB,
      storageClass,
      createdAt: "2026-01-14T00:00:00.000Z",
    },
  ];

  it("keeps one archive a day under `last: 1`: a flat line and twelve months of it", () => {
    const projection = projectYear({
      repos: [start("STANDARD")],
      policy: parseRetentionPolicy({ last: 1 }),
      prices: PRICES,
      now,
      newObjectClass: "STANDARD",
    });
    expect(projection.points.map((p) => p.day)).toEqual([
      30, 61, 91, 122, 152, 183, 213, 243, 274, 304, 335, 365,
    ]);
    expect(projection.points[0]).toEqual({
      day: 30,
      at: "2026-02-13T00:00:00.000Z",
      snapshots: 1,
      bytes: GIB,
      byClass: { STANDARD: GIB },
      monthlyCost: 0.02,
    });
    expect(new Set(projection.points.map((p) => `${p.snapshots} ${p.bytes} ${p.monthlyCost}`))).toEqual(
      new Set([`1 ${GIB} 0.02`]),
    );
    expect(projection.yearCost).toBe(0.24); // 12 months of 1 GiB at 0.02
  });

  it("adds the repositories up", () => {
    const projection = projectYear({
      repos: [start("STANDARD"), start("STANDARD"), []],
      policy: parseRetentionPolicy({ last: 2 }),
      prices: PRICES,
      now,
      newObjectClass: "STANDARD",
    });
    expect(projection.points[11]).toMatchObject({ snapshots: 4, bytes: 4 * GIB, monthlyCost: 0.08 });
    expect(projection.yearCost).toBe(0.96);
  });

  it("under the default policy, moves weeklies, monthlies and yearlies to colder classes", () => {
    const projection = projectYear({
      repos: [start("STANDARD")],
      policy: DEFAULT_RETENTION_POLICY,
      prices: PRICES,
      now,
      newObjectClass: "STANDARD",
    });
    const last = projection.points[11]!;
    expect(last.at).toBe("2027-01-14T00:00:00.000Z");
    // On 2027-01-14, reference 00:00: the days after 2026-12-15 that are no Sunday and not 12-31 stay
    // STANDARD (25; a daily is kept under 30 days); so does Sunday 2027-01-10, a weekly but taken in
    // the last 7 days (restores read it); the 12 Sundays before it are weeklies kept 90 days
    // (NEARLINE); the month ends 2026-01-31 .. 11-30 are monthlies kept a year (COLDLINE, 11);
    // 2026-12-31 (yearly 2026) and the first snapshot (kept 7 years as the oldest) are in ARCHIVE.
    expect(last.byClass).toEqual({
      STANDARD: 26 * GIB,
      NEARLINE: 12 * GIB,
      COLDLINE: 11 * GIB,
      ARCHIVE: 2 * GIB,
    });
    expect(last.snapshots).toBe(51);
    expect(last.monthlyCost).toBe(0.6864); // 26 x 0.02 + 12 x 0.01 + 11 x 0.004 + 2 x 0.0012
    // 7.369604 before reads counted: each archive now spends its first 7 days in STANDARD.
    expect(projection.yearCost).toBe(7.511684);
    // It grows while the monthlies fill the year.
    const counts = projection.points.map((p) => p.snapshots);
    expect(counts).toEqual([31, 36, 42, 42, 43, 44, 44, 46, 48, 48, 50, 51]);
  });

  it("remembers a replay for the same inputs on the same day, and replays again when one changes", () => {
    const input = (bytes: number, at: Date) => ({
      repos: [[{ ...start("STANDARD")[0]!, bytes }]],
      policy: DEFAULT_RETENTION_POLICY,
      prices: PRICES,
      now: at,
      newObjectClass: "STANDARD",
    });
    const first = projectYear(input(GIB, now));
    // Later the same day: the same year (the very same answer, not a second replay).
    expect(projectYear(input(GIB, new Date("2026-01-14T23:59:00Z")))).toBe(first);
    // Another size, or the next day: a replay of its own, with its own figures.
    const bigger = projectYear(input(2 * GIB, now));
    expect(bigger).not.toBe(first);
    expect(bigger.points[11]!.bytes).toBe(2 * first.points[11]!.bytes);
    const tomorrow = projectYear(input(GIB, new Date("2026-01-15T12:00:00Z")));
    expect(tomorrow.points[0]!.at).toBe("2026-02-14T00:00:00.000Z");
  });
});

describe("price table", () => {
  it("config/pricing.yaml parses and says what the built-in copy says", async () => {
    const text = await readFile("config/pricing.yaml", "utf8");
    expect(parseConfig(pricingSchema, text, "config/pricing.yaml")).toEqual(DEFAULT_PRICING);
    expect(text).toMatch(/list prices/i);
    expect(text).toMatch(/check/i);
  });

  it.each([
    ["a negative price", "storage:\n  STANDARD: -1", /storage\.STANDARD/],
    ["an unknown class", "storage:\n  GLACIER: 0.01", /unknown key "GLACIER"/],
    ["a missing class", "retrieval:\n  ARCHIVE: null", /retrieval\.ARCHIVE/],
    ["a bad currency", "currency: dollars", /currency: expected a currency code/],
  ])("refuses %s, naming the key", (_name, change, message) => {
    const base = { ...DEFAULT_PRICING };
    const yaml = Object.entries(base)
      .filter(([key]) => !change.startsWith(`${key}:`))
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join("\n");
    expect(() => parseConfig(pricingSchema, `${yaml}\n${change}\n`, "pricing.yaml")).toThrow(message);
  });
});
