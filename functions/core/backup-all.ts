// Backs up every repository a SourceHost lists, one after another: a repo that fails is
// reported and the others still run. Optionally verifies each new snapshot right away.
import type { Deps, ProgressListener } from "./deps.js";
import { describeError, UserInputError } from "./errors.js";
import type { SourceRepo, VerifyLevel } from "./model.js";
import type { SourceHost } from "./ports.js";
import type { IncrementalPolicy } from "./chain.js";
import { snapshotRepo, type SnapshotOutcome } from "./snapshot.js";
import { verifySnapshot, type VerifyOutcome } from "./verify.js";

export interface RepoResult {
  repo: string;
  snapshot?: SnapshotOutcome;
  verify?: VerifyOutcome;
  /** Set when the repo could not be backed up or its new snapshot failed verification. */
  error?: string;
}

export interface BackupAllOptions {
  actor: string;
  /** Only these repos (by name); all when absent. Unknown names are an error before any work. */
  only?: string[];
  verify?: VerifyLevel | false;
  /** Build on the latest snapshot where allowed (see chain.ts); absent: always full. */
  incremental?: IncrementalPolicy | false;
  onProgress?: ProgressListener;
  onRepoStart?: (repo: SourceRepo, index: number, total: number) => void;
  onRepoDone?: (result: RepoResult, index: number, total: number) => void;
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

export async function backupAll(
  deps: Deps,
  sources: SourceHost,
  options: BackupAllOptions,
): Promise<RepoResult[]> {
  const repos = await selectRepos(sources, options.only);
  const results: RepoResult[] = [];
  for (const [i, repo] of repos.entries()) {
    options.onRepoStart?.(repo, i, repos.length);
    const result: RepoResult = { repo: repo.name };
    try {
      const remote = await sources.gitRemote(repo);
      result.snapshot = await snapshotRepo(deps, repo.name, remote, {
        ...(repo.wikiUrl ? { wiki: { ...remote, url: repo.wikiUrl } } : {}),
        actor: options.actor,
        onProgress: options.onProgress,
        incremental: options.incremental ?? false,
      });
      const unverified = result.snapshot.outcome === "created" || !result.snapshot.snapshot.verification;
      if (options.verify && unverified) {
        result.verify = await verifySnapshot(deps, repo.name, result.snapshot.snapshot.id, {
          level: options.verify,
          actor: options.actor,
          onProgress: options.onProgress,
        });
        if (result.verify.verification.verdict === "failed")
          result.error = `verification failed: ${result.verify.verification.detail}`;
      }
    } catch (err) {
      result.error = describeError(err);
    }
    results.push(result);
    options.onRepoDone?.(result, i, repos.length);
  }
  return results;
}
