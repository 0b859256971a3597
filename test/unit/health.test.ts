// Health per repository: typed problems against the RPO and verification, worded at the edge, and
// the metadata kinds a repository could not provide shown beside them (not a problem by themselves).
import { describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import {
  describeProblem,
  healthReport,
  isStale,
  repoHealth,
  STALE_SECONDS,
} from "../../functions/core/health.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import type { Snapshot } from "../../functions/core/model.js";
import { snapshot } from "../contract/snapshot-index.js";

const NOW = new Date("2026-12-01T12:00:00Z");
const at = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000).toISOString();
const taken = (secondsAgo: number, extra: Partial<Snapshot> = {}): Snapshot => ({
  ...snapshot({ id: `s-${secondsAgo}`, repo: "acme/app", takenAt: at(secondsAgo) }),
  confirmedAt: at(secondsAgo),
  ...extra,
});

describe("repoHealth", () => {
  it.each<[string, Snapshot[], string[]]>([
    ["no snapshot", [], ["no snapshot"]],
    ["fresh and verified", [taken(60, { verification: { verdict: "ok", level: "deep", at: at(30) } })], []],
    ["fresh, not yet verified", [taken(60)], ["latest snapshot not verified"]],
    [
      "verification failed",
      [taken(60, { verification: { verdict: "failed", level: "deep", at: at(30), detail: "segment 3" } })],
      ["latest verification failed: segment 3"],
    ],
    [
      "stale",
      [taken(STALE_SECONDS + 3600, { verification: { verdict: "ok", level: "quick", at: at(10) } })],
      ["stale: last backed up 25 h ago"],
    ],
  ])("%s", (_name, snapshots, words) => {
    const health = repoHealth("acme/app", snapshots, NOW);
    expect(health.problems.map(describeProblem)).toEqual(words);
    expect(health.problems.some(isStale)).toBe(
      words.some((w) => w.startsWith("stale") || w === "no snapshot"),
    );
  });

  it("a failed attempt after the latest snapshot is a problem; one before it is history", () => {
    const ok = taken(600, { verification: { verdict: "ok", level: "deep", at: at(500) } });
    const after = repoHealth("acme/app", [ok], NOW, { at: at(60), outcome: "failed", error: "HTTP 502" });
    expect(after.problems.map(describeProblem)).toEqual([
      `last backup attempt failed at ${at(60)}: HTTP 502`,
    ]);
    const before = repoHealth("acme/app", [ok], NOW, { at: at(900), outcome: "failed", error: "HTTP 502" });
    expect(before.problems).toEqual([]);
    const never = repoHealth("acme/new", [], NOW, { at: at(60), outcome: "failed", error: "not found" });
    expect(never.problems.map((p) => p.kind)).toEqual(["attempt-failed", "no-snapshot"]);
    expect(never.problems.some(isStale)).toBe(true);
  });

  it("shows the metadata kinds the latest snapshot could not hold, without calling it a problem", () => {
    const latest = taken(60, {
      verification: { verdict: "ok", level: "deep", at: at(30) },
      metadata: {
        items: { labels: 3 },
        unavailable: { issues: "410: Issues are disabled" },
        requests: 20,
        notModified: 0,
      },
    });
    const health = repoHealth("acme/app", [latest], NOW);
    expect(health.problems).toEqual([]);
    expect(health.metadataUnavailable).toEqual({ issues: "410: Issues are disabled" });
  });

  it("the report shows a backup running now, from its lease, and lists a repository known only by its attempts", async () => {
    const clock = { now: () => NOW };
    const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
    await index.acquireLease("acme/app", "20261201T115900000Z-1a2b3c4d@host:1", 60_000);
    await index.recordAttempt("acme/new", { at: at(60), outcome: "failed", error: "HTTP 404" });
    const report = await healthReport(
      { index, clock },
      {
        expected: [],
        policy: DEFAULT_RETENTION_POLICY,
        prices: DEFAULT_PRICING,
        pricingSource: "test",
        newObjectClass: "LOCAL",
      },
    );
    expect(report.repos.map((r) => r.repo)).toEqual(["acme/new"]);
    const withLease = await healthReport(
      { index, clock },
      {
        expected: ["acme/app"],
        policy: DEFAULT_RETENTION_POLICY,
        prices: DEFAULT_PRICING,
        pricingSource: "test",
        newObjectClass: "LOCAL",
      },
    );
    expect(withLease.repos.find((r) => r.repo === "acme/app")?.running?.holder).toMatch(
      /^20261201T115900000Z-1a2b3c4d@/,
    );
    index.close();
  });
});
