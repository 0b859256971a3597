// Storage-class replays kept between processes (core/class-checkpoints.ts): a process just started
// (every `status`, `serve`'s first page, a new backupHealth instance) resumes the replays prune kept
// instead of replaying every repository from its first snapshot, and its report equals the full
// replay's. A missing or damaged checkpoint costs a replay, never a wrong class.
import { afterEach, describe, expect, it } from "vitest";
import { healthOptions } from "../../functions/app.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { keepRepoReplay } from "../../functions/core/class-checkpoints.js";
import { forgetReplays, replayCounts } from "../../functions/core/expected-classes.js";
import { healthReport, type HealthOptions } from "../../functions/core/health.js";
import { pruneAll } from "../../functions/core/prune.js";
import { DEFAULT_RETENTION_POLICY, parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { ManualClock } from "../contract/snapshot-index.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";
import { seedStatusIndex } from "../helpers/status-fixture.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t0 = new Date("2026-11-27T00:30:00.000Z");
const options: HealthOptions = {
  expected: [],
  policy: DEFAULT_RETENTION_POLICY,
  prices: DEFAULT_PRICING,
  pricingSource: "test",
  newObjectClass: "STANDARD",
  // The year's projection replays what the expected classes start it from; not what is tested here.
  projectedRepos: 0,
};
const setting = { policy: options.policy, now: t0, newObjectClass: options.newObjectClass };

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  forgetReplays();
});

/** An index of 40 repositories with years of history (the status page's fixture, 20 older snapshots each). */
async function seeded() {
  const index = new SqliteSnapshotIndex({ path: ":memory:" });
  open.push(index);
  await seedStatusIndex(index, 40, t0, { history: 20 });
  return { index, kept: index.classCheckpoints() };
}

/** The report of a process just started, with no kept replay: every repository replayed in full. */
async function fullReplay(index: SqliteSnapshotIndex, at: Date) {
  forgetReplays();
  const report = await healthReport({ index, clock: new ManualClock(at) }, options);
  forgetReplays();
  return report;
}

/** What a load started, resumed and reused, from `before` on. */
const countsSince = (before: typeof replayCounts) => ({
  started: replayCounts.started - before.started,
  resumed: replayCounts.resumed - before.resumed,
});

describe("storage-class replays kept between processes", () => {
  it("a fresh process resumes the replays prune kept: no replay from the start, the same report", async () => {
    const { index, kept } = await seeded();
    const at = new Date(t0.getTime() + 13 * HOUR);
    const want = await fullReplay(index, at);
    // The histories reach cold classes, so a class resumed wrong would show in the sums.
    const classes = "error" in want.storage ? [] : want.storage.byExpectedClass.map((c) => c.expectedClass);
    expect(classes).toEqual(expect.arrayContaining(["STANDARD", "NEARLINE", "ARCHIVE"]));
    // Prune's run at t0 keeps each repository's replay (core/prune.ts pruneAll does this).
    for (const repo of await index.repos())
      expect(await keepRepoReplay({ index, classCheckpoints: kept }, repo, setting)).toBe(true);
    forgetReplays(); // a process just started
    const before = { ...replayCounts };
    const got = await healthReport({ index, clock: new ManualClock(at), classCheckpoints: kept }, options);
    expect(countsSince(before)).toEqual({ started: 0, resumed: 36 });
    expect(got.storage).toEqual(want.storage);
    expect(got.repos).toEqual(want.repos);
  });

  it("a damaged or missing checkpoint costs that repository a replay; the report keeps it for the next process", async () => {
    const { index, kept } = await seeded();
    const [first, second, ...rest] = await index.repos();
    for (const repo of [first!, second!, ...rest])
      await keepRepoReplay({ index, classCheckpoints: kept }, repo, setting);
    await kept.saveClassCheckpoints(new Map([[first!, '{"format":1,"setting":"not this"']]));
    await kept.forgetClassCheckpoint(second!);
    const at = new Date(t0.getTime() + 2 * DAY);
    const want = await fullReplay(index, at);
    let before = { ...replayCounts };
    const got = await healthReport({ index, clock: new ManualClock(at), classCheckpoints: kept }, options);
    expect(countsSince(before).started).toBe(2);
    expect(got.storage).toEqual(want.storage);
    // Kept by the report: the next process just started resumes both.
    expect([...(await kept.classCheckpoints([first!, second!])).keys()].sort()).toEqual(
      [first, second].sort(),
    );
    forgetReplays();
    before = { ...replayCounts };
    expect(
      (await healthReport({ index, clock: new ManualClock(at), classCheckpoints: kept }, options)).storage,
    ).toEqual(want.storage);
    expect(countsSince(before).started).toBe(0);
  });

  it("a checkpoint older than a hold set since is not used: the repository is replayed anew", async () => {
    const { index, kept } = await seeded();
    const repos = await index.repos();
    for (const repo of repos) await keepRepoReplay({ index, classCheckpoints: kept }, repo, setting);
    const held = (await index.list(repos[0]!))[3]!;
    await index.setHold(repos[0]!, held.id, true);
    const at = new Date(t0.getTime() + 5 * HOUR);
    const want = await fullReplay(index, at);
    const before = { ...replayCounts };
    const got = await healthReport({ index, clock: new ManualClock(at), classCheckpoints: kept }, options);
    expect(countsSince(before).started).toBe(1);
    expect(got.storage).toEqual(want.storage);
  });
});

describe("prune keeps the replays", () => {
  let ws: TestWorkspace | undefined;
  afterEach(async () => {
    await ws?.cleanup();
    ws = undefined;
  });

  it("a real prune that removes snapshots keeps each repository's replay; a dry run keeps none", async () => {
    ws = await workspace({});
    const clock = manualClock(t0.toISOString());
    const app = await ws.open(clock);
    open.push({ close: () => void app.close() });
    await seedStatusIndex(app.index, 12, t0, { history: 20 });
    const repos = await app.index.repos();
    // Shorter than the history: the prune removes the older snapshots.
    const policy = parseRetentionPolicy({ within: "48h", daily: "7d", weekly: "30d", monthly: "6m" });
    const health = { ...healthOptions(app.settings, []), policy };
    const newObjectClass = health.newObjectClass;
    await pruneAll(app, policy, { dryRun: true, actor: "test", newObjectClass });
    expect((await app.classCheckpoints!.classCheckpoints(repos)).size).toBe(0);
    const before = (await app.index.listAll()).get(repos[0]!)!.length;
    const results = await pruneAll(app, policy, { dryRun: false, actor: "test", newObjectClass });
    expect(results.every((r) => r.error === undefined)).toBe(true);
    expect((await app.index.listAll()).get(repos[0]!)!.length).toBeLessThan(before);
    expect((await app.classCheckpoints!.classCheckpoints(repos)).size).toBe(repos.length);
    // The next process's first report resumes every one of them, and equals a full replay.
    clock.set(new Date(t0.getTime() + 9 * HOUR).toISOString());
    forgetReplays();
    const want = await healthReport({ index: app.index, clock }, health);
    forgetReplays();
    const counts = { ...replayCounts };
    const got = await healthReport(app, health);
    expect(countsSince(counts).started).toBe(0);
    expect(got.storage).toEqual(want.storage);
  });
});
