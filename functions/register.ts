// The seven Cloud Functions and their names, registered with the Functions Framework. The
// deployment (index.ts) and the end-to-end tests register through this one list.
import * as functions from "@google-cloud/functions-framework";
import type { AppProvider } from "./handlers/cloud-app.js";
import { healthHandler } from "./handlers/health.js";
import { pruneHandler } from "./handlers/prune.js";
import { restoreHandler } from "./handlers/restore.js";
import { snapshotHandler } from "./handlers/snapshot.js";
import { sweepHandler } from "./handlers/sweep.js";
import { verifyHandler } from "./handlers/verify.js";
import { webhookHandler } from "./handlers/webhook.js";

export const FUNCTION_NAMES = [
  "sweep",
  "snapshotRepo",
  "verifySnapshot",
  "pruneSnapshots",
  "restoreRepo",
  "backupHealth",
  "githubWebhook",
] as const;

export function registerFunctions(getApp: AppProvider, webhookSecret: () => string): void {
  functions.cloudEvent("sweep", sweepHandler(getApp));
  functions.cloudEvent("snapshotRepo", snapshotHandler(getApp));
  functions.cloudEvent("verifySnapshot", verifyHandler(getApp));
  functions.cloudEvent("pruneSnapshots", pruneHandler(getApp));
  functions.http("restoreRepo", restoreHandler(getApp));
  functions.http("backupHealth", healthHandler(getApp));
  functions.http("githubWebhook", webhookHandler(getApp, webhookSecret));
}
