// pruneSnapshots (Pub/Sub, from Cloud Scheduler): apply the retention policy to one repository
// or all. Expiry moves forward on what is kept; what is removed loses its index record first.
// Compaction of layers needs decryption, which this function's account lacks: each repository
// whose layers have a full level is handed to the Cloud Run job (core/layers/compact-run.ts).
import type { CloudEvent } from "@google-cloud/functions-framework";
import { parseMessage, pruneRequestSchema } from "../core/messages.js";
import { handCompactionsToJob } from "../core/layers/compact-run.js";
import { pruneAll } from "../core/prune.js";
import { logCompactionHandOff } from "../compact-log.js";
import { log } from "../log.js";
import { newObjectClass, type AppProvider } from "../app.js";
import { consume } from "./pubsub.js";

export function pruneHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("pruneSnapshots", event as CloudEvent<never>, async ({ data, messageId }) => {
      const request = parseMessage(pruneRequestSchema, data, "prune request");
      const app = await getApp();
      const results = await pruneAll(app, app.settings.retention, {
        dryRun: request.dryRun,
        actor: `pubsub:${messageId}`,
        newObjectClass: newObjectClass(app.settings),
        ...(request.repo ? { only: [request.repo] } : {}),
      });
      for (const r of results) {
        if (r.error)
          log("ERROR", `prune of ${r.repo} failed: ${r.error}`, { event: "prune_failed", repo: r.repo });
        else
          log(
            "INFO",
            `prune of ${r.repo}: kept ${r.report!.keep.length}, removed ${r.report!.remove.length}, ${r.report!.bytesFreed} bytes freed`,
            {
              event: "prune_done",
              repo: r.repo,
              dryRun: request.dryRun,
            },
          );
      }
      if (!request.dryRun) {
        const pruned = results.filter((r) => !r.error).map((r) => r.repo);
        logCompactionHandOff(await handCompactionsToJob(app, pruned));
      }
      if (results.some((r) => r.error))
        throw new Error(`prune failed for ${results.filter((r) => r.error).length} repositories`);
    });
}
