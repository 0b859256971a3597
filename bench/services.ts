// The Pub/Sub and Firestore emulators and fake-gcs-server for a bench, started exactly as the test
// run starts them (test/setup: same launchers, same PID registry, so a bench killed with SIGKILL
// leaves nothing the next `npm test` does not reap) and always stopped by PID: at the end, on an
// error, and on Ctrl-C or SIGTERM.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceContext } from "../test/setup/context.js";
import { startFirestoreEmulator } from "../test/setup/firestore.js";
import { startFakeGcs } from "../test/setup/gcs.js";
import { PidRegistry } from "../test/setup/orphans.js";
import type { ServiceHandle } from "../test/setup/process.js";
import { startPubsubEmulator } from "../test/setup/pubsub.js";
import { ROOT } from "./measure.js";

export const BENCH_PROJECT_ID = "infinity-bench";

export type ServiceName = "pubsub" | "firestore" | "gcs";

export interface BenchServices {
  projectId: string;
  pubsubHost?: string;
  firestoreHost?: string;
  /** fake-gcs-server root, e.g. http://127.0.0.1:4443. */
  storageUrl?: string;
  handles: ServiceHandle[];
  /** Milliseconds the services took to start (in parallel). */
  startupMs: number;
  /** Stops every service by PID (SIGTERM, then SIGKILL), once; later calls do nothing. */
  stop(): Promise<void>;
}

const STARTERS: Record<ServiceName, (ctx: ServiceContext) => Promise<ServiceHandle>> = {
  pubsub: startPubsubEmulator,
  firestore: startFirestoreEmulator,
  gcs: startFakeGcs,
};

/**
 * Starts the named services in parallel and points this process's Google clients at them (the
 * same variables the test setup exports). No real credentials, metadata server or gcloud
 * configuration is ever used. The services die with this process: on exit, SIGINT and SIGTERM.
 */
export async function startServices(
  names: ServiceName[],
  log: (line: string) => void = () => undefined,
): Promise<BenchServices> {
  const tmp = mkdtempSync(join(tmpdir(), "infinity-bench-services-"));
  const cloudsdkConfig = join(tmp, "gcloud");
  mkdirSync(cloudsdkConfig);
  Object.assign(process.env, {
    METADATA_SERVER_DETECTION: "none",
    GOOGLE_CLOUD_PROJECT: BENCH_PROJECT_ID,
    GCLOUD_PROJECT: BENCH_PROJECT_ID,
    CLOUDSDK_CONFIG: cloudsdkConfig,
  });
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;

  const registry = new PidRegistry(tmp);
  const handles: ServiceHandle[] = [];
  let stopped = false;
  const killNow = () => {
    registry.killAllNow();
    registry.clear();
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the emulators (by PID) before exiting`);
    killNow();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("exit", killNow);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(handles.map((h) => h.stop()));
    registry.clear();
    process.off("exit", killNow);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    rmSync(tmp, { recursive: true, force: true });
    log(`stopped ${handles.map((h) => `${h.name} (pid ${h.pid})`).join(", ") || "nothing"}`);
  };

  const ctx: ServiceContext = { logDir: tmp, env: { ...process.env }, registry, repoRoot: ROOT };
  const started = Date.now();
  const results = await Promise.allSettled(names.map((n) => STARTERS[n](ctx)));
  for (const r of results) if (r.status === "fulfilled") handles.push(r.value);
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
  if (failures.length) {
    await stop();
    throw new Error(`bench services failed to start:\n\n${failures.map((e) => e.message).join("\n\n")}`);
  }
  const services: BenchServices = {
    projectId: BENCH_PROJECT_ID,
    handles,
    startupMs: Date.now() - started,
    stop,
  };
  for (const [i, name] of names.entries()) {
    const port = handles[i]!.port;
    if (name === "pubsub") services.pubsubHost = process.env.PUBSUB_EMULATOR_HOST = `127.0.0.1:${port}`;
    if (name === "firestore")
      services.firestoreHost = process.env.FIRESTORE_EMULATOR_HOST = `127.0.0.1:${port}`;
    if (name === "gcs") {
      services.storageUrl = `http://127.0.0.1:${port}`;
      // As the test setup: @google-cloud/storage takes this as its JSON API base URL, path included.
      process.env.STORAGE_EMULATOR_HOST = `${services.storageUrl}/storage/v1`;
    }
  }
  for (const h of handles) log(`${h.name} on port ${h.port}, pid ${h.pid}, ready in ${h.startupMs} ms`);
  return services;
}
