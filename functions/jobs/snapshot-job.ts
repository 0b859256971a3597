// The Cloud Run snapshot job: the same backup path as snapshotRepo, for repositories too big for a
// function's time and memory limits, and the same drill as restoreDrill for those repositories'
// drills (core/drill.ts, recorded in the audit trail), restores to GitHub that functions handed on
// (core/restore-github/run.ts), and compactions of layers the scheduled prune handed over
// (core/layers/compact-run.ts), and deep verifications too big for verifySnapshot. It drains the
// snapshot-large queue and exits.
import { backupPolicy, type CloudApp } from "../app.js";
import { BackupError, describeError } from "../core/errors.js";
import { runDrill } from "../core/drill.js";
import { largeWorkSchema, parseMessage } from "../core/messages.js";
import { runSnapshotRequest } from "../core/snapshot-request.js";
import { runCompactRequest } from "../core/layers/compact-run.js";
import { logCompaction } from "../compact-log.js";
import { verifySnapshot } from "../core/verify.js";
import { reportVerification } from "../verify-log.js";
import { logBackup } from "../backup-log.js";
import { reportDrills } from "../drill-log.js";
import { log } from "../log.js";
import { runRestore } from "../core/restore-github/run.js";
import { logRestoreRun } from "../restore-log.js";
import { ORG_RESTORES_AT_ONCE } from "../core/restore-org.js";

const DAY_MS = 24 * 3600 * 1000;

/** Drains the queue; resolves with the process's exit status (1 when any request failed). */
export async function runSnapshotJob(app: CloudApp, idleMs = 30_000): Promise<number> {
  const policy = backupPolicy(app.settings, "queue");
  let failures = 0;
  const handle = async (data: Buffer, messageId: string): Promise<"ack" | "nack"> => {
    try {
      const request = parseMessage(
        largeWorkSchema,
        JSON.parse(data.toString("utf8")),
        "snapshot-large message",
      );
      if ("kind" in request && request.kind === "restore") {
        // A restore to GitHub too long for a function (run.ts): on from its journal; near the job's
        // own limit it is handed on to the next execution the same way.
        const result = await runRestore({ ...app, github: app.githubRestore }, request, {
          runSeconds: (DAY_MS - 30 * 60_000) / 1000,
          continueOn: "snapshot-large",
          // One repository of an organization's restore (its moment `at` set) shares the pace.
          ...(request.at ? { pacingShare: ORG_RESTORES_AT_ONCE } : {}),
        });
        logRestoreRun(request, result, messageId);
        return "ack";
      }
      if ("kind" in request && request.kind === "verify") {
        // A deep verification too big for verifySnapshot: the same check, here.
        const outcome = await verifySnapshot(app, request.repo, request.snapshotId, {
          level: request.level,
          actor: `job:${messageId}`,
        });
        await reportVerification(app, request, outcome);
        return "ack"; // a failed verdict is a finding, recorded and notified: not to be retried
      }
      if ("kind" in request && request.kind === "compact") {
        // Handed over by the scheduled prune, or by an earlier run past its deadline.
        const run = await runCompactRequest(app, request, {
          actor: `job:${messageId}`,
          runSeconds: app.settings.backup.cloud.compactDeadlineSeconds,
        });
        logCompaction(request.repo, run);
        return "ack";
      }
      if ("kind" in request) {
        const results = await runDrill(app, {
          actor: `job:${messageId}`,
          repos: request.repos,
          ...(app.auditTrail ? { trail: app.auditTrail } : {}),
        });
        await reportDrills(app, results);
        failures += results.filter((r) => r.verdict === "failed").length;
        return "ack"; // a failed drill is a finding, recorded and notified: not to be retried
      }
      const outcome = await runSnapshotRequest(app, request, policy, {
        actor: `job:${messageId}`,
        deadlineMs: DAY_MS - 10 * 60_000,
      });
      if (!outcome.handedOver) logBackup(outcome, request.reason);
      return "ack";
    } catch (err) {
      const permanent = err instanceof BackupError ? err.permanent : err instanceof SyntaxError;
      failures++;
      log(permanent ? "ERROR" : "WARNING", `snapshot job: ${describeError(err)}`, {
        event: "snapshot_failed",
        messageId,
        permanent,
      });
      return permanent ? "ack" : "nack";
    }
  };
  const { handled } = await app.drainLarge.drain(handle, { idleMs, maxHoldMs: DAY_MS });
  log("INFO", `snapshot job: ${handled} requests handled, ${failures} failed`, {
    event: "snapshot_job_done",
    handled,
    failures,
  });
  return failures ? 1 : 0;
}
