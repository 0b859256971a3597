// The history bench's cost per month by storage class, from the product's own report code: the
// storage report the status page shows (core/storage-report.ts: each archive and layer in the class
// daily prunes put it in a bucket, from the index alone) and the month's reads as the cost command
// prices them (core/read-cost.ts: verifications at the level each runs at, the drill schedule).
// The bench's store is a folder (class LOCAL), so the classes are the bucket's expected ones.
import type { LocalApp } from "../functions/app.js";
import { runDaysIn30Days, runsIn30Days } from "../functions/config/cron-runs.js";
import { snapshotChain } from "../functions/core/chain.js";
import type { ClassUsage } from "../functions/core/cost.js";
import { lineageKeyOf } from "../functions/core/keys/repository-keys.js";
import { layerArchives, layersNeeded } from "../functions/core/layers/usage.js";
import {
  monthlyReadCost,
  newestSnapshotReads,
  scheduledDrills,
  verificationsAhead,
  type ArchiveRead,
  type ReadCost,
} from "../functions/core/read-cost.js";
import { expectedClasses, storageReport } from "../functions/core/storage-report.js";

const DAY = 86_400_000;
/** New archives in a bucket are written in STANDARD (core/storage-tiers.ts moves them later). */
const BUCKET_CLASS = "STANDARD";

export interface CostFigures {
  currency: string;
  byClass: Pick<ClassUsage, "storageClass" | "objects" | "bytes" | "monthlyCost">[];
  storageMonthly: number;
  reads: ReadCost;
  /** Of reads.reads.verifications, how many are per layer (the rest restore the snapshot). */
  perLayerVerifications: number;
  monthlyTotal: number;
}

/** What `repo`'s kept snapshots and layers would cost a month in a bucket at `now`. */
export async function monthlyCostByClass(app: LocalApp, repo: string, now: Date): Promise<CostFigures> {
  const { retention: policy, pricing } = app.settings;
  const snapshots = await app.index.list(repo);
  const layers = (await app.layers?.layers(await lineageKeyOf(app.index, repo))) ?? [];
  const layerStored = layerArchives(snapshots, layers, policy, now, BUCKET_CLASS);
  const storage = storageReport({
    repos: [snapshots],
    layerArchives: layerStored,
    policy,
    prices: pricing,
    now,
    newObjectClass: BUCKET_CLASS,
    projectedRepos: 0,
  });

  // The newest snapshot's reads, each archive in its expected class.
  const newest = snapshots
    .filter((s) => Date.parse(s.takenAt) <= now.getTime())
    .reduce<(typeof snapshots)[number] | undefined>(
      (n, s) => (n && n.takenAt > s.takenAt ? n : s),
      undefined,
    );
  const classes = expectedClasses(snapshots, policy, now, BUCKET_CLASS);
  const own: ArchiveRead[] = newest
    ? (await snapshotChain(app.index, newest)).map((s) => ({
        bytes: s.size,
        storageClass: classes.get(s.id)?.storageClass,
      }))
    : [];
  const part = (layerId: string, which: "pack" | "oids"): ArchiveRead => {
    const stored = layerStored.find((a) => a.layerId === layerId && a.part === which);
    return { bytes: stored?.bytes ?? 0, storageClass: stored?.storageClass };
  };
  const newestLayers = newest
    ? [...layersNeeded([newest], layers).keys()].map((id) => ({
        pack: part(id, "pack"),
        oids: part(id, "oids"),
      }))
    : [];
  const { afterBackup, level } = app.settings.backup.verify;
  const month = new Date(now.getTime() - 30 * DAY).toISOString();
  const verifications = verificationsAhead({
    newest,
    fresh: snapshots.filter((s) => s.takenAt >= month && s.takenAt <= now.toISOString()),
    afterBackup,
    level,
    sweepDays: runDaysIn30Days(app.settings.schedule.verifySweep, now) ?? [],
  });
  const drills = scheduledDrills(
    newest ? [{ repo, bytes: newest.size }] : [],
    runsIn30Days(app.settings.schedule.restoreDrill, now) ?? 30,
    app.settings.backup.drill.sample,
  );
  const reads = monthlyReadCost(
    [
      newestSnapshotReads({
        own,
        layers: newestLayers,
        deepVerify: level === "deep",
        verifications,
        drills: drills.get(repo) ?? 0,
        restores: 0,
      }),
    ],
    pricing,
  );
  return {
    currency: pricing.currency,
    byClass: storage.byExpectedClass.map(({ expectedClass, objects, bytes, monthlyCost }) => ({
      storageClass: expectedClass,
      objects,
      bytes,
      monthlyCost,
    })),
    storageMonthly: storage.monthlyCost,
    reads,
    perLayerVerifications: verifications.perLayer,
    monthlyTotal: storage.monthlyCost + reads.monthlyCost,
  };
}

/** "STANDARD 12.3 MiB 0.000246 USD, COLDLINE …; storage 0.0003 USD, retrieval … a month". */
export function costFigure(cost: CostFigures): string {
  const money = (usd: number) => `${usd === 0 ? "0" : usd.toPrecision(2)} ${cost.currency}`;
  const size = (bytes: number) =>
    bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
  const classes = cost.byClass
    .map((c) => `${c.storageClass} ${size(c.bytes)} ${money(c.monthlyCost)}`)
    .join(", ");
  const r = cost.reads;
  return (
    `${classes}; storage ${money(cost.storageMonthly)}, reads ${money(r.monthlyCost)} ` +
    `(${r.reads.verifications} verifications, ${cost.perLayerVerifications} of them per layer, ` +
    `${r.reads.drills} drills): ${money(cost.monthlyTotal)} a month`
  );
}
