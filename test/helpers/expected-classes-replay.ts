// The storage report as core/storage-report.ts computed it before its replays were remembered (kept
// as the oracle of test/unit/expected-classes.test.ts): the expected classes replayed from the first
// instant with a retention plan at each, and a retention plan per repository for the tiers.
import { summarizeStorage, type StoredObject } from "../../functions/core/cost.js";
import type { SnapshotSummary } from "../../functions/core/model.js";
import { planRetention } from "../../functions/core/retention.js";
import {
  STORAGE_REPORT_BASIS,
  type StorageReport,
  type StorageReportInput,
} from "../../functions/core/storage-report.js";
import type { RetentionPolicy } from "../../functions/core/retention-policy.js";
import { periodEnds, type ExpectedClass } from "../../functions/core/expected-classes.js";
import {
  chooseStorageClass,
  MINIMUM_STORAGE_DAYS,
  readersOf,
  RECENT_READ_DAYS,
  settledKeepUntil,
} from "../../functions/core/storage-tiers.js";

const DAY_MS = 86_400_000;

export function replayedClasses(
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass: string,
): Map<string, ExpectedClass> {
  const end = now.getTime();
  const instants = new Set([end]);
  // A day's end settles only the daily and within windows: unless one is longer than the warmest
  // minimum, what it settles stays where it was written, and skipping those instants halves the work.
  const days = [policy.daily, policy.within].some(
    (w) => w !== undefined && (w.months > 0 || w.ms > MINIMUM_STORAGE_DAYS.NEARLINE * DAY_MS),
  );
  for (const s of snapshots) {
    const takenAt = Date.parse(s.takenAt);
    for (const t of periodEnds(takenAt).slice(days ? 0 : 1)) if (t < end) instants.add(t);
    // When it stops being a recent snapshot, what it reads may go colder.
    const notRecent = takenAt + RECENT_READ_DAYS * DAY_MS;
    if (notRecent < end) instants.add(notRecent);
  }
  const expected = new Map<string, ExpectedClass>(
    snapshots.map((s) => [s.id, { storageClass: newObjectClass, since: s.takenAt }]),
  );
  for (const t of [...instants].sort((a, b) => a - b)) {
    const at = new Date(t);
    const present = snapshots.filter((s) => Date.parse(s.takenAt) <= t);
    if (present.length === 0) continue;
    const settled = settledKeepUntil(present, policy, at);
    // Every record still in the index was kept at every earlier instant, so `present` is what was
    // kept then (the ones the next prune removes aside).
    const newestFirst = [...present].sort((a, b) => Date.parse(b.takenAt) - Date.parse(a.takenAt));
    const readBy = readersOf(newestFirst, newestFirst[0]!.takenAt);
    for (const s of present) {
      const current = expected.get(s.id)!;
      const sure = settled.get(s.id);
      const choice = chooseStorageClass({
        current: current.storageClass,
        createdAt: current.since,
        // Not kept for sure: it may go with the next snapshot, so it is treated as leaving now.
        settledUntil: sure === undefined ? at.toISOString() : sure,
        now: at,
        readBy: readBy.get(s.id),
      });
      if (choice.move && choice.storageClass !== undefined) {
        expected.set(s.id, { storageClass: choice.storageClass, since: at.toISOString() });
      }
    }
  }
  return expected;
}

/** storageReport with no projection (projectedRepos 0), the old way; with each repository's classes. */
export function replayedStorageReport(input: StorageReportInput): {
  report: StorageReport;
  classes: Map<string, ExpectedClass>[];
} {
  const { policy, prices, now } = input;
  const stored: StoredObject[] = [];
  const classesOf: Map<string, ExpectedClass>[] = [];
  for (const snapshots of input.repos) {
    const classes = replayedClasses(snapshots, policy, now, input.newObjectClass);
    classesOf.push(classes);
    const plan = planRetention(snapshots, policy, now);
    const tierOf = new Map<string, string>(plan.keep.map((k) => [k.snapshot.id, k.tier]));
    for (const s of snapshots) {
      const { storageClass } = classes.get(s.id)!;
      stored.push({ bytes: s.size, storageClass, tier: tierOf.get(s.id) ?? "expired" });
    }
  }
  const summary = summarizeStorage(stored, prices);
  const report: StorageReport = {
    basis: STORAGE_REPORT_BASIS,
    at: now.toISOString(),
    currency: prices.currency,
    archives: summary.objects,
    bytes: summary.bytes,
    byTier: summary.byTier,
    byExpectedClass: summary.byClass.map(({ storageClass, ...usage }) => ({
      expectedClass: storageClass,
      ...usage,
    })),
    monthlyCost: summary.monthlyCost,
    retrievalCost: summary.retrievalCost,
  };
  return { report, classes: classesOf };
}
