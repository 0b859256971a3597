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
import type { SnapshotSummary } from "./model.js";
import { planRetention } from "./retention.js";
import type { RetentionPolicy } from "./retention-policy.js";
import { expectedClasses } from "./expected-classes.js";

export { expectedClasses, periodEnds, type ExpectedClass } from "./expected-classes.js";

export const STORAGE_REPORT_BASIS =
  "index only: sizes from the snapshot records, tiers from the retention policy, and the expected " +
  "class of each archive (where daily prunes put it), not the class the store reports";

export interface StorageReportInput {
  /** Per repository, its snapshot records. */
  repos: readonly (readonly SnapshotSummary[])[];
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
    const tierOf = tiersOf(snapshots, policy, now);
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
 * The tier each snapshot is kept for (planRetention's), absent for what the next prune removes. The
 * plan depends on `now` only through which snapshots are dated after it: windows are measured from
 * the newest snapshot, and the clock's lag past it moves every window's keepUntil alike, so the
 * reason that decides a tier stays. So the tiers are remembered per repository, and planned again
 * when a record (id, takenAt, parentId, hold), the policy or the future-dated ones differ.
 */
function tiersOf(
  snapshots: readonly SnapshotSummary[],
  policy: RetentionPolicy,
  now: Date,
): Map<string, string> {
  const first = snapshots[0];
  if (first === undefined) return new Map();
  const end = now.getTime();
  const inputs = JSON.stringify([
    policy,
    snapshots.map((s) => [s.id, s.takenAt, s.parentId, s.hold === true, Date.parse(s.takenAt) > end]),
  ]);
  const repo = first.lineage ?? first.repo;
  const known = TIERS.get(repo);
  if (known?.inputs === inputs) return known.tiers;
  const plan = planRetention(snapshots, policy, now);
  const tiers = new Map<string, string>(plan.keep.map((k) => [k.snapshot.id, k.tier]));
  TIERS.delete(repo);
  if (TIERS.size >= MAX_TIERS) TIERS.delete(TIERS.keys().next().value!);
  TIERS.set(repo, { inputs, tiers });
  return tiers;
}

const TIERS = new Map<string, { inputs: string; tiers: Map<string, string> }>();
const MAX_TIERS = 50_000;

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
