// The log line of a finished backup, the same from snapshotRepo and the snapshot job.
import type { BackupResult } from "./core/backup.js";
import { log } from "./log.js";

export function logBackup(result: BackupResult, reason: string): void {
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
