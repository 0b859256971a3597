// Prune use case: carries out each repository's prune plan (prune-plan.ts): kept archives get their
// expiry moved forward and the storage class that fits, expired snapshots are deleted, orphans are
// collected; every deletion is audited. A dry run returns the plan and changes nothing.
// Retention and holds are the store's as well: a kept archive's retention moves forward with its
// expiry and its hold follows the snapshot's; a removal whose object is still retained (or held)
// is left, record and object, and reported in `skipped`: never forced. The steps that touch the
// store and the index are in prune-apply.ts; the plan is prune-plan.ts's.
import { keepRepoReplay } from "./class-checkpoints.js";
import type { Deps } from "./deps.js";
import { compactUnderLease, type CompactRun } from "./layers/compact-run.js";
import { pruneLayers, type PruneLayersReport } from "./layers/prune-layers.js";
import { keysNamedByLayers } from "./layers/garbage.js";
import { describeError } from "./errors.js";
import { isRepoName } from "./ids.js";
import { ARCHIVES_PREFIX, isLayerKey, LAYERS_PREFIX, repoPrefix } from "./object-keys.js";
import { applyLifecycle, collectOrphans, removeSnapshot, retainedReason, type Audit } from "./prune-apply.js";
import { planPrune, type RepoPrunePlan } from "./prune-plan.js";
import type { RetentionPolicy } from "./retention-policy.js";

export type { KeepDecision, Orphan, RemoveDecision, RepoPrunePlan } from "./prune-plan.js";

/** An object younger than this may belong to a snapshot still being written: never an orphan. */
export const DEFAULT_ORPHAN_GRACE_MS = 24 * 60 * 60 * 1000;

export interface PruneOptions {
  /** Work out and return the plan; change nothing (no lifecycle, no delete, no index write, no audit). */
  dryRun: boolean;
  actor: string;
  /** The instant to plan at; the clock's now by default. */
  now?: Date;
  orphanGraceMs?: number;
  /** How long a retired or dead layer's archives stay (core/layers/garbage-plan.ts, LAYER_GRACE_MS). */
  layerGraceMs?: number;
  /**
   * Also merge full layer levels (core/layers/compact.ts), under the repository's lease, after the
   * layer garbage; at most `maxMerges` merges a repository. Not in a dry run.
   */
  compact?: boolean;
  maxMerges?: number;
  /** With `compact`: no merge starts after this instant but a repository's first (compact-run.ts). */
  compactDeadline?: Date;
  /** With `compact`: rewrite every live layer into one holding only what kept snapshots reach. */
  fullCompaction?: boolean;
  /**
   * The class new archives are written in. Given (and not a dry run), each pruned repository's
   * storage-class replay is kept for the status page (core/class-checkpoints.ts).
   */
  newObjectClass?: string;
}

export interface PruneReport extends RepoPrunePlan {
  dryRun: boolean;
  /** Bytes of removed snapshots and orphans: freed, or freed by the real run for a dry run. */
  bytesFreed: number;
  /** Class changes by "FROM -> TO", e.g. { "STANDARD -> NEARLINE": 3 }. */
  moves: Record<string, number>;
  /** Kept objects whose expiry moves forward. */
  expiriesExtended: number;
  /**
   * Removals given up: the snapshot was put on hold while the prune ran, or its object is still
   * under the store's retention or on hold (it goes on a later run, once its time has come).
   */
  skipped: { snapshotId: string; reason: string }[];
  /** Shared pack layers (core/layers/garbage.ts): set dead, deleted, forgotten; absent without a layer index. */
  layers?: PruneLayersReport;
  /**
   * Merges of full layer levels, with `compact`; `skipped` when another run held the repository,
   * `unfinished` when the deadline came with merges still planned.
   */
  compaction?: CompactRun;
}

export interface PruneRepoResult {
  repo: string;
  report?: PruneReport;
  /** Set when the repository's prune failed; other repositories still ran. */
  error?: string;
}

export interface PruneAllOptions extends PruneOptions {
  /** Only these repositories; otherwise every one the index or the store knows. */
  only?: readonly string[];
  onRepoDone?: (result: PruneRepoResult, index: number, total: number) => void;
}

export async function pruneRepo(
  deps: Deps,
  repo: string,
  policy: RetentionPolicy,
  options: PruneOptions,
): Promise<PruneReport> {
  const prefix = repoPrefix(repo);
  const now = options.now ?? deps.clock.now();
  const onHold = policy.holdRepos?.includes(repo) ?? false;
  // A repository on legal hold: every snapshot counts as held, so nothing of it is removed.
  const snapshots = (await deps.index.list(repo)).map((s) => (onHold ? { ...s, hold: true } : s));
  const objects = [];
  // Layer archives are named by layer records, not snapshot records: layer garbage judges them,
  // and the old archives of folded snapshots too (legacy records, core/layers/compact-fold.ts).
  const layerNamed = await keysNamedByLayers(deps, repo);
  for await (const object of deps.store.list(prefix))
    if (!isLayerKey(object.key) && !layerNamed.has(object.key)) objects.push(object);
  const plan = planPrune({
    repo,
    snapshots,
    objects,
    policy,
    now,
    orphanGraceMs: options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS,
  });
  const report = summarize(plan, options.dryRun);
  const context = { plan, snapshots, policy };
  const byKey = new Map(objects.map((object) => [object.key, object]));
  if (options.dryRun) {
    for (const removal of plan.remove) {
      const retained = retainedReason(byKey.get(removal.snapshot.objectKey), now);
      if (retained) report.skipped.push({ snapshotId: removal.snapshot.id, reason: retained });
    }
    report.bytesFreed = freedBytes(report);
    const removing = new Set(plan.remove.map((removal) => removal.snapshot.id));
    report.layers = await pruneLayers(deps, repo, context, { ...options, now, removing });
    if (report.layers) report.bytesFreed += report.layers.bytesFreed;
    return report;
  }

  const audit: Audit = (event) => deps.audit.record({ ...event, repo, actor: options.actor });
  try {
    // Expiries first: moving them forward is always safe, and it is what the bucket's own lifecycle
    // rule goes by should this run stop halfway.
    for (const kept of plan.keep) await applyLifecycle(deps, kept, byKey.get(kept.snapshot.objectKey));
    for (const removal of plan.remove) {
      const skipped = await removeSnapshot(deps, repo, removal, audit, now);
      if (skipped !== undefined) report.skipped.push({ snapshotId: removal.snapshot.id, reason: skipped });
    }
    report.orphans = await collectOrphans(deps, repo, plan, audit, byKey, now);
    report.bytesFreed = freedBytes(report);
    // After the records went: layers only removed snapshots needed become garbage.
    report.layers = await pruneLayers(deps, repo, context, { ...options, now });
    if (report.layers) report.bytesFreed += report.layers.bytesFreed;
    if (options.compact && deps.layers) {
      report.compaction = await compactUnderLease(deps, repo, {
        actor: options.actor,
        ...(options.maxMerges === undefined ? {} : { maxMerges: options.maxMerges }),
        ...(options.compactDeadline ? { deadline: options.compactDeadline } : {}),
        ...(options.fullCompaction ? { full: true } : {}),
      });
    }
    await audit({
      action: "prune.completed",
      outcome: "success",
      details: {
        kept: plan.keep.length,
        removed: plan.remove.length - report.skipped.length,
        orphans: report.orphans.length,
        bytesFreed: report.bytesFreed,
        moves: report.moves,
        ...(report.layers
          ? { layersDead: report.layers.dead.length, layersDeleted: report.layers.deleted.length }
          : {}),
      },
    });
    return report;
  } catch (err) {
    await audit({ action: "prune.failed", outcome: "failure", details: { error: describeError(err) } });
    throw err;
  }
}

/** Prunes one repository after another; a repository that fails is reported and the others still run. */
export async function pruneAll(
  deps: Deps,
  policy: RetentionPolicy,
  options: PruneAllOptions,
): Promise<PruneRepoResult[]> {
  const repos = options.only?.length ? [...options.only] : await knownRepos(deps);
  // One instant for the whole run, so every repository is judged by the same clock reading.
  const now = options.now ?? deps.clock.now();
  const results: PruneRepoResult[] = [];
  for (const [i, repo] of repos.entries()) {
    let result: PruneRepoResult;
    try {
      result = { repo, report: await pruneRepo(deps, repo, policy, { ...options, now }) };
      if (!options.dryRun && options.newObjectClass !== undefined)
        await keepRepoReplay(deps, repo, { policy, now, newObjectClass: options.newObjectClass }).catch(
          () => false, // a checkpoint not kept costs the status page a replay, not the prune its result
        );
    } catch (err) {
      result = { repo, error: describeError(err) };
    }
    results.push(result);
    options.onRepoDone?.(result, i, repos.length);
  }
  return results;
}

/**
 * Every repository with an index record or an object in the store (an archive, or a layer of its
 * lineage): a repository whose records are all gone may still hold orphans.
 */
export async function knownRepos(deps: Pick<Deps, "index" | "store">): Promise<string[]> {
  const names = new Set(await deps.index.repos());
  for (const prefix of [ARCHIVES_PREFIX, LAYERS_PREFIX]) {
    for await (const object of deps.store.list(prefix)) {
      const [, owner, name, ...rest] = object.key.split("/");
      const repo = `${owner}/${name}`;
      if (rest.length > 0 && !names.has(repo) && isRepoName(repo)) names.add(repo);
    }
  }
  return [...names].sort();
}

function summarize(plan: RepoPrunePlan, dryRun: boolean): PruneReport {
  const moves: Record<string, number> = {};
  for (const kept of plan.keep) {
    if (kept.movedFrom === undefined) continue;
    const move = `${kept.movedFrom} -> ${kept.storageClass}`;
    moves[move] = (moves[move] ?? 0) + 1;
  }
  const report: PruneReport = {
    ...plan,
    dryRun,
    bytesFreed: 0,
    moves,
    expiriesExtended: plan.keep.filter((kept) => kept.setExpiresAt !== undefined).length,
    skipped: [],
  };
  report.bytesFreed = freedBytes(report);
  return report;
}

function freedBytes(report: PruneReport): number {
  const skipped = new Set(report.skipped.map((entry) => entry.snapshotId));
  const removed = report.remove.filter((removal) => !skipped.has(removal.snapshot.id));
  return [...removed, ...report.orphans].reduce(
    (sum, item) => sum + ("bytes" in item ? item.bytes : item.size),
    0,
  );
}
