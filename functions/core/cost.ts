// What storage costs: bytes per storage class and retention tier, a monthly estimate from a price table,
// and a year's projection under the retention policy. Pure (a replay is remembered per input): the cost command gathers the inputs.
import { createHash } from "node:crypto";
import { planRetention, type RetentionCandidate } from "./retention.js";
import type { RetentionPolicy } from "./retention-policy.js";
import { chooseStorageClass, readersOf, settledKeepUntil, STORAGE_CLASSES } from "./storage-tiers.js";

/** The classes a price table prices: Cloud Storage's, and LOCAL for the folder store. */
export const PRICED_CLASSES = [...STORAGE_CLASSES, "LOCAL"] as const;
export type PricedClass = (typeof PRICED_CLASSES)[number];

export interface PriceTable {
  currency: string;
  /** Price of one GiB stored for a month, by class. */
  storage: Record<PricedClass, number>;
  /** Price of reading one GiB back, by class. */
  retrieval: Record<PricedClass, number>;
}

/** Cloud Storage bills by the binary gigabyte (its "GB" is 2^30 bytes). */
export const GIB = 2 ** 30;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The class a price is looked up under: one the table does not know (legacy REGIONAL, none) as STANDARD. */
export function pricedClass(storageClass: string | undefined): PricedClass {
  return PRICED_CLASSES.find((known) => known === storageClass) ?? "STANDARD";
}

/** Money to a millionth of the currency unit, so sums print and compare without binary noise. */
export function roundMoney(amount: number): number {
  return Math.round(amount * 1e6) / 1e6;
}

export function monthlyCostOf(bytes: number, storageClass: string | undefined, prices: PriceTable): number {
  return (bytes / GIB) * prices.storage[pricedClass(storageClass)];
}

export interface StoredObject {
  bytes: number;
  storageClass: string | undefined;
  /** The retention tier it is kept for, "expired" (the next prune removes it) or "orphan". */
  tier: string;
}

export interface ClassUsage {
  storageClass: PricedClass;
  objects: number;
  bytes: number;
  monthlyCost: number;
}

export interface TierUsage {
  tier: string;
  objects: number;
  bytes: number;
}

export interface StorageSummary {
  objects: number;
  bytes: number;
  /** Warmest first; classes with nothing stored are left out. */
  byClass: ClassUsage[];
  /** Most bytes first. */
  byTier: TierUsage[];
  monthlyCost: number;
  /** Reading every stored byte once (restoring everything), at the retrieval prices. */
  retrievalCost: number;
}

export function summarizeStorage(objects: readonly StoredObject[], prices: PriceTable): StorageSummary {
  const byClass = new Map<PricedClass, ClassUsage>();
  const byTier = new Map<string, TierUsage>();
  let retrieval = 0;
  for (const object of objects) {
    const storageClass = pricedClass(object.storageClass);
    const usage = byClass.get(storageClass) ?? { storageClass, objects: 0, bytes: 0, monthlyCost: 0 };
    usage.objects += 1;
    usage.bytes += object.bytes;
    byClass.set(storageClass, usage);
    const tier = byTier.get(object.tier) ?? { tier: object.tier, objects: 0, bytes: 0 };
    tier.objects += 1;
    tier.bytes += object.bytes;
    byTier.set(object.tier, tier);
    retrieval += (object.bytes / GIB) * prices.retrieval[storageClass];
  }
  const classes = PRICED_CLASSES.flatMap((name) => {
    const usage = byClass.get(name);
    return usage === undefined
      ? []
      : [{ ...usage, monthlyCost: roundMoney(monthlyCostOf(usage.bytes, name, prices)) }];
  });
  return {
    objects: objects.length,
    bytes: classes.reduce((sum, usage) => sum + usage.bytes, 0),
    byClass: classes,
    byTier: [...byTier.values()].sort((a, b) => b.bytes - a.bytes || (a.tier < b.tier ? -1 : 1)),
    monthlyCost: roundMoney(
      classes.reduce((sum, usage) => sum + monthlyCostOf(usage.bytes, usage.storageClass, prices), 0),
    ),
    retrievalCost: roundMoney(retrieval),
  };
}

/** A snapshot as the projection follows it: its object's size and class, and when that was written. */
export interface ProjectedSnapshot extends RetentionCandidate {
  bytes: number;
  storageClass: string | undefined;
  createdAt: string;
}

export interface ProjectionPoint {
  /** Days after `now`. */
  day: number;
  at: string;
  snapshots: number;
  bytes: number;
  byClass: Partial<Record<PricedClass, number>>;
  /** The monthly cost of what is stored on that day. */
  monthlyCost: number;
}

export interface YearProjection {
  /** The stated assumption, for the report. */
  assumption: string;
  /** One point at the end of each of the twelve months ahead. */
  points: ProjectionPoint[];
  /** The storage bill of the whole year ahead, day by day. */
  yearCost: number;
}

export interface ProjectionInput {
  /** Per repository, its snapshots now. */
  repos: readonly (readonly ProjectedSnapshot[])[];
  policy: RetentionPolicy;
  prices: PriceTable;
  now: Date;
  /** The class new archives are written in ("STANDARD" in a bucket, "LOCAL" in a folder). */
  newObjectClass: string;
  days?: number;
}

export const PROJECTION_ASSUMPTION =
  "one snapshot a day at 00:00 UTC per repository, each the size of its newest, pruned daily at 01:00";

/**
 * Replays the year ahead under the policy: every day each repository gets a snapshot the size of its
 * newest, then is pruned as prune.ts would (planRetention for what stays, storage-tiers for the class).
 * Pushes between the daily snapshots are not modelled: inside the `within` window they come and go.
 */
export function projectYear(input: ProjectionInput): YearProjection {
  // The replay costs about a millisecond per repository and day (two retention plans), seconds for
  // a status page; the same inputs on the same day give the same year, so a warm process (serve,
  // a backupHealth instance) answers its next request from here.
  const key = projectionKey(input);
  const known = PROJECTIONS.get(key);
  if (known) return known;
  const year = replayYear(input);
  if (PROJECTIONS.size >= MAX_PROJECTIONS) PROJECTIONS.delete(PROJECTIONS.keys().next().value!);
  PROJECTIONS.set(key, year);
  return year;
}

const PROJECTIONS = new Map<string, YearProjection>();
const MAX_PROJECTIONS = 8;

/** Everything the replay reads: the day it starts on (not the instant), the policy, the histories. */
function projectionKey(input: ProjectionInput): string {
  const now = input.now.getTime();
  return createHash("sha256")
    .update(
      JSON.stringify([
        Math.floor(now / DAY_MS),
        input.days ?? 365,
        input.newObjectClass,
        input.policy,
        input.prices,
        // Which snapshots are present at `now` (the template is the newest of them).
        input.repos.map((repo) => repo.map((s) => [s, Date.parse(s.takenAt) <= now])),
      ]),
    )
    .digest("hex");
}

function replayYear(input: ProjectionInput): YearProjection {
  const days = input.days ?? 365;
  const first = Math.floor(input.now.getTime() / DAY_MS) * DAY_MS;
  const pointDays = Array.from({ length: 12 }, (_, k) => Math.round((days * (k + 1)) / 12));
  const points = new Map(
    pointDays.map((day) => [
      day,
      {
        day,
        at: new Date(first + day * DAY_MS).toISOString(),
        snapshots: 0,
        bytes: 0,
        byClass: {},
        monthlyCost: 0,
      },
    ]),
  );
  let yearCost = 0;
  for (const start of input.repos) {
    let stored = [...start];
    const template = newestPresent(stored, input.now);
    for (let day = 1; day <= days; day++) {
      const takenAt = new Date(first + day * DAY_MS).toISOString();
      if (template !== undefined) {
        stored.push({
          id: `projected-${day}`,
          takenAt,
          bytes: template.bytes,
          storageClass: input.newObjectClass,
          createdAt: takenAt,
        });
      }
      stored = pruneInMemory(stored, input.policy, new Date(first + day * DAY_MS + HOUR_MS));
      const dayCost = stored.reduce(
        (sum, s) => sum + monthlyCostOf(s.bytes, s.storageClass, input.prices),
        0,
      );
      yearCost += (dayCost * 12) / days;
      const point: ProjectionPoint | undefined = points.get(day);
      if (point === undefined) continue;
      point.snapshots += stored.length;
      for (const s of stored) {
        point.bytes += s.bytes;
        const name = pricedClass(s.storageClass);
        point.byClass[name] = (point.byClass[name] ?? 0) + s.bytes;
      }
      point.monthlyCost += dayCost;
    }
  }
  return {
    assumption: PROJECTION_ASSUMPTION,
    points: [...points.values()].map((point) => ({ ...point, monthlyCost: roundMoney(point.monthlyCost) })),
    yearCost: roundMoney(yearCost),
  };
}

function newestPresent(snapshots: readonly ProjectedSnapshot[], now: Date): ProjectedSnapshot | undefined {
  let newest: ProjectedSnapshot | undefined;
  for (const s of snapshots) {
    const at = Date.parse(s.takenAt);
    if (at <= now.getTime() && (newest === undefined || at > Date.parse(newest.takenAt))) newest = s;
  }
  return newest;
}

/** What one prune leaves, with the classes it would set (a class change rewrites: createdAt resets). */
function pruneInMemory(stored: ProjectedSnapshot[], policy: RetentionPolicy, at: Date): ProjectedSnapshot[] {
  const settled = settledKeepUntil(stored, policy, at);
  const plan = planRetention(stored, policy, at);
  const readBy = readersOf(
    plan.keep.map((kept) => kept.snapshot),
    plan.reference,
  );
  return plan.keep.map(({ snapshot }) => {
    const sure = settled.get(snapshot.id);
    const choice = chooseStorageClass({
      current: snapshot.storageClass,
      createdAt: snapshot.createdAt,
      settledUntil: sure === undefined ? at.toISOString() : sure,
      now: at,
      readBy: readBy.get(snapshot.id),
    });
    return choice.move
      ? { ...snapshot, storageClass: choice.storageClass, createdAt: at.toISOString() }
      : snapshot;
  });
}
