// sweep (Pub/Sub, from Cloud Scheduler): one snapshot request per repository, or for a
// verify-sweep one verify request per repository's latest snapshot. Each run first records a
// change of the deployed configuration in the audit trail (once per change, core/audit-config.ts).
import type { CloudEvent } from "@google-cloud/functions-framework";
import type { AppProvider, CloudApp } from "../app.js";
import { settingsView } from "../config/settings-view.js";
import { recordConfigChange } from "../core/audit-config.js";
import { parseMessage, sweepRequestSchema } from "../core/messages.js";
import { sweep } from "../core/sweep.js";
import { log } from "../log.js";
import { consume } from "./pubsub.js";

export function sweepHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("sweep", event as CloudEvent<never>, async ({ data }) => {
      const request = parseMessage(sweepRequestSchema, data, "sweep request");
      const app = await getApp();
      await auditDeployedConfig(app);
      const outcome = await sweep(app, request);
      const what = outcome.topic === "verify-requests" ? "verify" : "snapshot";
      log("INFO", `sweep: ${outcome.published} ${what} requests`, {
        event: "sweep_done",
        count: outcome.published,
        reason: request.reason,
      });
    });
}

/** A trail that cannot take the entry is logged, and the next sweep tries again; the sweep goes on. */
async function auditDeployedConfig(app: CloudApp): Promise<void> {
  if (!app.configTrail) return;
  try {
    const change = await recordConfigChange(app.configTrail, settingsView(app.settings), "deployment");
    if (change)
      log("INFO", `configuration changed: ${change.changes.map((c) => c.key).join(", ") || "first record"}`, {
        event: "config_changed",
        digest: change.digest,
      });
  } catch (err) {
    log("WARNING", `configuration change not audited: ${err instanceof Error ? err.message : String(err)}`, {
      event: "config_audit_failed",
    });
  }
}
