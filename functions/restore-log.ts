// The log line of one run of a restore to GitHub in the cloud, the same from restoreRepo,
// restoreOrgRepo and the snapshot job: restore_completed, or restore_handed_on with where to and
// the progress so far.
import type { RestoreRun, RestoreRunResult } from "./core/restore-github/run.js";
import { log } from "./log.js";

/** The log line of one run of a restore: completed, or handed on (and where). */
export function logRestoreRun(message: RestoreRun, result: RestoreRunResult, messageId?: string): void {
  const to = `github:${message.target}`;
  if (result.state === "restored") {
    const { snapshot, resumed } = result.outcome;
    log("NOTICE", `restored ${message.repo} snapshot ${snapshot.id} to ${to}`, {
      event: "restore_completed",
      repo: message.repo,
      snapshotId: snapshot.id,
      handoffs: message.handoffs,
      resumed,
    });
    return;
  }
  log("INFO", `restore of ${message.repo} to ${to} handed on to ${result.handedTo}: ${result.note}`, {
    event: "restore_handed_on",
    repo: message.repo,
    ...(messageId ? { messageId } : {}),
    handoffs: message.handoffs + 1,
    handedTo: result.handedTo,
    done: result.progress.done,
    total: result.progress.total,
  });
}
