// The LayerIndex contract on Firestore's emulator (firestore-layers.ts), a fresh root per test; the
// race runs through a second client, as a second function instance would.
import { afterAll } from "vitest";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { FirestoreLayerIndex } from "../../functions/adapters/gcp/firestore-layers.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { layerIndexContract } from "./layer-index.js";

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
