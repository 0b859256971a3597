// Backup health, one report for `infinity-backup status` and the backupHealth function: per
// repository freshness against the RPO, the latest verification verdict and stored bytes, and the
// storage summary (expected classes and cost, from the index alone). Problems are typed values;
// the edges render them.
import { adoptKeptReplays, keepReplays } from "./class-checkpoints.js";
import type { Deps } from "./deps.js";
import { describeError } from "./errors.js";
import { orgOfRepo } from "./ids.js";
import type { PriceTable } from "./cost.js";
import { isGone, resolveName } from "./lineage/registry.js";
import type { RepositoryRecord, RepositoryState, SnapshotSummary } from "./model.js";
import type { HealthCheck } from "./health-checks.js";
import type { BackupAttempt, Lease } from "./ports.js";
import type { RetentionPolicy } from "./retention-policy.js";
import { storageReport, type StorageReport } from "./storage-report.js";
import { layerArchives, neededLayerBytes } from "./layers/usage.js";
import type { StoredObject } from "./cost.js";

export const RPO_SECONDS = 15 * 60;
/** A repo is stale when nothing confirmed it for a day plus the RPO (a missed daily sweep). */
export const STALE_SECONDS = 24 * 3600 + RPO_SECONDS;

export type HealthProblem =
  | { kind: "no-snapshot" }
  | { kind: "stale"; secondsSince: number }
  | { kind: "unverified" }
  | { kind: "verification-failed"; detail: string }
  /** The latest backup attempt, after the latest snapshot or confirmation, failed. */
  | { kind: "attempt-failed"; at: string; error: string };

/** Problems that mean the repository is not backed up within its promise (the stale-repo alert). */
export function isStale(problem: HealthProblem): boolean {
  return problem.kind === "no-snapshot" || problem.kind === "stale";
}

export function describeProblem(problem: HealthProblem): string {
  switch (problem.kind) {
    case "no-snapshot":
      return "no snapshot";
    case "stale":
      return `stale: last backed up ${Math.round(problem.secondsSince / 3600)} h ago`;
    case "unverified":
      return "latest snapshot not verified";
    case "verification-failed":
      return `latest verification failed: ${problem.detail}`;
    case "attempt-failed":
      return `last backup attempt failed at ${problem.at}: ${problem.error}`;
  }
}

export interface RepoHealth {
  repo: string;
  /** Set for an organization's own snapshots ("<org>/@org"): the organization. */
  org?: string;
  snapshots: number;
  storedBytes: number;
  latest?: SnapshotSummary;
  /** Seconds since the source was last seen backed up (taken or confirmed unchanged). */
  freshnessSeconds?: number;
  verified: boolean;
  problems: HealthProblem[];
  /** How the latest backup attempt ended, when one was recorded. */
  lastAttempt?: BackupAttempt;
  /** A backup of the repository running now: who holds its lease, and until when unrenewed. */
  running?: Lease;
  /**
   * GitHub metadata kinds the latest snapshot could not hold, with why ("410: Issues are disabled",
   * "403: Resource not accessible by integration": grant the App that permission). Not a problem
   * by itself: a repository may simply not use a feature.
   */
  metadataUnavailable?: Record<string, string>;
  /**
   * Metadata kinds the latest snapshot left for a later one to stay within the installation's rate
   * budget: kind -> "rate budget". Not a problem: the next backups read them as the budget allows.
   */
  metadataDeferred?: Record<string, string>;
  /**
   * LFS objects the latest snapshot's pointers name that the source could not give: how many, and
   * the first few by oid with why ("404: Object does not exist"). A later full snapshot asks again.
   */
  lfsUnavailable?: { count: number; objects: Record<string, string> };
  /** What the repository registry knows: deleted or out of the App's reach (and when), former names. */
  lifecycle?: RepoLifecycle;
}

/** A repository's life on its host, from the registry (core/lineage/). */
export interface RepoLifecycle {
  state: RepositoryState;
  since: string;
  reason?: string;
  formerNames: string[];
}

/** Problems that do not apply once a repository is deleted or out of reach: its backups are kept. */
const GONE_EXEMPT: ReadonlySet<HealthProblem["kind"]> = new Set(["no-snapshot", "stale", "attempt-failed"]);

/** "deleted on 2026-11-02, 3 snapshots kept; formerly acme/old", or undefined when nothing to say. */
export function describeLifecycle(h: Pick<RepoHealth, "lifecycle" | "snapshots">): string | undefined {
  const life = h.lifecycle;
  if (!life) return undefined;
  const parts: string[] = [];
  const day = life.since.slice(0, 10);
  const kept = `${h.snapshots} snapshot${h.snapshots === 1 ? "" : "s"} kept`;
  if (life.state === "deleted") parts.push(`deleted on ${day}, ${kept}`);
  else if (life.state === "detached")
    parts.push(`${life.reason ?? "out of the App's reach"} on ${day}, ${kept}`);
  else if (life.state === "archived") parts.push("archived on GitHub");
  if (life.formerNames.length) parts.push(`formerly ${life.formerNames.join(", ")}`);
  return parts.length ? parts.join("; ") : undefined;
}

/** The registry's word on a repository, applied: a gone one is not stale, and says so. */
function withLifecycle(h: RepoHealth, record: RepositoryRecord | undefined): RepoHealth {
  if (!record) return h;
  const formerNames = record.formerNames.map((f) => f.name).reverse();
  if (record.state === "active" && !formerNames.length) return h;
  const lifecycle: RepoLifecycle = {
    state: record.state,
    since: record.stateAt,
    ...(record.stateReason ? { reason: record.stateReason } : {}),
    formerNames,
  };
  const problems = isGone(record) ? h.problems.filter((p) => !GONE_EXEMPT.has(p.kind)) : h.problems;
  return { ...h, problems, lifecycle };
}

export function repoHealth(
  repo: string,
  snapshots: SnapshotSummary[],
  now: Date,
  lastAttempt?: BackupAttempt,
): RepoHealth {
  const latest = snapshots[0];
  const problems: HealthProblem[] = [];
  const failedSince =
    lastAttempt?.outcome === "failed" &&
    (!latest || Date.parse(lastAttempt.at) > Date.parse(latest.confirmedAt));
  if (failedSince)
    problems.push({ kind: "attempt-failed", at: lastAttempt.at, error: lastAttempt.error ?? "" });
  const freshnessSeconds = latest ? (now.getTime() - Date.parse(latest.confirmedAt)) / 1000 : undefined;
  if (!latest) problems.push({ kind: "no-snapshot" });
  else {
    if (freshnessSeconds! > STALE_SECONDS) problems.push({ kind: "stale", secondsSince: freshnessSeconds! });
    if (!latest.verification) problems.push({ kind: "unverified" });
    else if (latest.verification.verdict !== "ok")
      problems.push({ kind: "verification-failed", detail: latest.verification.detail ?? "no detail" });
  }
  const org = orgOfRepo(repo);
  return {
    repo,
    ...(org === undefined ? {} : { org }),
    snapshots: snapshots.length,
    storedBytes: snapshots.reduce((sum, s) => sum + s.size, 0),
    ...(latest ? { latest } : {}),
    ...(freshnessSeconds === undefined ? {} : { freshnessSeconds }),
    verified: latest?.verification?.verdict === "ok",
    problems,
    ...(lastAttempt ? { lastAttempt } : {}),
    ...(latest?.metadata && Object.keys(latest.metadata.unavailable).length
      ? { metadataUnavailable: latest.metadata.unavailable }
      : {}),
    ...(latest?.metadata?.deferred && Object.keys(latest.metadata.deferred).length
      ? { metadataDeferred: latest.metadata.deferred }
      : {}),
    ...(latest?.lfs?.unavailableCount
      ? { lfsUnavailable: { count: latest.lfs.unavailableCount, objects: latest.lfs.unavailable } }
      : {}),
  };
}

export interface HealthOptions {
  /** Repositories that should be backed up (the sources' list); the index adds the ones it holds. */
  expected: readonly string[];
  policy: RetentionPolicy;
  prices: PriceTable & { currency: string };
  /** Where the prices came from, for the reader. */
  pricingSource: string;
  /** The class new archives are written in ("STANDARD" in a bucket, "LOCAL" in a folder). */
  newObjectClass: string;
  /** Replay the year for at most this many repositories (status keeps it small to stay quick). */
  projectedRepos?: number;
}

export interface HealthReport {
  ok: boolean;
  at: string;
  repos: RepoHealth[];
  /** The storage summary, or why it could not be made (it never hides the freshness answer). */
  storage: (StorageReport & { pricingSource: string }) | { error: string };
  /** Each repository's snapshots, newest first, in the order of `repos`. */
  snapshots: SnapshotSummary[][];
  /** The named checks the workload ran (core/health-checks.ts), when it ran them. */
  checks?: HealthCheck[];
}

export async function healthReport(
  deps: Pick<Deps, "index" | "clock"> & Partial<Pick<Deps, "layers" | "classCheckpoints">>,
  options: HealthOptions,
): Promise<HealthReport> {
  const now = deps.clock.now();
  // Repositories with an attempt but no snapshot are listed too: a first backup that keeps failing.
  // Every repository with a snapshot and its summaries in one read, made with the others (an index
  // may share a read they both need); the others named (expected, attempted) are read by name.
  const [attempts, leases, registry, stored] = await Promise.all([
    deps.index.attempts(),
    deps.index.leases(),
    deps.index.repositories(),
    deps.index.listAll(),
  ]);
  const running = new Map(leases.map((l) => [l.repo, l]));
  const known = [...options.expected, ...stored.keys(), ...Object.keys(attempts)];
  const repos = [...new Set(known)].sort();
  const others = repos.filter((repo) => !stored.has(repo));
  const otherLists = new Map(
    others.length ? (await deps.index.listMany(others)).map((list, i) => [others[i]!, list]) : [],
  );
  const snapshots = repos.map((repo) => stored.get(repo) ?? otherLists.get(repo)!);
  const registered = (repo: string) => {
    const found = resolveName(repo, registry);
    return found.via === "current" ? found.record : undefined;
  };
  // Layer records only for repositories with layered snapshots: the others cost no extra read.
  const layers = await Promise.all(
    snapshots.map((list) => {
      const layered = list.find((s) => s.layers !== undefined);
      return layered && deps.layers ? deps.layers.layers(layered.lineage ?? layered.repo) : undefined;
    }),
  );
  const health = repos.map((repo, i) => {
    const lease = running.get(repo);
    const own = repoHealth(repo, snapshots[i]!, now, attempts[repo]);
    // The layers its snapshots resolve to count too, each once however many snapshots share it.
    if (layers[i]) own.storedBytes += neededLayerBytes(snapshots[i]!, layers[i]);
    const health = withLifecycle(own, registered(repo));
    return { ...health, ...(lease ? { running: lease } : {}) };
  });
  let storage: HealthReport["storage"];
  try {
    const layerStored: StoredObject[] = layers.flatMap((records, i) =>
      records ? layerArchives(snapshots[i]!, records, options.policy, now, options.newObjectClass) : [],
    );
    // A process just started resumes the replays prune (or an earlier report) kept.
    const setting = { policy: options.policy, now, newObjectClass: options.newObjectClass };
    const replayedAnew = await adoptKeptReplays(deps.classCheckpoints, snapshots, setting);
    const report = storageReport({
      layerArchives: layerStored,
      repos: snapshots,
      policy: options.policy,
      prices: options.prices,
      now,
      newObjectClass: options.newObjectClass,
      ...(options.projectedRepos === undefined ? {} : { projectedRepos: options.projectedRepos }),
    });
    storage = { ...report, pricingSource: options.pricingSource };
    await keepReplays(deps.classCheckpoints, replayedAnew);
  } catch (err) {
    storage = { error: describeError(err) };
  }
  return {
    ok: health.every((h) => h.problems.length === 0),
    at: now.toISOString(),
    repos: health,
    storage,
    snapshots,
  };
}

/** The report as JSON for scripts and backupHealth alike: problems as text and as kinds. */
export function healthJson(report: HealthReport) {
  return {
    ok: report.ok,
    at: report.at,
    ...(report.checks ? { checks: report.checks } : {}),
    repos: report.repos.map(({ latest, problems, ...rest }) => ({
      ...rest,
      ...(rest.lifecycle ? { note: describeLifecycle(rest) } : {}),
      problems: problems.map(describeProblem),
      problemKinds: problems.map((p) => p.kind),
      latest: latest && {
        id: latest.id,
        takenAt: latest.takenAt,
        confirmedAt: latest.confirmedAt,
        kind: latest.kind,
        size: latest.size,
        verification: latest.verification,
      },
    })),
    storage: report.storage,
  };
}
