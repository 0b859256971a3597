// Vitest global setup: starts the Pub/Sub and Firestore emulators and fake-gcs-server in parallel,
// exports their endpoints to the test workers (environment + provide/inject), and stops them by PID.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type { ServiceContext } from "./context.js";
import { startFirestoreEmulator } from "./firestore.js";
import { startFakeGcs } from "./gcs.js";
import { PidRegistry, reapOrphans } from "./orphans.js";
import type { ServiceHandle } from "./process.js";
import { startPubsubEmulator } from "./pubsub.js";
import { servicesNotNeeded } from "./selection.js";

export const TEST_PROJECT_ID = "infinity-test";

/** What the workers receive through inject("infinityEmulators"); mirrors the environment variables. */
export interface EmulatorEndpoints {
  projectId: string;
  pubsubHost: string;
  firestoreHost: string;
  /** fake-gcs-server root, e.g. http://127.0.0.1:4443: pass it as Storage's apiEndpoint. */
  storageUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    infinityEmulators: EmulatorEndpoints;
  }
}

const log = (line: string) => console.log(`[test-setup] ${line}`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const tmp = mkdtempSync(path.join(os.tmpdir(), "infinity-test-"));
  const cloudsdkConfig = path.join(tmp, "gcloud");
  mkdirSync(cloudsdkConfig);

  // Every run, emulators or not: no real credentials, metadata server or gcloud configuration in a test.
  Object.assign(process.env, {
    METADATA_SERVER_DETECTION: "none",
    GOOGLE_CLOUD_PROJECT: TEST_PROJECT_ID,
    GCLOUD_PROJECT: TEST_PROJECT_ID,
    CLOUDSDK_CONFIG: cloudsdkConfig,
  });
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;

  const notNeeded = await servicesNotNeeded(project);
  if (notNeeded) {
    log(`emulators not started (${notNeeded}); a test that needs them fails with a clear error`);
    return async () => rmSync(tmp, { recursive: true, force: true });
  }
  for (const orphan of reapOrphans()) log(`killed orphan ${orphan}`);

  const registry = new PidRegistry(tmp);
  // Last line of defence: vitest exits (also on Ctrl-C / SIGTERM) without running our teardown.
  const onExit = () => {
    registry.killAllNow();
    registry.clear();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const ctx: ServiceContext = { logDir: tmp, env: { ...process.env }, registry, repoRoot };
  const started = Date.now();
  const results = await Promise.allSettled([
    startPubsubEmulator(ctx),
    startFirestoreEmulator(ctx),
    startFakeGcs(ctx),
  ]);
  const handles = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));

  const teardown = async (keepLogs = !!process.env.INFINITY_TEST_KEEP_LOGS) => {
    const t0 = Date.now();
    await Promise.all(handles.map((h) => h.stop()));
    registry.clear();
    process.off("exit", onExit);
    if (keepLogs) log(`service logs kept in ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
    log(`stopped ${handles.map((h) => `${h.name} (pid ${h.pid})`).join(", ")} in ${Date.now() - t0} ms`);
  };

  if (failures.length > 0) {
    await teardown(true);
    throw new Error(
      `Integration test services failed to start:\n\n${failures.map((e) => e.message).join("\n\n")}`,
    );
  }

  const [pubsub, firestore, gcs] = handles as [ServiceHandle, ServiceHandle, ServiceHandle];
  const endpoints: EmulatorEndpoints = {
    projectId: TEST_PROJECT_ID,
    pubsubHost: `127.0.0.1:${pubsub.port}`,
    firestoreHost: `127.0.0.1:${firestore.port}`,
    storageUrl: `http://127.0.0.1:${gcs.port}`,
  };
  // Workers are forked after global setup and inherit process.env; provide() is the typed mirror.
  process.env.PUBSUB_EMULATOR_HOST = endpoints.pubsubHost;
  process.env.FIRESTORE_EMULATOR_HOST = endpoints.firestoreHost;
  // @google-cloud/storage takes this variable as its JSON API base URL (path included) and ignores
  // apiEndpoint for JSON calls when it is set, so the bare host would break every Storage client here.
  process.env.STORAGE_EMULATOR_HOST = `${endpoints.storageUrl}/storage/v1`;
  project.provide("infinityEmulators", endpoints);

  for (const h of handles)
    log(`${h.name.padEnd(18)} port ${h.port}  pid ${h.pid}  ready in ${h.startupMs} ms`);
  log(`all services ready in ${Date.now() - started} ms (logs: ${tmp})`);
  return () => teardown();
}
