// The LayerIndex contract and layer garbage on Firestore's emulator (firestore-layers.ts), a fresh
// root per test; the race runs through a second client, as a second function instance would. The
// garbage suite keeps archives in a folder store, whose times follow the test's clock.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";
import { FirestoreKeyRecords } from "../../functions/adapters/gcp/firestore-key-records.js";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { FirestoreLayerIndex } from "../../functions/adapters/gcp/firestore-layers.js";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { layerGarbageContract } from "./layer-garbage.js";
import { layerIndexContract } from "./layer-index.js";
import { ManualClock } from "./snapshot-index.js";

const firestore = firestoreClient();
const second = firestoreClient();
afterAll(async () => {
  await firestore.terminate();
  await second.terminate();
});

layerIndexContract("FirestoreLayerIndex (emulator)", async () => {
  const root = `contract/${uniqueName("layers")}`;
  return {
    index: new FirestoreSnapshotIndex({ firestore, root }),
    layers: new FirestoreLayerIndex({ firestore, root }),
    other: new FirestoreLayerIndex({ firestore: second, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});

layerGarbageContract(
  "FirestoreLayerIndex (emulator)",
  async (clock) => {
    const root = `contract/${uniqueName("garbage")}`;
    const dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-layers-"));
    const audit: AuditEvent[] = [];
    return {
      deps: {
        index: new FirestoreSnapshotIndex({ firestore, clock, root }),
        layers: new FirestoreLayerIndex({ firestore, root }),
        keyRecords: new FirestoreKeyRecords({ firestore, root }),
        store: new FsBlobStore({ root: path.join(dir, "archives"), clock }),
        keys: await KeyFileWrapper.open(path.join(dir, "keys.json"), { create: true, clock }),
        audit: { record: async (event) => void audit.push(event) },
        clock,
      },
      audit,
      cleanup: async () => {
        await firestore.recursiveDelete(firestore.doc(root));
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  () => new ManualClock(),
);
