// verifySnapshot (Pub/Sub): re-read one snapshot end to end and record the verdict. A failed
// verification is logged at ERROR with event "verification_failed", which an alert watches, and
// is sent to the config's notification webhooks. A deep verification of a snapshot whose restore
// reads at least cloud.largeRepoBytes is handed to the Cloud Run job (core/layers/deep-handoff.ts).
import type { CloudEvent } from "@google-cloud/functions-framework";
import { handDeepVerifyToJob } from "../core/layers/deep-handoff.js";
import { parseMessage, verifyRequestSchema } from "../core/messages.js";
import { verifySnapshot } from "../core/verify.js";
import { log } from "../log.js";
import { reportVerification } from "../verify-log.js";
import type { AppProvider } from "../app.js";
import { consume } from "./pubsub.js";

export function verifyHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("verifySnapshot", event as CloudEvent<never>, async ({ data, messageId }) => {
      const request = parseMessage(verifyRequestSchema, data, "verify request");
      const app = await getApp();
      const handed = await handDeepVerifyToJob(app, request, app.settings.backup.cloud.largeRepoBytes);
      if (handed !== undefined) {
        log("INFO", `deep verification of ${request.repo} ${request.snapshotId} handed to the snapshot job`, {
          event: "verification_handed_over",
          repo: request.repo,
          snapshotId: request.snapshotId,
          bytes: handed,
        });
        return;
      }
      const outcome = await verifySnapshot(app, request.repo, request.snapshotId, {
        level: request.level,
        actor: `pubsub:${messageId}`,
      });
      await reportVerification(app, request, outcome);
    });
}
