// snapshotRepo (Pub/Sub): one repository, through the same backup path as the CLI. Idempotent
// under redelivery: the second delivery sees the refs the first stored and only confirms them.
// Big repositories are handed to the snapshot job; a snapshot that would outrun the function's
// time limit stops cleanly. A failure opens the repository's backup-failed incident (one message
// however often Pub/Sub retries it); the next backup that succeeds closes it with a recovery.
import type { CloudEvent } from "@google-cloud/functions-framework";
import { backupPolicy, type AppProvider } from "../app.js";
import { backupAlerts } from "../core/alerts.js";
import { describeError } from "../core/errors.js";
import { parseMessage, snapshotRequestSchema } from "../core/messages.js";
import type { Incident } from "../core/ports.js";
import { runSnapshotRequest } from "../core/snapshot-request.js";
import { log } from "../log.js";
import { consume } from "./pubsub.js";
import { logBackup } from "../backup-log.js";

export function snapshotHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("snapshotRepo", event as CloudEvent<never>, async ({ data, messageId }) => {
      const request = parseMessage(snapshotRequestSchema, data, "snapshot request");
      const app = await getApp();
      const { cloud } = app.settings.backup;
      const mine = (i: Incident) => i.kind === "backup-failed" && i.repo === request.repo;
      const when = () => app.clock.now().toISOString();
      try {
        const outcome = await runSnapshotRequest(app, request, backupPolicy(app.settings, "queue"), {
          actor: `pubsub:${messageId}`,
          deadlineMs: cloud.snapshotDeadlineSeconds * 1000,
          handOverBytes: cloud.largeRepoBytes,
        });
        if (outcome.handedOver) {
          log("INFO", `snapshot of ${request.repo} handed to the snapshot job (${request.sizeBytes} bytes)`, {
            event: "snapshot_handed_over",
            repo: request.repo,
          });
        } else {
          logBackup(outcome, request.reason);
          if ("repo" in outcome) await app.notifier.report(backupAlerts([outcome], when()), mine, when());
        }
      } catch (err) {
        log("ERROR", `snapshot of ${request.repo} failed: ${(err as Error).message}`, {
          event: "snapshot_failed",
          repo: request.repo,
        });
        const failed = backupAlerts([{ repo: request.repo, error: describeError(err) }], when());
        await app.notifier.report(failed, mine, when());
        throw err;
      }
    });
}
