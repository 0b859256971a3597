// What reading backups back costs a month: verifications, restore drills and restores read the newest
// snapshot's archives, and a cold class bills every GiB read (Archive: 0.05 USD/GiB). Pure: the cost
// command counts the reads (the schedule and drill sample, the index, the audit trail) and passes the
// classes prune leaves each archive in.
import type { AuditEntry } from "./audit-chain.js";
import { GIB, pricedClass, roundMoney, type PriceTable, type PricedClass } from "./cost.js";
import { afterBackupLevel, sweepVerifyLevel } from "./layers/deep-schedule.js";
import type { SnapshotSummary, VerifyLevel } from "./model.js";

/** How often a month something reads a repository's newest snapshot back. */
export interface ReadsPerMonth {
  /** Verify-after-backup of each new snapshot, and the scheduled re-verification of the latest. */
  verifications: number;
  /** Restore drills (`infinity-backup drill`): a full restore into scratch space. */
  drills: number;
  /** Restores people asked for. */
  restores: number;
}

export const READ_KINDS = ["verifications", "drills", "restores"] as const;
export type ReadKind = (typeof READ_KINDS)[number];

export interface ArchiveRead {
  bytes: number;
  /** The class the archive is in once prune has run. */
  storageClass: string | undefined;
}

export interface RepoReads {
  /**
   * The archives a restore of the newest snapshot reads, newest first: its own, then every one its
   * incremental chain builds on.
   */
  chain: readonly ArchiveRead[];
  /** A deep verification restores the whole chain; a quick one reads the newest archive only. */
  deepVerify: boolean;
  reads: ReadsPerMonth;
  /**
   * Layered repositories: how many of `reads.verifications` are per layer (level `layer`: six sweeps
   * in seven and every verify-after-backup), and what one reads: the newest snapshot's own archive
   * and the oids of the layers it resolves to. A verification after backup also reads its new layer
   * whole, just written in the new-object class (no retrieval fee), which is left out.
   */
  layerVerify?: { times: number; reads: readonly ArchiveRead[] };
}

export interface ReadCost {
  /** Reads a month over every repository, by kind. */
  reads: ReadsPerMonth;
  /** GiB-weighted bytes read a month, by the class they are read from. */
  bytesByClass: Partial<Record<PricedClass, number>>;
  /** Retrieval fees a month, by kind of read. */
  costByKind: Record<ReadKind, number>;
  monthlyCost: number;
}

export function monthlyReadCost(repos: readonly RepoReads[], prices: PriceTable): ReadCost {
  const reads: ReadsPerMonth = { verifications: 0, drills: 0, restores: 0 };
  const costByKind: Record<ReadKind, number> = { verifications: 0, drills: 0, restores: 0 };
  const bytesByClass: Partial<Record<PricedClass, number>> = {};
  for (const repo of repos) {
    const read = (kind: ReadKind, archives: readonly ArchiveRead[], times: number) => {
      for (const archive of archives) {
        const storageClass = pricedClass(archive.storageClass);
        bytesByClass[storageClass] = (bytesByClass[storageClass] ?? 0) + archive.bytes * times;
        costByKind[kind] += ((archive.bytes * times) / GIB) * prices.retrieval[storageClass];
      }
    };
    for (const kind of READ_KINDS) {
      const times = repo.reads[kind];
      reads[kind] += times;
      if (kind !== "verifications") {
        read(kind, repo.chain, times);
        continue;
      }
      const perLayer = Math.min(repo.layerVerify?.times ?? 0, times);
      read(kind, repo.layerVerify?.reads ?? [], perLayer);
      read(kind, repo.deepVerify ? repo.chain : repo.chain.slice(0, 1), times - perLayer);
    }
  }
  for (const kind of READ_KINDS) costByKind[kind] = roundMoney(costByKind[kind]);
  const monthlyCost = roundMoney(READ_KINDS.reduce((sum, kind) => sum + costByKind[kind], 0));
  return { reads, bytesByClass, costByKind, monthlyCost };
}

/**
 * Drills and restores of each repository the audit trail records at or after `since`. A drill's own
 * restore is audited too (its actor is "drill:…"): it counts once, as the drill.
 */
export function readsInTrail(
  entries: Iterable<AuditEntry>,
  since: string,
): Map<string, Pick<ReadsPerMonth, "drills" | "restores">> {
  const counts = new Map<string, Pick<ReadsPerMonth, "drills" | "restores">>();
  for (const entry of entries) {
    if (entry.at < since || entry.repo === undefined) continue;
    const drill = entry.action === "drill.passed" || entry.action === "drill.failed";
    const restore = entry.action === "restore.completed" && !entry.actor.startsWith("drill:");
    if (!drill && !restore) continue;
    const count = counts.get(entry.repo) ?? { drills: 0, restores: 0 };
    if (drill) count.drills += 1;
    else count.restores += 1;
    counts.set(entry.repo, count);
  }
  return counts;
}

/**
 * Drills of each repository a month that the restoreDrill clock schedules: each of `runs` drills
 * restores `sample` repositories, always the largest (by its newest snapshot's size; the first
 * listed on a tie) and the rest in turn (the longest undrilled, then at random: core/drill.ts), so
 * the largest is read on every run and each other one on its share, (sample - 1) / (repos - 1),
 * of them. An expectation, so a share may be fractional.
 */
export function scheduledDrills(
  repos: readonly { repo: string; bytes: number }[],
  runs: number,
  sample: number,
): Map<string, number> {
  const drills = new Map<string, number>();
  if (repos.length === 0 || runs <= 0 || sample < 1) return drills;
  const largest = repos.reduce((best, repo) => (repo.bytes > best.bytes ? repo : best));
  const others = repos.length - 1;
  const share = others === 0 ? 0 : Math.min(sample - 1, others) / others;
  for (const { repo } of repos) drills.set(repo, repo === largest.repo ? runs : runs * share);
  return drills;
}

/**
 * A repository's verifications in the month ahead and how many of them are per layer: one after
 * each backup (`fresh`: the snapshots of the last 30 days, at the level backup verifies that kind
 * at) when verify.afterBackup is on, and the verification sweep's runs (`sweepDays`) of its newest
 * snapshot, at the level the sweep asks for that day (a layered one: a full restore on its
 * lineage's weekday, per layer on the other six).
 */
export function verificationsAhead(input: {
  newest: Pick<SnapshotSummary, "kind" | "repo" | "lineage"> | undefined;
  fresh: readonly Pick<SnapshotSummary, "kind">[];
  afterBackup: boolean;
  level: VerifyLevel;
  sweepDays: readonly { day: Date; runs: number }[];
}): { verifications: number; perLayer: number } {
  let verifications = 0;
  let perLayer = 0;
  if (input.afterBackup)
    for (const snapshot of input.fresh) {
      verifications += 1;
      if (afterBackupLevel(snapshot.kind, input.level) === "layer") perLayer += 1;
    }
  if (input.newest !== undefined)
    for (const { day, runs } of input.sweepDays) {
      verifications += runs;
      if (sweepVerifyLevel(input.newest, day) === "layer") perLayer += runs;
    }
  return { verifications, perLayer };
}

/**
 * What reading a repository's newest snapshot back costs a month, as a RepoReads: `own` is its
 * archive (a chain's: every archive it builds on, newest first), `layers` the layers it resolves to.
 * A restore, a drill or a deep verification reads all of them; a per-layer one its own archive and
 * the layers' oids.
 */
export function newestSnapshotReads(input: {
  own: readonly ArchiveRead[];
  layers: readonly { pack: ArchiveRead; oids: ArchiveRead }[];
  deepVerify: boolean;
  verifications: { verifications: number; perLayer: number };
  drills: number;
  restores: number;
}): RepoReads {
  const { own, layers, verifications } = input;
  return {
    chain: [...own, ...layers.flatMap((layer) => [layer.pack, layer.oids])],
    deepVerify: input.deepVerify,
    layerVerify: { times: verifications.perLayer, reads: [...own, ...layers.map((layer) => layer.oids)] },
    reads: { verifications: verifications.verifications, drills: input.drills, restores: input.restores },
  };
}
