// A snapshot request (from the sweep, a push webhook or a person) carried out: find the repository,
// hand it to the snapshot job when it is too big for a function, else back it up. The snapshotRepo
// function and the Cloud Run job both come here.
import { backupRepository, type BackupDeps, type BackupPolicy, type BackupResult } from "./backup.js";
import { LeaseHeldError, NotFoundError } from "./errors.js";
import { orgOfRepo } from "./ids.js";
import { leaseStartedAt } from "./lease.js";
import { backupOrg } from "./org-snapshot.js";
import { isGone, resolveName } from "./lineage/registry.js";
import type { SnapshotRequest } from "./messages.js";
import type { RepositoryRecord, Snapshot, SourceRepo } from "./model.js";
import type { Lease, Publisher } from "./ports.js";

export interface SnapshotRequestOptions {
  actor: string;
  /** Stop (and commit nothing) after this long. */
  deadlineMs: number;
  /** Hand repositories at least this big to the snapshot job; absent: never hand over (the job). */
  handOverBytes?: number;
}

export type SnapshotRequestOutcome =
  | { handedOver: true }
  /** A snapshot or confirmation made after the request already covers it (a burst coalesced). */
  | { handedOver: false; satisfiedBy: Snapshot }
  /** A snapshot that started after the request is running now: it will cover the request. */
  | { handedOver: false; servedByRunning: Lease }
  /** The registry says the repository was deleted or is out of the App's reach: nothing to back up. */
  | { handedOver: false; gone: RepositoryRecord }
  | ({
      handedOver: false;
      satisfiedBy?: undefined;
      servedByRunning?: undefined;
      gone?: undefined;
    } & BackupResult);

export async function runSnapshotRequest(
  deps: BackupDeps & { publisher: Publisher },
  request: SnapshotRequest,
  policy: BackupPolicy,
  options: SnapshotRequestOptions,
): Promise<SnapshotRequestOutcome> {
  // A request made before the repository was deleted (or left the App's reach) finds it gone: its
  // backups are kept and no snapshot is attempted. A later request means it is back (GitHub
  // restores a deleted repository with its id): the backup tries, and the registry follows.
  const { record } = resolveName(request.repo, await deps.index.repositoriesNamed(request.repo));
  if (record && isGone(record) && Date.parse(request.requestedAt) <= Date.parse(record.stateAt))
    return { handedOver: false, gone: record };
  if (options.handOverBytes !== undefined && (request.sizeBytes ?? 0) >= options.handOverBytes) {
    await deps.publisher.publish("snapshot-large", [request]);
    return { handedOver: true };
  }
  // At least once, and in bursts (50 comments, 50 webhooks): a request made before the latest
  // snapshot listed the source is already served. The reconciliation always runs.
  if (request.reason !== "reconcile") {
    const latest = await deps.index.latest(request.repo);
    if (latest && Date.parse(latest.confirmedAt) >= Date.parse(request.requestedAt))
      return { handedOver: false, satisfiedBy: latest };
  }
  const org = orgOfRepo(request.repo);
  try {
    const backup = { actor: options.actor, signal: AbortSignal.timeout(options.deadlineMs) };
    // An organization's own snapshot ("<org>/@org"): no git data, its metadata read whole.
    const result =
      org !== undefined
        ? await backupOrg(deps, org, policy, backup)
        : await backupRepository(deps, await requestedRepo(deps, request), policy, {
            ...backup,
            full: request.reason === "reconcile",
          });
    return { handedOver: false, ...result };
  } catch (err) {
    // Held by a snapshot that started after this request was made: that one covers it (and if it
    // fails, its own request is redelivered). An older holder may predate the change: retry later.
    if (err instanceof LeaseHeldError && request.reason !== "reconcile") {
      const running = (await deps.index.leases()).find((l) => l.repo === request.repo);
      const started = running && leaseStartedAt(running.holder);
      if (running && started !== undefined && started >= Date.parse(request.requestedAt))
        return { handedOver: false, servedByRunning: running };
    }
    throw err;
  }
}

/** A sweep's request says where the repository and its wiki are; a webhook's names it only. */
async function requestedRepo(deps: BackupDeps, request: SnapshotRequest): Promise<SourceRepo> {
  if (request.url) {
    return {
      name: request.repo,
      url: request.url,
      ...(request.wikiUrl ? { wikiUrl: request.wikiUrl } : {}),
      ...(request.sizeBytes === undefined ? {} : { sizeBytes: request.sizeBytes }),
      ...(request.metadata ? { hasMetadata: true } : {}),
    };
  }
  const repo = await deps.sources.getRepo(request.repo);
  if (!repo) throw new NotFoundError(`${request.repo} is not a repository this deployment backs up`);
  return repo;
}
