// What is stored and what it costs, from the index alone (backupHealth may not read the bucket): bytes
// per retention tier and per expected storage class, the monthly estimate and the year ahead (cost.ts).
import {
  projectYear,
  roundMoney,
  summarizeStorage,
  type ClassUsage,
  type PriceTable,
  type ProjectedSnapshot,
  type StoredObject,
  type TierUsage,
  type YearProjection,
} from "./cost.js";
import type { Snapshot } from "./model.js";
import { planRetention } from "./retention.js";
import type { RetentionPolicy } from "./retention-policy.js";
import {
  chooseStorageClass,
  MINIMUM_STORAGE_DAYS,
  readersOf,
  RECENT_READ_DAYS,
  settledKeepUntil,
} from "./storage-tiers.js";

const DAY_MS = 86_400_000;

export const STORAGE_REPORT_BASIS =
  "index only: sizes from the snapshot records, tiers from the retention policy, and the expected " +
  "class of each archive (where daily prunes put it), not the class the store reports";

export interface StorageReportInput {
  /** Per repository, its snapshot records. */
  repos: readonly (readonly Snapshot[])[];
  policy: RetentionPolicy;
  prices: PriceTable;
  now: Date;
  /** The class new archives are written in ("STANDARD" in a bucket, "LOCAL" in a folder). */
  newObjectClass: string;
  /**
   * Replay the year for at most this many repositories (default PROJECTED_REPOS); 0: no projection
   * (a status page that shows none and has no capacity rule to feed).
   */
  projectedRepos?: number;
  /** Shared pack layers' archives (core/layers/usage.ts layerArchives), counted beside the snapshots'. */
  layerArchives?: readonly StoredObject[];
}

/**
 * Replaying a year costs about a quarter of a second per repository, and backupHealth answers for
 * thousands: the year is replayed for this many, the ones with the largest newest archives, and the
 * others are added in proportion (see StorageProjection).
 */
export const PROJECTED_REPOS = 20;

export interface StorageProjection extends YearProjection {
  /** Repositories with a snapshot. */
  repositories: number;
  /** How many of them were replayed; the rest are scaled in by the size of their newest archive. */
  replayed: number;
}

export type ExpectedClassUsage = Omit<ClassUsage, "storageClass"> & {
  expectedClass: ClassUsage["storageClass"];
};

export interface StorageReport {
  /** What the figures rest on: see STORAGE_REPORT_BASIS. */
  basis: string;
  at: string;
  currency: string;
  archives: number;
  bytes: number;
  /** Most bytes first: the tier each archive is kept for, or "expired" (the next prune removes it). */
  byTier: TierUsage[];
  /** Warmest first: the class each archive is expected to be in, with its monthly cost. */
  byExpectedClass: ExpectedClassUsage[];
  /** The storage bill of a month at the price table's prices. */
  monthlyCost: number;
  /** Reading every stored byte back once (restoring everything). */
  retrievalCost: number;
  /** The year ahead under the policy (cost.ts projectYear), starting from the expected classes; absent when not asked for. */
  projection?: StorageProjection;
}

export function storageReport(input: StorageReportInput): StorageReport {
  const { policy, prices, now } = input;
  const stored: StoredObject[] = [];
  const histories: ProjectedSnapshot[][] = [];
  for (const snapshots of input.repos) {
    const classes = expectedClasses(snapshots, policy, now, input.newObjectClass);
    const plan = planRetention(snapshots, policy, now);
    const tierOf = new Map<string, string>(plan.keep.map((k) => [k.snapshot.id, k.tier]));
    const history: ProjectedSnapshot[] = [];
    for (const s of snapshots) {
      const { storageClass, since } = classes.get(s.id)!;
      stored.push({ bytes: s.size, storageClass, tier: tierOf.get(s.id) ?? "expired" });
      const projected: ProjectedSnapshot = {
        id: s.id,
        takenAt: s.takenAt,
        bytes: s.size,
        storageClass,
        createdAt: since,
      };
      if (s.parentId !== undefined) projected.parentId = s.parentId;
      if (s.hold === true) projected.hold = true;
      history.push(projected);
    }
    histories.push(history);
  }
  const summary = summarizeStorage([...stored, ...(input.layerArchives ?? [])], prices);
  return {
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
    ...(input.projectedRepos === 0 ? {} : { projection: projectFleet(histories, input) }),
  };
}

/**
 * projectYear for the `projectedRepos` repositories with the largest newest archives, scaled up to
 * all: the year ahead is mostly new archives the size of each repository's newest, so bytes and cost
 * grow by the ratio of the newest sizes, archive counts by the ratio of repositories.
 */
function projectFleet(histories: ProjectedSnapshot[][], input: StorageReportInput): StorageProjection {
  const now = input.now.getTime();
  const newest = (history: ProjectedSnapshot[]) =>
    history
      .filter((s) => Date.parse(s.takenAt) <= now)
      .reduce<ProjectedSnapshot | undefined>(
        (best, s) => (best === undefined || Date.parse(s.takenAt) > Date.parse(best.takenAt) ? s : best),
        undefined,
      )?.bytes ?? 0;
  const ranked = histories
    .filter((history) => history.length > 0)
    .map((history) => ({ history, bytes: newest(history) }))
    .sort((a, b) => b.bytes - a.bytes);
  const chosen = ranked.slice(0, input.projectedRepos ?? PROJECTED_REPOS);
  const year = projectYear({
    repos: chosen.map((c) => c.history),
    policy: input.policy,
    prices: input.prices,
    now: input.now,
    newObjectClass: input.newObjectClass,
  });
  const result = { ...year, repositories: ranked.length, replayed: chosen.length };
  if (chosen.length === ranked.length) return result;
  const sum = (list: typeof ranked) => list.reduce((total, c) => total + c.bytes, 0);
  const bytes = sum(chosen) > 0 ? sum(ranked) / sum(chosen) : ranked.length / chosen.length;
  const count = ranked.length / chosen.length;
  return {
    ...result,
    assumption:
      `${year.assumption}; replayed for the ${chosen.length} repositories with the largest newest ` +
      `archives, the other ${ranked.length - chosen.length} added in proportion to theirs`,
    points: year.points.map((p) => ({
      ...p,
      snapshots: Math.round(p.snapshots * count),
      bytes: Math.round(p.bytes * bytes),
      byClass: Object.fromEntries(Object.entries(p.byClass).map(([c, b]) => [c, Math.round(b * bytes)])),
      monthlyCost: roundMoney(p.monthlyCost * bytes),
    })),
    yearCost: roundMoney(year.yearCost * bytes),
  };
}

/** Where an archive is expected to be: its class, and since when (a class change writes it anew). */
export interface ExpectedClass {
  storageClass: string;
  /** ISO-8601: takenAt, or the instant of the prune that moved it. */
  since: string;
}

/**
 * The class each snapshot's archive is expected to be in at `now`, by replaying prune's class choice
 * (storage-tiers.ts) from `newObjectClass` at the instants where it can change: each time one of the
 * snapshots' days, ISO weeks, months or years ends (a period over settles who holds it), and at `now`.
 * Daily prunes in between choose nothing colder: the time left only shrinks. Snapshots pruned since
 * are not in the index and are not replayed, and a hold counts as if it had always been set.
 */
export function expectedClasses(
  snapshots: readonly Snapshot[],
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

/** The starts of the UTC day, ISO week (Monday), month and year after the ones `at` falls in, in that order. */
export function periodEnds(at: number): number[] {
  const d = new Date(at);
  const [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  const mondayBased = (d.getUTCDay() + 6) % 7;
  return [
    Date.UTC(year, month, day + 1),
    Date.UTC(year, month, day + 7 - mondayBased),
    Date.UTC(year, month + 1, 1),
    Date.UTC(year + 1, 0, 1),
  ];
}
