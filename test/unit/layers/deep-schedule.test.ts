// The weekly full deep verification of layered snapshots, spread over the week by lineage: each
// layered repository is restored whole on exactly one weekday, the same every week, and the
// repositories spread over the seven days; chains keep their daily deep verification.
import { describe, expect, it } from "vitest";
import {
  afterBackupLevel,
  deepVerifyWeekday,
  sweepVerifyLevel,
} from "../../../functions/core/layers/deep-schedule.js";

const DAY_MS = 24 * 3600 * 1000;
/** Monday 2026-11-30, 05:00 UTC (the verifySweep clock), and the days after it. */
const days = (n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.parse("2026-11-30T05:00:00Z") + i * DAY_MS));

describe("sweepVerifyLevel", () => {
  it("a layered snapshot is verified deep on one day of each week, the same weekday every week", () => {
    for (const repo of ["acme/app", "acme/api", "octo/cat", "git/git"]) {
      const snapshot = { kind: "layered" as const, repo };
      const deepDays = days(28).filter((d) => sweepVerifyLevel(snapshot, d) === "deep");
      expect(deepDays, repo).toHaveLength(4);
      expect(new Set(deepDays.map((d) => d.getUTCDay())), repo).toEqual(new Set([deepVerifyWeekday(repo)]));
      const layerDays = days(28).filter((d) => sweepVerifyLevel(snapshot, d) === "layer");
      expect(layerDays, repo).toHaveLength(24);
    }
  });

  it("a renamed repository keeps its lineage's weekday", () => {
    const day = days(7).find((d) => d.getUTCDay() === deepVerifyWeekday("acme/old-name"))!;
    expect(sweepVerifyLevel({ kind: "layered", repo: "acme/new-name", lineage: "acme/old-name" }, day)).toBe(
      "deep",
    );
    const other = days(7).find((d) => d.getUTCDay() !== deepVerifyWeekday("acme/old-name"))!;
    expect(
      sweepVerifyLevel({ kind: "layered", repo: "acme/new-name", lineage: "acme/old-name" }, other),
    ).toBe("layer");
  });

  it("full and incremental snapshots are verified deep every day, as before", () => {
    for (const kind of ["full", "incremental"] as const)
      for (const d of days(7)) expect(sweepVerifyLevel({ kind, repo: "acme/app" }, d)).toBe("deep");
  });

  it("700 repositories spread over the seven weekdays (about 100 each)", () => {
    const perDay = new Array<number>(7).fill(0);
    for (let i = 0; i < 700; i++) perDay[deepVerifyWeekday(`org${i % 13}/repo-${i}`)]!++;
    // Binomial(700, 1/7): mean 100, standard deviation about 9; 60 and 140 are over four away.
    for (const count of perDay) {
      expect(count).toBeGreaterThan(60);
      expect(count).toBeLessThan(140);
    }
  });
});

describe("afterBackupLevel", () => {
  it("verifies a new layered snapshot per layer where a chain's is deep; other levels as configured", () => {
    expect(afterBackupLevel("layered", "deep")).toBe("layer");
    expect(afterBackupLevel("layered", "quick")).toBe("quick");
    for (const kind of ["full", "incremental"] as const) {
      expect(afterBackupLevel(kind, "deep")).toBe("deep");
      expect(afterBackupLevel(kind, "quick")).toBe("quick");
    }
  });
});
