// Compaction as operations run it (docs/ARCHITECTURE.md, "Compaction in levels"): under the
// repository's lease, one merge at a time (each atomic by its T-merge), stopping at a deadline
// between merges. The scheduled prune cannot decrypt, so it hands each repository with a full level
// or an old chain to fold to the Cloud Run job (snapshot-large); the job merges until its own deadline and hands the rest
// on to its next run, as restores to GitHub do.
import { randomUUID } from "node:crypto";
import type { Deps } from "../deps.js";
import { describeError, LeaseHeldError } from "../errors.js";
import { holdLease, leaseHolder } from "../lease.js";
import type { LargeCompactRequest } from "../messages.js";
import type { Publisher } from "../ports.js";
import { compactLineage, type CompactReport } from "./compact.js";
import { planCompaction } from "./plan.js";
import { planFold } from "./plan-fold.js";
import { lineageOf } from "./prune-layers.js";

export interface CompactRun extends CompactReport {
  /** Another run held the repository's lease: nothing was merged. */
  skipped?: string;
  /** Stopped at the deadline with merges still planned. */
  unfinished?: true;
}

export interface CompactRunOptions {
  actor: string;
  /** At most this many merges. */
  maxMerges?: number;
  /**
   * No merge starts after this instant (by deps.clock), except the run's first, so a run that
   * starts late still moves on. A merge under way is never cut: it is atomic by T-merge.
   */
  deadline?: Date;
  /** The first round rewrites every live layer into one of only reached objects (compact.ts). */
  full?: boolean;
}

/** Compaction of the repository's layers, holding its lease as a snapshot does (invariant 7). */
export async function compactUnderLease(
  deps: Deps,
  repo: string,
  options: CompactRunOptions,
): Promise<CompactRun> {
  const lineage = await lineageOf(deps, repo);
  let lease;
  try {
    lease = await holdLease(deps.index, repo, leaseHolder(`compact-${randomUUID().slice(0, 8)}`));
  } catch (err) {
    if (err instanceof LeaseHeldError) return { merges: [], skipped: describeError(err) };
    throw err;
  }
  try {
    const run: CompactRun = { merges: [] };
    const { deadline, maxMerges = Infinity } = options;
    while (run.merges.length < maxMerges) {
      if (run.merges.length > 0 && deadline && deps.clock.now().getTime() >= deadline.getTime()) {
        if (await compactionDue(deps, lineage)) run.unfinished = true;
        break;
      }
      // The first round also folds old chains in and rewrites layers under half live (given the
      // repository); the walk that needs costs a restore, so later rounds only merge.
      const first = run.merges.length === 0;
      const round = await compactLineage(deps, lineage, {
        actor: options.actor,
        signal: lease.signal,
        maxMerges: 1,
        ...(first ? { repo, full: options.full === true } : {}),
      });
      if (round.fold) run.fold = round.fold;
      if (round.rewrite) run.rewrite = round.rewrite;
      if (round.merges.length === 0) break;
      run.merges.push(...round.merges);
    }
    return run;
  } finally {
    await lease.release();
  }
}

/** Whether the lineage's live layers have a full level (a merge to do). Reads the index only. */
async function compactionDue(deps: Deps, lineage: string): Promise<boolean> {
  if (!deps.layers) return false;
  return planCompaction(await deps.layers.layers(lineage)).length > 0;
}

/**
 * Whether the repository has an old chain the job's first round would fold: one planFold does not
 * leave (layers turned on, no held snapshot, not broken, some git objects). Reads the index only;
 * a chain left as it is (held, broken) is not handed over again every day.
 */
async function foldDue(deps: Deps, repo: string): Promise<boolean> {
  return planFold(await deps.index.list(repo)).some((chain) => !chain.skip);
}

/**
 * The scheduled prune's hand-off: one compaction request for each of `repos` whose layers have a
 * full level or that has an old chain to fold, published to snapshot-large. Resolves with the
 * repositories handed over. (A live-share rewrite alone cannot be known without decrypting the
 * layers; the job's first round checks it whenever a repository is handed over.)
 */
export async function handCompactionsToJob(
  deps: Deps & { publisher: Publisher },
  repos: readonly string[],
): Promise<string[]> {
  if (!deps.layers) return [];
  const due: string[] = [];
  for (const repo of repos)
    if ((await compactionDue(deps, await lineageOf(deps, repo))) || (await foldDue(deps, repo)))
      due.push(repo);
  if (due.length === 0) return [];
  const requestedAt = deps.clock.now().toISOString();
  const requests: LargeCompactRequest[] = due.map((repo) => ({
    v: 1,
    kind: "compact",
    repo,
    requestedAt,
    handoffs: 0,
  }));
  await deps.publisher.publish("snapshot-large", requests);
  return due;
}

/**
 * The job's run of a handed-over compaction: merges until `runSeconds` have passed, then hands the
 * rest on to the next run (snapshot-large, `handoffs` one more).
 */
export async function runCompactRequest(
  deps: Deps & { publisher: Publisher },
  request: LargeCompactRequest,
  options: { actor: string; runSeconds: number },
): Promise<CompactRun & { handedOn?: true }> {
  const deadline = new Date(deps.clock.now().getTime() + options.runSeconds * 1000);
  const run = await compactUnderLease(deps, request.repo, { actor: options.actor, deadline });
  if (!run.unfinished) return run;
  const next: LargeCompactRequest = {
    ...request,
    requestedAt: deps.clock.now().toISOString(),
    handoffs: request.handoffs + 1,
  };
  await deps.publisher.publish("snapshot-large", [next]);
  return { ...run, handedOn: true };
}
