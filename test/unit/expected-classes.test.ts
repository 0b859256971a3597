// The storage report (core/storage-report.ts) and its expected classes (core/expected-classes.ts),
// with their remembered replays and plans, equal the report computed the old way
// (test/helpers/expected-classes-replay.ts: every instant replayed from the start, a retention plan
// at each, a plan per repository for the tiers) on the status page's fixture and on histories made the way real ones are: snapshots
// landing at random times, full and incremental, pruned by the plan, holds set and lifted, the
// page loaded between them (so most replays resume where the last load stopped).
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { expectedClasses, replayCounts } from "../../functions/core/expected-classes.js";
import type { Snapshot } from "../../functions/core/model.js";
import { planRetention } from "../../functions/core/retention.js";
import {
  DEFAULT_RETENTION_POLICY,
  parseRetentionPolicy,
  type RetentionPolicy,
} from "../../functions/core/retention-policy.js";
import { storageReport } from "../../functions/core/storage-report.js";
import { snapshot } from "../contract/snapshot-index.js";
import { replayedStorageReport } from "../helpers/expected-classes-replay.js";
import { seedStatusIndex } from "../helpers/status-fixture.js";

const DAY_MS = 86_400_000;

/** A small seeded generator (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The storage report of `repos` at `now` equals the old way's, and so does each repository's map of
 * expected classes (the report's sums alone could hide two archives swapping classes).
 */
const sameAsReplay = (
  repos: readonly (readonly Snapshot[])[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass = "STANDARD",
) => {
  const input = { repos, policy, prices: DEFAULT_PRICING, now, newObjectClass, projectedRepos: 0 };
  const want = replayedStorageReport(input);
  const got = repos.map((snapshots) => expectedClasses(snapshots, policy, now, newObjectClass));
  const at = `${repos.length} repositories at ${now.toISOString()}`;
  expect(
    got.map((classes) => Object.fromEntries(classes)),
    at,
  ).toEqual(want.classes.map((classes) => Object.fromEntries(classes)));
  expect(storageReport(input), at).toEqual(want.report);
  return got;
};

/**
 * One repository's life over `days`: 0-3 snapshots a day at random times (an incremental on the
 * newest unless a chain is 8 long or a coin says full), a prune every few days that removes what the
 * plan removes (never a held one), a hold set or lifted now and then; the page is loaded after
 * snapshots and prunes. Returns how many loads were compared and which classes were seen.
 */
function live(seed: number, policy: RetentionPolicy, days: number, repo: string) {
  const random = prng(seed);
  const start = Date.UTC(2024, 0, 1) + Math.floor(random() * DAY_MS);
  let snapshots: Snapshot[] = [];
  let chain = 0;
  let loads = 0;
  const seen = new Set<string>();
  const load = (at: number) => {
    for (const c of sameAsReplay([snapshots], policy, new Date(at))[0]!.values()) seen.add(c.storageClass);
    loads++;
  };
  for (let day = 0; day < days; day++) {
    const dayStart = start + day * DAY_MS;
    const times = Array.from({ length: Math.floor(random() * 4) }, () => dayStart + random() * DAY_MS)
      .map(Math.floor)
      .sort((a, b) => a - b);
    for (const at of times) {
      const takenAt = new Date(at).toISOString();
      const id = `${takenAt.replace(/[-:.]/g, "")}-${seed.toString(16)}${snapshots.length}`;
      const parent = snapshots[0];
      const full = parent === undefined || chain >= 8 || random() < 0.2;
      chain = full ? 0 : chain + 1;
      const s = snapshot({
        id,
        repo,
        takenAt,
        ...(full ? {} : { kind: "incremental", parentId: parent.id }),
      });
      snapshots = [s, ...snapshots];
      if (random() < 0.3) load(at + Math.floor(random() * 3_600_000));
    }
    if (random() < 0.03 && snapshots.length > 1) {
      const i = Math.floor(random() * snapshots.length);
      snapshots[i] = { ...snapshots[i]!, hold: !snapshots[i]!.hold };
    }
    if (day % 4 === 3) {
      const now = new Date(dayStart + DAY_MS - 1);
      const gone = new Set(planRetention(snapshots, policy, now).remove.map((s) => s.id));
      snapshots = snapshots.filter((s) => !gone.has(s.id) || s.hold === true);
      load(now.getTime() + 1);
      // Backups paused: the same records days later (the tiers remembered from the load before).
      if (random() < 0.3) load(now.getTime() + Math.floor(random() * 20 * DAY_MS));
    }
  }
  return { loads, seen, snapshots };
}

describe("expectedClasses equals the full replay", () => {
  const open: SqliteSnapshotIndex[] = [];
  afterEach(() => {
    for (const index of open.splice(0)) index.close();
  });

  it("on the status page's fixture, loaded twice", async () => {
    const index = new SqliteSnapshotIndex({ path: ":memory:" });
    open.push(index);
    const now = new Date("2026-11-27T12:00:00.000Z");
    const plan = await seedStatusIndex(index, 200, now);
    const repos = await Promise.all(plan.map(({ repo }) => index.list(repo)));
    for (const later of [now, new Date(now.getTime() + 90 * DAY_MS)])
      sameAsReplay(repos, DEFAULT_RETENTION_POLICY, later, "LOCAL");
  });

  it.each([
    ["the default policy", DEFAULT_RETENTION_POLICY, 1, 100],
    [
      "daily windows longer than NEARLINE's minimum",
      parseRetentionPolicy({ within: "40d", daily: "60d", yearly: "3y" }),
      2,
      70,
    ],
    [
      "count rules and last",
      parseRetentionPolicy({ within: "48h", last: 5, keepDaily: 7, keepWeekly: 8, keepMonthly: 14 }),
      3,
      100,
    ],
  ])(
    "on a repository's life under %s: snapshots, prunes, holds, loads in between",
    (_name, policy, seed, days) => {
      const before = { ...replayCounts };
      const { loads, seen, snapshots } = live(seed, policy, days, `acme/life-${seed}`);
      expect(loads).toBeGreaterThan(30);
      expect(snapshots.length).toBeGreaterThan(20);
      // Each load replays twice (expectedClasses, then storageReport), the second always resumed. Of
      // the first, most resumed the load before; a prune or a hold started it anew.
      const resumed = replayCounts.resumed - before.resumed;
      const started = replayCounts.started - before.started;
      expect(resumed + started).toBe(2 * loads);
      expect(started).toBeLessThan((2 * loads) / 3);
      expect(started).toBeGreaterThan(5);
      // The histories reach cold classes, so a move replayed wrong would show.
      expect(seen.has("NEARLINE") || seen.has("COLDLINE") || seen.has("ARCHIVE")).toBe(true);
    },
  );

  it.each([
    ["the default policy", DEFAULT_RETENTION_POLICY, 5],
    [
      "daily windows longer than NEARLINE's minimum",
      parseRetentionPolicy({ within: "40d", daily: "60d", yearly: "3y" }),
      6,
    ],
    [
      "count rules and last",
      parseRetentionPolicy({ within: "48h", last: 5, keepDaily: 7, keepWeekly: 8, keepMonthly: 14 }),
      7,
    ],
  ])(
    "when nothing is added for months under %s, loaded every 17 hours: a load that moves nothing is reused until a minimum is served",
    (_name, policy, seed) => {
      const { snapshots } = live(seed, policy, 60, `acme/quiet-${seed}`);
      const newest = Date.parse(snapshots[0]!.takenAt);
      const quiet = replayCounts.quiet;
      const seen = new Set<string>();
      // Backups stopped (an archived repository): the same records, loaded again and again, while
      // archives wait out their class's minimum between the week and month ends.
      for (let at = newest + 3_600_000; at < newest + 100 * DAY_MS; at += 17 * 3_600_000)
        for (const c of sameAsReplay([snapshots], policy, new Date(at))[0]!.values())
          seen.add(c.storageClass);
      expect(replayCounts.quiet - quiet).toBeGreaterThan(50);
      expect(seen.has("COLDLINE") || seen.has("ARCHIVE")).toBe(true);
    },
  );

  it("replays anew when a snapshot lands before the last load, or the policy or clock goes back", () => {
    const { snapshots } = live(4, DEFAULT_RETENTION_POLICY, 60, "acme/late");
    const newest = Date.parse(snapshots[0]!.takenAt);
    const now = newest + 5 * DAY_MS;
    sameAsReplay([snapshots], DEFAULT_RETENTION_POLICY, new Date(now));
    // Committed late: taken before the last load, after the newest.
    const late = snapshot({
      id: "late-0001",
      repo: "acme/late",
      takenAt: new Date(now - DAY_MS).toISOString(),
      kind: "incremental",
      parentId: snapshots[0]!.id,
    });
    const started = replayCounts.started;
    sameAsReplay([[late, ...snapshots]], DEFAULT_RETENTION_POLICY, new Date(now + 1000));
    sameAsReplay([[late, ...snapshots]], DEFAULT_RETENTION_POLICY, new Date(now - 10 * DAY_MS));
    const longer = parseRetentionPolicy({ within: "48h", daily: "30d", weekly: "90d", monthly: "2y" });
    sameAsReplay([[late, ...snapshots]], longer, new Date(now + 2000));
    sameAsReplay([[late, ...snapshots]], longer, new Date(now + 2000), "LOCAL");
    expect(replayCounts.started - started).toBe(4); // the second of each pair resumes the first
  });
});
