// verifySnapshot (Pub/Sub): re-read one snapshot end to end and record the verdict. A failed
// verification is logged at ERROR with event "verification_failed", which an alert watches, and
// is sent to the config's notification webhooks.
import type { CloudEvent } from "@google-cloud/functions-framework";
import { verifyAlerts, verifyChecked } from "../core/alerts.js";
import { parseMessage, verifyRequestSchema } from "../core/messages.js";
import { verifySnapshot } from "../core/verify.js";
import { log } from "../log.js";
import type { AppProvider } from "../app.js";
import { consume } from "./pubsub.js";

export function verifyHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("verifySnapshot", event as CloudEvent<never>, async ({ data, messageId }) => {
      const request = parseMessage(verifyRequestSchema, data, "verify request");
      const app = await getApp();
      const outcome = await verifySnapshot(app, request.repo, request.snapshotId, {
        level: request.level,
        actor: `pubsub:${messageId}`,
      });
      const v = outcome.verification;
      log(
        v.verdict === "ok" ? "INFO" : "ERROR",
        `verification ${v.verdict}: ${request.repo} ${request.snapshotId}${v.detail ? `: ${v.detail}` : ""}`,
        {
          event: v.verdict === "ok" ? "verification_passed" : "verification_failed",
          repo: request.repo,
          snapshotId: request.snapshotId,
          level: v.level,
          seconds: outcome.seconds,
        },
      );
      // A failed verdict opens an incident (email, webhooks); an ok one clears the repository's.
      const when = app.clock.now().toISOString();
      await app.notifier.report(verifyAlerts([outcome], when), verifyChecked([outcome]), when);
    });
}
