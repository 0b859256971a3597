// Backing up a repository, the one path every entry point takes (the CLI's `backup`, the
// snapshotRepo function, the Cloud Run job): snapshot it, or confirm its unchanged refs, then see
// that the snapshot gets verified, here or through a verify request.
import type { IncrementalPolicy } from "./chain.js";
import { afterBackupLevel } from "./layers/deep-schedule.js";
import { observeRepository } from "./lineage/inventory.js";
import type { Deps, ProgressListener } from "./deps.js";
import { describeError, LeaseHeldError, UserInputError } from "./errors.js";
import type { SourceRepo, VerifyLevel } from "./model.js";
import type { MetadataSource } from "./metadata/source.js";
import type { OrgMetadataSource } from "./metadata/org-source.js";
import type { BackupAttempt, Publisher, SourceHost } from "./ports.js";
import { snapshotRepo, type SnapshotOutcome } from "./snapshot.js";
import { verifySnapshot, type VerifyOutcome } from "./verify.js";

/** What a backup does beyond the snapshot; read from the settings by each entry point alike. */
export interface BackupPolicy {
  /** Build on the latest snapshot where allowed (see chain.ts); false: always full. */
  incremental: IncrementalPolicy | false;
  /** Layered snapshots (shared pack layers) where the deps have a LayerIndex; absent: false. */
  layers?: boolean;
  /**
   * Verify every new snapshot, and any still unverified: "inline" waits for the verdict (the CLI),
   * "queue" publishes a verify request (the cloud, where verifySnapshot runs apart). false: never.
   */
  verify: { level: VerifyLevel; where: "inline" | "queue" } | false;
}

export interface BackupDeps extends Deps {
  sources: SourceHost;
  /** The repositories' GitHub metadata, where the sources have any (the GitHub App). */
  metadata?: MetadataSource;
  /** The organizations' own metadata (teams, rulesets, projects), where the sources are GitHub orgs. */
  orgMetadata?: OrgMetadataSource;
  /** Needed when the policy queues verification. */
  publisher?: Publisher;
}

export interface BackupOptions {
  actor: string;
  onProgress?: ProgressListener;
  /** Aborting stops the snapshot and commits nothing (a function about to hit its time limit). */
  signal?: AbortSignal;
  /** A new full snapshot even if nothing seems changed, metadata read whole (the reconciliation). */
  full?: boolean;
}

export interface BackupResult {
  repo: string;
  snapshot?: SnapshotOutcome;
  /** The verdict, when verification ran inline. */
  verify?: VerifyOutcome;
  /** A verify request was published for the snapshot. */
  verifyQueued?: boolean;
  /** Set when the repository could not be backed up or its new snapshot failed verification. */
  error?: string;
}

/** Snapshots one repository (its wiki too) and verifies it per policy. Throws what the snapshot throws. */
export function backupRepository(
  deps: BackupDeps,
  repo: SourceRepo,
  policy: BackupPolicy,
  options: BackupOptions,
): Promise<BackupResult> {
  return backedUp(deps, repo.name, policy, options, async () => {
    // The source's id and current name first: a rename not yet registered continues its lineage.
    await observeRepository(deps.index, repo, deps.clock.now());
    return snapshotOf(deps, repo, policy, options);
  });
}

/**
 * The backup around a snapshot of `repo` (a repository, or an organization's "<org>/@org"): `take`
 * makes it, the attempt is noted for health, and the snapshot is verified as the policy says.
 */
export async function backedUp(
  deps: BackupDeps,
  repo: string,
  policy: BackupPolicy,
  options: BackupOptions,
  take: () => Promise<SnapshotOutcome>,
): Promise<BackupResult> {
  const started = deps.clock.now().toISOString();
  let snapshot: SnapshotOutcome;
  try {
    snapshot = await take();
  } catch (err) {
    // Another run holds the repository: not a failed backup, and that run records its own outcome.
    if (!(err instanceof LeaseHeldError))
      await noteAttempt(deps, repo, { at: started, outcome: "failed", error: describeError(err) });
    throw err;
  }
  await noteAttempt(deps, repo, {
    at: started,
    outcome: snapshot.outcome,
    snapshotId: snapshot.snapshot.id,
  });
  return verifyAsPolicySays(deps, policy, options, { repo, snapshot });
}

/** The snapshot (or confirmation) of the repository's git data, wiki and metadata. */
async function snapshotOf(
  deps: BackupDeps,
  repo: SourceRepo,
  policy: BackupPolicy,
  options: BackupOptions,
): Promise<SnapshotOutcome> {
  const remote = await deps.sources.gitRemote(repo);
  return snapshotRepo(deps, repo.name, remote, {
    ...(repo.wikiUrl ? { wiki: { ...remote, url: repo.wikiUrl } } : {}),
    actor: options.actor,
    incremental: options.full ? false : policy.incremental,
    ...(policy.layers ? { layers: true } : {}),
    ...(options.full ? { full: true } : {}),
    ...(deps.metadata && repo.hasMetadata ? { metadata: deps.metadata } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** The attempt is what health shows; failing to note it must not change the backup's outcome. */
async function noteAttempt(deps: BackupDeps, repo: string, attempt: BackupAttempt): Promise<void> {
  await deps.index.recordAttempt(repo, attempt).catch(() => undefined);
}

async function verifyAsPolicySays(
  deps: BackupDeps,
  policy: BackupPolicy,
  options: BackupOptions,
  result: BackupResult,
): Promise<BackupResult> {
  const snapshot = result.snapshot!;
  const due = snapshot.outcome === "created" || !snapshot.snapshot.verification;
  if (!policy.verify || !due) return result;
  const { id } = snapshot.snapshot;
  const repo = result.repo;
  const level = afterBackupLevel(snapshot.snapshot.kind, policy.verify.level);
  if (policy.verify.where === "queue") {
    if (!deps.publisher) throw new Error("verification is queued but no publisher is wired");
    await deps.publisher.publish("verify-requests", [{ v: 1, repo, snapshotId: id, level }]);
    return { ...result, verifyQueued: true };
  }
  result.verify = await verifySnapshot(deps, repo, id, {
    level,
    actor: options.actor,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const verdict = result.verify.verification;
  if (verdict.verdict === "failed") result.error = `verification failed: ${verdict.detail}`;
  return result;
}

export interface BackupAllOptions extends BackupOptions {
  /** Only these repos (by name); all when absent. Unknown names are an error before any work. */
  only?: string[];
  onRepoStart?: (repo: SourceRepo, index: number, total: number) => void;
  onRepoDone?: (result: BackupResult, index: number, total: number) => void;
}

export async function selectRepos(sources: SourceHost, only?: string[]): Promise<SourceRepo[]> {
  const repos = await sources.listRepos();
  if (!only?.length) return repos;
  const known = new Set(repos.map((r) => r.name));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length) {
    throw new UserInputError(
      `not a configured source: ${unknown.join(", ")} (configured: ${[...known].join(", ") || "none"})`,
    );
  }
  return repos.filter((r) => only.includes(r.name));
}

/** Backs up every repository the source lists, one after another; one failing never stops the rest. */
export async function backupAll(
  deps: BackupDeps,
  policy: BackupPolicy,
  options: BackupAllOptions,
): Promise<BackupResult[]> {
  const repos = await selectRepos(deps.sources, options.only);
  const results: BackupResult[] = [];
  for (const [i, repo] of repos.entries()) {
    options.onRepoStart?.(repo, i, repos.length);
    let result: BackupResult;
    try {
      result = await backupRepository(deps, repo, policy, options);
    } catch (err) {
      result = { repo: repo.name, error: describeError(err) };
    }
    results.push(result);
    options.onRepoDone?.(result, i, repos.length);
  }
  return results;
}
