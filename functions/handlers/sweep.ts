// sweep (Pub/Sub, from Cloud Scheduler): one snapshot request per repository, or for a
// verify-sweep one verify request per repository's latest snapshot.
import type { CloudEvent } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { parseMessage, sweepRequestSchema } from "../core/messages.js";
import { sweep } from "../core/sweep.js";
import { log } from "../log.js";
import { consume } from "./pubsub.js";

export function sweepHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("sweep", event as CloudEvent<never>, async ({ data }) => {
      const request = parseMessage(sweepRequestSchema, data, "sweep request");
      const outcome = await sweep(await getApp(), request);
      const what = outcome.topic === "verify-requests" ? "verify" : "snapshot";
      log("INFO", `sweep: ${outcome.published} ${what} requests`, {
        event: "sweep_done",
        count: outcome.published,
        reason: request.reason,
      });
    });
}
