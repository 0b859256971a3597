// The storage report of backupHealth (core/storage-report.ts), from the index alone: its expected
// classes and tiers agree with what a real prune does to the archives of the prune scenario, prices
// add up, the year ahead scales for large fleets; and the `storage` field of the handler's answer.
import { fileURLToPath } from "node:url";
import type { Request, Response } from "@google-cloud/functions-framework";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { GIB, type PriceTable } from "../../functions/core/cost.js";
import type { Snapshot } from "../../functions/core/model.js";
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from "../../functions/core/retention-policy.js";
import { expectedClasses, periodEnds, storageReport } from "../../functions/core/storage-report.js";
import type { CloudApp } from "../../functions/app.js";
import { loadSettings } from "../../functions/config/settings.js";
import { healthHandler } from "../../functions/handlers/health.js";
import { setLogWriter } from "../../functions/log.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";
import { EXPECTED_KEPT, NEW, PRUNE_AT, TAKEN } from "../integration/prune-scenario.js";

const PRICES: PriceTable = {
  currency: "USD",
  storage: { STANDARD: 0.02, NEARLINE: 0.01, COLDLINE: 0.004, ARCHIVE: 0.0012, LOCAL: 0 },
  retrieval: { STANDARD: 0, NEARLINE: 0.01, COLDLINE: 0.02, ARCHIVE: 0.05, LOCAL: 0 },
};
const policy = DEFAULT_RETENTION_POLICY;
const CONFIG = fileURLToPath(new URL("../../config/backup-config.yaml", import.meta.url));
const now = new Date(PRUNE_AT);

/** The prune scenario's snapshots as index records; the i-th archive is i + 1 GiB (times `scale`). */
function records(repo = "acme/app", scale = 1): Snapshot[] {
  return TAKEN.map((takenAt, i) => {
    const id = `${takenAt.replace(/[-:.]/g, "")}-0000000${i.toString(16)}`;
    return snapshot({ id, repo, takenAt, size: (i + 1) * GIB * scale, objectKey: `repos/${repo}/${id}.ibk` });
  });
}

/** The class the real prune leaves each archive in (prune-scenario.ts), STANDARD for what it removes. */
const prunedClass = (takenAt: string) => {
  const kept = EXPECTED_KEPT[takenAt]?.storageClass ?? NEW;
  return kept === NEW ? "STANDARD" : kept;
};

describe("expectedClasses", () => {
  it("puts each archive where the real prune of the scenario put it", () => {
    const classes = expectedClasses(records(), policy, now, "STANDARD");
    expect(records().map((s) => [s.takenAt, classes.get(s.id)?.storageClass])).toEqual(
      TAKEN.map((at) => [at, prunedClass(at)]),
    );
  });

  it("keeps the class an earlier prune chose, where a prune starting today would choose a warmer one", () => {
    // The monthly archive of January 2025 is the newest (read by every verification: STANDARD) until
    // February 10th; settled at that week's end with 348 days left: COLDLINE. In November it has two
    // months left (NEARLINE if chosen afresh), and classes never get warmer.
    const jan = snapshot({ id: "20250131T000000000Z-00000001", takenAt: "2025-01-31T00:00:00.000Z" });
    const feb = snapshot({ id: "20250210T000000000Z-00000005", takenAt: "2025-02-10T00:00:00.000Z" });
    const older = snapshot({ id: "20240630T000000000Z-00000000", takenAt: "2024-06-30T00:00:00.000Z" });
    const newest = snapshot({ id: "20251120T000000000Z-00000002", takenAt: "2025-11-20T00:00:00.000Z" });
    const at = new Date("2025-11-20T01:00:00.000Z");
    const classes = expectedClasses([newest, feb, jan, older], policy, at, "STANDARD");
    expect(classes.get(jan.id)).toEqual({ storageClass: "COLDLINE", since: "2025-02-17T00:00:00.000Z" });
    // The oldest, kept seven years by the oldest-snapshot rule, but the newest until January 2025.
    expect(classes.get(older.id)).toEqual({ storageClass: "ARCHIVE", since: "2025-02-01T00:00:00.000Z" });
    expect(classes.get(newest.id)).toEqual({ storageClass: "STANDARD", since: newest.takenAt });
  });

  it("leaves held and future-dated archives where they were written", () => {
    const held = snapshot({
      id: "20250301T000000000Z-00000003",
      takenAt: "2025-03-01T00:00:00.000Z",
      hold: true,
    });
    const future = snapshot({ id: "20270101T000000000Z-00000004", takenAt: "2027-01-01T00:00:00.000Z" });
    const classes = expectedClasses([...records(), held, future], policy, now, "LOCAL");
    expect(classes.get(held.id)?.storageClass).toBe("LOCAL");
    expect(classes.get(future.id)?.storageClass).toBe("LOCAL");
  });

  it("knows where ISO weeks, months and years end", () => {
    const ends = (at: string) =>
      periodEnds(Date.parse(at)).map((t) => new Date(t).toISOString().slice(0, 10));
    expect(ends("2025-12-31T23:59:59.999Z")).toEqual([
      "2026-01-01",
      "2026-01-05",
      "2026-01-01",
      "2026-01-01",
    ]);
    expect(ends("2026-01-04T00:00:00.000Z")).toEqual([
      "2026-01-05",
      "2026-01-05",
      "2026-02-01",
      "2027-01-01",
    ]);
    expect(ends("2026-01-05T00:00:00.000Z")).toEqual([
      "2026-01-06",
      "2026-01-12",
      "2026-02-01",
      "2027-01-01",
    ]);
  });
});

describe("storageReport", () => {
  it("adds up bytes per tier and expected class, and prices them", () => {
    const report = storageReport({
      repos: [records()],
      policy,
      prices: PRICES,
      now,
      newObjectClass: "STANDARD",
    });
    const byClass = new Map<string, { objects: number; gib: number }>();
    TAKEN.forEach((at, i) => {
      const usage = byClass.get(prunedClass(at)) ?? { objects: 0, gib: 0 };
      byClass.set(prunedClass(at), { objects: usage.objects + 1, gib: usage.gib + i + 1 });
    });
    expect(report.byExpectedClass.map((c) => [c.expectedClass, c.objects, c.bytes / GIB])).toEqual(
      ["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"].map((c) => [
        c,
        byClass.get(c)!.objects,
        byClass.get(c)!.gib,
      ]),
    );
    const monthly = [...byClass].reduce((sum, [c, u]) => sum + u.gib * PRICES.storage[c as "STANDARD"], 0);
    expect(report.monthlyCost).toBeCloseTo(monthly, 6);
    expect(report.byExpectedClass.reduce((sum, c) => sum + c.monthlyCost, 0)).toBeCloseTo(monthly, 6);
    expect(Object.fromEntries(report.byTier.map((t) => [t.tier, t.objects]))).toEqual({
      expired: 4, // the next prune removes them: still stored, still billed
      newest: 1,
      daily: 2,
      weekly: 4,
      monthly: 1,
      yearly: 2,
    });
    expect(report).toMatchObject({ archives: 14, bytes: 105 * GIB, currency: "USD", at: PRUNE_AT });
    expect(report.basis).toMatch(/index only.*expected class/);
  });

  it("projects the year ahead: twelve points, the yearly archives in ARCHIVE", () => {
    const projection = storageReport({
      repos: [records()],
      policy,
      prices: PRICES,
      now,
      newObjectClass: "STANDARD",
    }).projection!;
    expect(projection).toMatchObject({ repositories: 1, replayed: 1 });
    expect(projection.points).toHaveLength(12);
    // In ARCHIVE a year on: the yearly archives of 2025 (1 and 8 GiB) and the projected one of
    // 2026 (taken on 12-31, the size of the newest: 14 GiB); nothing else is kept that long.
    expect(projection.points.at(-1)?.byClass.ARCHIVE).toBe((1 + 8 + 14) * GIB);
    expect(projection.yearCost).toBeGreaterThan(0);
  });

  it("replays the largest repositories only, and scales the others in by the size of their newest", () => {
    const repos = [records("acme/a", 1), records("acme/b", 3), records("acme/c", 2), []];
    const input = { repos, policy, prices: PRICES, now, newObjectClass: "STANDARD" };
    const full = storageReport(input).projection!;
    const scaled = storageReport({ ...input, projectedRepos: 1 }).projection!;
    expect([full.repositories, full.replayed, scaled.repositories, scaled.replayed]).toEqual([3, 3, 3, 1]);
    expect(scaled.assumption).toMatch(/replayed for the 1 repositories .* the other 2 added/);
    // The same history at 1, 2 and 3 times the size: scaling the largest by 6/3 is exact.
    expect(scaled.points.map((p) => [p.snapshots, p.bytes, p.byClass])).toEqual(
      full.points.map((p) => [p.snapshots, p.bytes, p.byClass]),
    );
    expect(scaled.yearCost).toBeCloseTo(full.yearCost, 5);
    // Asked for none (a status page with no capacity rule that looks ahead): no replay, no field;
    // the rest of the report is the same.
    const none = storageReport({ ...input, projectedRepos: 0 });
    expect(none.projection).toBeUndefined();
    expect(none.bytes).toBe(storageReport(input).bytes);
  });
});

describe("backupHealth's storage field", () => {
  const open: SqliteSnapshotIndex[] = [];
  afterEach(() => {
    for (const index of open.splice(0)) index.close();
  });

  /** A CloudApp with what backupHealth reads: a local index and the settings; the rest is never touched. */
  async function app(settingsPolicy: RetentionPolicy): Promise<CloudApp> {
    const clock = new ManualClock(PRUNE_AT);
    const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
    open.push(index);
    for (const record of records()) await index.commit(record);
    await index.commit({ ...records("acme/new")[0]!, verification: undefined });
    const settings = await loadSettings(CONFIG, { BACKUP_LOCATION: "gs://archives" });
    const partial: Pick<CloudApp, "clock" | "index" | "settings" | "notifier"> = {
      clock,
      index,
      notifier: { report: async () => {} },
      settings: { ...settings, retention: settingsPolicy },
    };
    return partial as CloudApp;
  }

  async function call(cloudApp: CloudApp) {
    const res = { code: 0, body: undefined as unknown };
    const response = {
      status(code: number) {
        res.code = code;
        return response;
      },
      json(body: unknown) {
        res.body = body;
      },
    };
    await healthHandler(async () => cloudApp)({} as Request, response as unknown as Response);
    return res as { code: number; body: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it("reports the stored bytes, expected classes, monthly cost and year ahead at the list prices", async () => {
    const { code, body } = await call(await app(policy));
    expect(code).toBe(503); // the newest snapshots are not verified
    expect(body.repos.map((r: { repo: string }) => r.repo)).toEqual(["acme/app", "acme/new"]);
    const expected = storageReport({
      repos: [records(), [records("acme/new")[0]!]],
      policy,
      prices: DEFAULT_PRICING,
      now,
      newObjectClass: "STANDARD",
    });
    expect(body.storage).toEqual({ ...expected, pricingSource: CONFIG.replace("backup-config", "pricing") });
    expect(body.storage.byExpectedClass.map((c: { expectedClass: string }) => c.expectedClass)).toEqual([
      "STANDARD",
      "NEARLINE",
      "COLDLINE",
      "ARCHIVE",
    ]);
  });

  it("a failing report is named in the field and logged; the freshness answer stands", async () => {
    const lines: string[] = [];
    const previous = setLogWriter((line) => lines.push(line));
    try {
      const { code, body } = await call(await app({} as RetentionPolicy));
      expect(code).toBe(503);
      expect(body.repos).toHaveLength(2);
      expect(body.storage).toEqual({ error: expect.stringMatching(/polic/i) });
      expect(lines.some((line) => line.includes('"event":"storage_report_failed"'))).toBe(true);
    } finally {
      setLogWriter(previous);
    }
  });
});
