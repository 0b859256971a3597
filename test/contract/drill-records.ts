// The DrillRecords contract, run against both index backends (drill-records.test.ts): records
// read back as written, the newest per repository, a time window oldest first, the same record
// twice kept once, and forgetting one repository leaves the others whole.
import { afterEach, describe, expect, it } from "vitest";
import { UserInputError } from "../../functions/core/errors.js";
import type { DrillRecord, DrillRecords } from "../../functions/core/ports.js";

export interface DrillRecordsFixture {
  records: DrillRecords;
  cleanup(): Promise<void>;
}

const drill = (repo: string, at: string, extra: Partial<DrillRecord> = {}): DrillRecord => ({
  repo,
  snapshotId: `s-${at.slice(0, 10)}`,
  at,
  verdict: "passed",
  seconds: 1.5,
  withinRto: true,
  refs: 3,
  bytes: 4096,
  checks: ["restore", "refs", "fsck", "manifest", "metadata"],
  ...extra,
});

const byRepo = (records: DrillRecord[]) =>
  Object.fromEntries([...records].sort((a, b) => a.repo.localeCompare(b.repo)).map((r) => [r.repo, r]));

export function drillRecordsContract(name: string, open: () => Promise<DrillRecordsFixture>): void {
  describe(`DrillRecords contract: ${name}`, () => {
    let fixture: DrillRecordsFixture | undefined;
    const records = async () => (fixture ??= await open()).records;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it("reads nothing before the first drill", async () => {
      const r = await records();
      expect(await r.lastDrills()).toEqual([]);
      expect(await r.drillsSince("2000-01-01T00:00:00Z")).toEqual([]);
      expect(await r.forgetDrills("acme/app")).toBe(0);
    });

    it("keeps each record whole and answers the newest of each repository", async () => {
      const r = await records();
      const failed = drill("acme/app", "2026-11-30T10:00:00.000Z", {
        verdict: "failed",
        withinRto: false,
        seconds: 0,
        detail: "meta/issues.jsonl holds 3 items; the index says 4",
        checks: ["restore", "refs", "fsck", "manifest", "lfs", "metadata"],
      });
      const passed = drill("acme/app", "2026-12-01T10:00:00.000Z");
      const other = drill("acme/other", "2026-11-29T08:00:00.000Z");
      // Written out of order: the newest is by time, not by arrival.
      for (const record of [passed, other, failed]) await r.recordDrill(record);
      expect(byRepo(await r.lastDrills())).toEqual({ "acme/app": passed, "acme/other": other });
      expect(await r.drillsSince("2026-11-30T00:00:00Z")).toEqual([failed, passed]);
      expect(await r.drillsSince("2000-01-01T00:00:00Z")).toEqual([other, failed, passed]);
    });

    it("normalizes the time, so a record written with an offset sorts as the instant it is", async () => {
      const r = await records();
      await r.recordDrill(drill("acme/app", "2026-12-01T12:00:00+02:00"));
      await r.recordDrill(drill("acme/app", "2026-12-01T09:30:00.000Z", { snapshotId: "later" }));
      const [last] = await r.lastDrills();
      expect(last).toMatchObject({ at: "2026-12-01T10:00:00.000Z", snapshotId: "s-2026-12-01" });
    });

    it("the same drill recorded twice is kept once", async () => {
      const r = await records();
      const record = drill("acme/app", "2026-12-01T10:00:00.000Z");
      await r.recordDrill(record);
      await r.recordDrill(record);
      expect(await r.drillsSince("2026-01-01T00:00:00Z")).toEqual([record]);
    });

    it("forgetting a repository removes every record of it and nothing else", async () => {
      const r = await records();
      const kept = drill("acme/other", "2026-11-29T08:00:00.000Z");
      await r.recordDrill(drill("acme/app", "2026-11-30T10:00:00.000Z"));
      await r.recordDrill(drill("acme/app", "2026-12-01T10:00:00.000Z"));
      await r.recordDrill(kept);
      expect(await r.forgetDrills("acme/app")).toBe(2);
      expect(await r.lastDrills()).toEqual([kept]);
      expect(await r.drillsSince("2000-01-01T00:00:00Z")).toEqual([kept]);
      expect(await r.forgetDrills("acme/app")).toBe(0);
    });

    it("refuses a record without a repository or with a time that is not one, naming it", async () => {
      const r = await records();
      await expect(r.recordDrill(drill("", "2026-12-01T10:00:00Z"))).rejects.toThrow(UserInputError);
      await expect(r.recordDrill(drill("acme/app", "yesterday"))).rejects.toThrow(/"yesterday"/);
      await expect(r.drillsSince("soon")).rejects.toThrow(/"soon"/);
      expect(await r.lastDrills()).toEqual([]);
    });
  });
}
