// Registers every Cloud Function with the Functions Framework. Handlers are thin; the app (the
// adapters for this deployment) is built once per instance, on first use, by wiring.ts.
import * as functions from "@google-cloud/functions-framework";
import { healthHandler } from "./handlers/health.js";
import { pruneHandler } from "./handlers/prune.js";
import { restoreHandler } from "./handlers/restore.js";
import { snapshotHandler } from "./handlers/snapshot.js";
import { sweepHandler } from "./handlers/sweep.js";
import { verifyHandler } from "./handlers/verify.js";
import { webhookHandler } from "./handlers/webhook.js";
import { cloudAppFromEnv, type CloudApp } from "./wiring.js";

let app: Promise<CloudApp> | undefined;
const getApp = (): Promise<CloudApp> => {
  app ??= cloudAppFromEnv(process.env).catch((err) => {
    app = undefined; // a failed start (e.g. a secret not yet readable) is retried on the next call
    throw err;
  });
  return app;
};

functions.cloudEvent("sweep", sweepHandler(getApp));
functions.cloudEvent("snapshotRepo", snapshotHandler(getApp));
functions.cloudEvent("verifySnapshot", verifyHandler(getApp));
functions.cloudEvent("pruneSnapshots", pruneHandler(getApp));
functions.http("restoreRepo", restoreHandler(getApp));
functions.http("backupHealth", healthHandler(getApp));
functions.http(
  "githubWebhook",
  webhookHandler(getApp, () => process.env.GITHUB_WEBHOOK_SECRET ?? ""),
);
