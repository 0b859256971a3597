// The log line of a finished backup, the same from snapshotRepo and the snapshot job.
import type { BackupResult } from "./core/backup.js";
import type { RepositoryRecord, Snapshot } from "./core/model.js";
import type { Lease } from "./core/ports.js";
import { log } from "./log.js";

export function logBackup(
  result: BackupResult | { satisfiedBy: Snapshot } | { servedByRunning: Lease } | { gone: RepositoryRecord },
  reason: string,
): void {
  if ("gone" in result && result.gone) {
    const r = result.gone;
    log("INFO", `snapshot request of ${r.name} skipped: the repository is ${r.state} since ${r.stateAt}`, {
      event: "snapshot_skipped",
      repo: r.name,
      state: r.state,
      reason,
    });
    return;
  }
  if ("servedByRunning" in result && result.servedByRunning) {
    const lease = result.servedByRunning;
    log("INFO", `snapshot request of ${lease.repo} is covered by the snapshot running now`, {
      event: "snapshot_satisfied",
      repo: lease.repo,
      holder: lease.holder,
      reason,
    });
    return;
  }
  if ("satisfiedBy" in result && result.satisfiedBy) {
    const s = result.satisfiedBy;
    log("INFO", `snapshot request of ${s.repo} already served by ${s.id}`, {
      event: "snapshot_satisfied",
      repo: s.repo,
      snapshotId: s.id,
      reason,
    });
    return;
  }
  if (!("repo" in result)) return;
  const outcome = result.snapshot;
  if (!outcome) return;
  const s = outcome.snapshot;
  log("INFO", `snapshot ${outcome.outcome}: ${s.repo} ${s.id}`, {
    event: `snapshot_${outcome.outcome}`,
    repo: s.repo,
    snapshotId: s.id,
    bytes: s.size,
    seconds: outcome.seconds,
    reason,
    verifyQueued: result.verifyQueued ?? false,
  });
}
