// What integration tests import to reach the services started by test/setup/global-setup.ts:
// endpoints, real Google clients pointed at them, and names that keep parallel test files apart.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import type { EmulatorEndpoints } from "../setup/global-setup.js";

export type { EmulatorEndpoints };
export { KMS_TEST_KEY, KmsStandin, startKmsStandin } from "./kms-standin.js";

/**
 * The endpoints of this run. Forked workers inherit the variables the global setup exported; if a
 * pool ever stops passing them on, the provided copy restores them so the client libraries find them.
 */
export function emulators(): EmulatorEndpoints {
  const provided = injected();
  if (!provided) {
    throw new Error(
      "Emulator endpoints are missing: test/setup/global-setup.ts did not start the services. They are " +
        "left off when INFINITY_TEST_EMULATORS=off or when only test/unit and test/infra files are selected; " +
        "set INFINITY_TEST_EMULATORS=on to force them, and run through vitest (npm test / npx vitest run <file>).",
    );
  }
  process.env.PUBSUB_EMULATOR_HOST ??= provided.pubsubHost;
  process.env.FIRESTORE_EMULATOR_HOST ??= provided.firestoreHost;
  process.env.STORAGE_EMULATOR_HOST ??= `${provided.storageUrl}/storage/v1`;
  process.env.GOOGLE_CLOUD_PROJECT ??= provided.projectId;
  return provided;
}

/**
 * Cloud Storage client on fake-gcs-server (no auth is attempted for a custom endpoint). apiEndpoint is
 * required: the client builds upload URLs from it, while STORAGE_EMULATOR_HOST only covers JSON API calls.
 */
export function storageClient(): Storage {
  const { storageUrl, projectId } = emulators();
  return new Storage({ apiEndpoint: storageUrl, projectId });
}

/**
 * Firestore client on the emulator (found through FIRESTORE_EMULATOR_HOST). The emulator keeps named
 * databases apart, so a test may use the deployment's database id (infra: "infinity-backup").
 */
export function firestoreClient(options: { projectId?: string; databaseId?: string } = {}): Firestore {
  const { projectId } = emulators();
  return new Firestore({ projectId, ...options });
}

/** Pub/Sub client on the emulator (found through PUBSUB_EMULATOR_HOST). */
export function pubsubClient(projectId = emulators().projectId): PubSub {
  emulators();
  return new PubSub({ projectId });
}

/**
 * A name unique to this call, valid as a bucket, topic, subscription or collection id. Test files run
 * in parallel against the same emulators, so every file uses its own names instead of resetting state.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`.toLowerCase();
}

/** Deletes every document of one database in the Firestore emulator (use with a project of your own). */
export async function clearFirestore(projectId: string, databaseId = "(default)"): Promise<void> {
  const { firestoreHost } = emulators();
  const url = `http://${firestoreHost}/emulator/v1/projects/${projectId}/databases/${databaseId}/documents`;
  const res = await fetch(url, { method: "DELETE" });
  if (!res.ok) throw new Error(`clearing Firestore emulator ${projectId}/${databaseId}: HTTP ${res.status}`);
}

/**
 * The provided endpoints; outside a vitest worker (a bench run with node, where inject throws),
 * the ones bench/services.ts exported in the same variables the global setup sets.
 */
function injected(): EmulatorEndpoints | undefined {
  try {
    return inject("infinityEmulators");
  } catch {
    const { PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST, STORAGE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT } =
      process.env;
    if (!PUBSUB_EMULATOR_HOST || !FIRESTORE_EMULATOR_HOST || !STORAGE_EMULATOR_HOST || !GOOGLE_CLOUD_PROJECT)
      return undefined;
    return {
      projectId: GOOGLE_CLOUD_PROJECT,
      pubsubHost: PUBSUB_EMULATOR_HOST,
      firestoreHost: FIRESTORE_EMULATOR_HOST,
      storageUrl: STORAGE_EMULATOR_HOST.replace(/\/storage\/v1\/?$/, ""),
    };
  }
}
