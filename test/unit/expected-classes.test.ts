// The expected classes of the storage report (core/expected-classes.ts) equal the replay computed
// the old way (test/helpers/expected-classes-replay.ts: every instant from the start, a retention
// plan at each) on the status page's fixture and on histories made the way real ones are: snapshots
// landing at random times, full and incremental, pruned by the plan, holds set and lifted, the
// page loaded between them (so most replays resume where the last load stopped).
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { expectedClasses, replayCounts } from "../../functions/core/expected-classes.js";
import type { Snapshot } from "../../functions/core/model.js";
import { planRetention } from "../../functions/core/retention.js";
import {
  DEFAULT_RETENTION_POLICY,
  parseRetentionPolicy,
  type RetentionPolicy,
} from "../../functions/core/retention-policy.js";
import { snapshot } from "../contract/snapshot-index.js";
import { replayedClasses } from "../helpers/expected-classes-replay.js";
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

const sameAsReplay = (
  snapshots: readonly Snapshot[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass = "STANDARD",
) => {
  const got = expectedClasses(snapshots, policy, now, newObjectClass);
  const want = replayedClasses(snapshots, policy, now, newObjectClass);
  expect(Object.fromEntries(got), `${snapshots.length} snapshots at ${now.toISOString()}`).toEqual(
    Object.fromEntries(want),
  );
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
    for (const c of sameAsReplay(snapshots, policy, new Date(at)).values()) seen.add(c.storageClass);
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
    for (const later of [now, new Date(now.getTime() + 90 * DAY_MS)]) {
      for (const { repo } of plan)
        sameAsReplay(await index.list(repo), DEFAULT_RETENTION_POLICY, later, "LOCAL");
    }
  });

  it.each([
    ["the default policy", DEFAULT_RETENTION_POLICY, 1],
    [
      "daily windows longer than NEARLINE's minimum",
      parseRetentionPolicy({ within: "40d", daily: "60d", yearly: "3y" }),
      2,
    ],
    [
      "count rules and last",
      parseRetentionPolicy({ within: "48h", last: 5, keepDaily: 7, keepWeekly: 8, keepMonthly: 14 }),
      3,
    ],
  ])("on a repository's life under %s: snapshots, prunes, holds, loads in between", (_name, policy, seed) => {
    const before = { ...replayCounts };
    const { loads, seen, snapshots } = live(seed, policy, 100, `acme/life-${seed}`);
    expect(loads).toBeGreaterThan(40);
    expect(snapshots.length).toBeGreaterThan(20);
    // Most loads resumed the replay before them; a prune or a hold started it anew.
    const resumed = replayCounts.resumed - before.resumed;
    const started = replayCounts.started - before.started;
    expect(resumed + started).toBe(loads);
    expect(resumed).toBeGreaterThan(loads / 3);
    expect(started).toBeGreaterThan(5);
    // The histories reach cold classes, so a move replayed wrong would show.
    expect(seen.has("NEARLINE") || seen.has("COLDLINE") || seen.has("ARCHIVE")).toBe(true);
  });

  it("replays anew when a snapshot lands before the last load, or the policy or clock goes back", () => {
    const { snapshots } = live(4, DEFAULT_RETENTION_POLICY, 60, "acme/late");
    const newest = Date.parse(snapshots[0]!.takenAt);
    const now = newest + 5 * DAY_MS;
    sameAsReplay(snapshots, DEFAULT_RETENTION_POLICY, new Date(now));
    // Committed late: taken before the last load, after the newest.
    const late = snapshot({
      id: "late-0001",
      repo: "acme/late",
      takenAt: new Date(now - DAY_MS).toISOString(),
      kind: "incremental",
      parentId: snapshots[0]!.id,
    });
    const started = replayCounts.started;
    sameAsReplay([late, ...snapshots], DEFAULT_RETENTION_POLICY, new Date(now + 1000));
    sameAsReplay([late, ...snapshots], DEFAULT_RETENTION_POLICY, new Date(now - 10 * DAY_MS));
    const longer = parseRetentionPolicy({ within: "48h", daily: "30d", weekly: "90d", monthly: "2y" });
    sameAsReplay([late, ...snapshots], longer, new Date(now + 2000));
    sameAsReplay([late, ...snapshots], longer, new Date(now + 2000), "LOCAL");
    expect(replayCounts.started - started).toBe(4);
  });
});
