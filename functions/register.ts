// The twelve Cloud Functions and their names, registered with the Functions Framework. The
// deployment (index.ts) and the end-to-end tests register through this one list; each function gets
// the app of its own workload (only the parts it uses, see config/cloud-env.ts).
import * as functions from "@google-cloud/functions-framework";
import type { AppProvider } from "./app.js";
import { drillHandler } from "./handlers/drill.js";
import { forgetHandler } from "./handlers/forget.js";
import { healthHandler } from "./handlers/health.js";
import { rotateKeysHandler } from "./handlers/keys.js";
import { pruneHandler } from "./handlers/prune.js";
import { restoreHandler } from "./handlers/restore.js";
import { restoreOrgHandler, restoreOrgRepoHandler } from "./handlers/restore-org.js";
import { snapshotHandler } from "./handlers/snapshot.js";
import { sweepHandler } from "./handlers/sweep.js";
import { verifyHandler } from "./handlers/verify.js";
import { rawBodyFunction } from "./handlers/raw-body.js";
import { WEBHOOK_BODY, webhookHandler } from "./handlers/webhook.js";

export const FUNCTION_NAMES = [
  "sweep",
  "snapshotRepo",
  "verifySnapshot",
  "pruneSnapshots",
  "restoreRepo",
  "backupHealth",
  "githubWebhook",
  "restoreDrill",
  "forgetRepo",
  "restoreOrg",
  "restoreOrgRepo",
  "rotateKeys",
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

export function registerFunctions(appFor: (fn: FunctionName) => AppProvider): void {
  functions.cloudEvent("sweep", sweepHandler(appFor("sweep")));
  functions.cloudEvent("snapshotRepo", snapshotHandler(appFor("snapshotRepo")));
  functions.cloudEvent("verifySnapshot", verifyHandler(appFor("verifySnapshot")));
  functions.cloudEvent("pruneSnapshots", pruneHandler(appFor("pruneSnapshots")));
  functions.http("restoreRepo", restoreHandler(appFor("restoreRepo")));
  functions.http("backupHealth", healthHandler(appFor("backupHealth")));
  functions.http("restoreDrill", drillHandler(appFor("restoreDrill")));
  functions.http("forgetRepo", forgetHandler(appFor("forgetRepo")));
  functions.http("restoreOrg", restoreOrgHandler(appFor("restoreOrg")));
  functions.cloudEvent("restoreOrgRepo", restoreOrgRepoHandler(appFor("restoreOrgRepo")));
  functions.http("rotateKeys", rotateKeysHandler(appFor("rotateKeys")));
  // The webhook's body is read by the gate (capped, unsigned refused unread), not by the framework.
  functions.http(
    "githubWebhook",
    rawBodyFunction("githubWebhook", webhookHandler(appFor("githubWebhook")), WEBHOOK_BODY),
  );
}

/** One app per function, built on its first call; a failed start is retried on the next call. */
export function memoizedApps(
  build: (fn: FunctionName) => ReturnType<AppProvider>,
): (fn: FunctionName) => AppProvider {
  const apps = new Map<FunctionName, ReturnType<AppProvider>>();
  return (fn) => () => {
    let app = apps.get(fn);
    if (!app) {
      app = build(fn).catch((err: unknown) => {
        apps.delete(fn); // e.g. a secret not yet readable: the next call tries again
        throw err;
      });
      apps.set(fn, app);
    }
    return app;
  };
}
