// Runs the port contracts against the GCP adapters: Cloud Storage on fake-gcs-server (a fresh bucket
// per test), Firestore on its emulator (a fresh root per test), Cloud KMS on the gRPC stand-in,
// Pub/Sub on its emulator (fresh topics and subscriptions per test).
import type { Message, Subscription } from "@google-cloud/pubsub";
import type { FileMetadata } from "@google-cloud/storage";
import { afterAll, beforeAll } from "vitest";
import { FirestoreAlertLedger } from "../../functions/adapters/gcp/firestore-alert-ledger.js";
import { FirestoreDeliveryLog } from "../../functions/adapters/gcp/firestore-delivery-log.js";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { GcsBlobStore } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { KmsKeyWrapper } from "../../functions/adapters/gcp/kms-key-wrapper.js";
import { PubSubPublisher } from "../../functions/adapters/gcp/pubsub-publisher.js";
import type { Topic } from "../../functions/core/ports.js";
import {
  KMS_TEST_KEY,
  type KmsStandin,
  firestoreClient,
  pubsubClient,
  startKmsStandin,
  storageClient,
  uniqueName,
} from "../helpers/emulators.js";
import { blobStoreContract } from "./blob-store.js";
import { alertLedgerContract } from "./alert-ledger.js";
import { deliveryLogContract } from "./delivery-log.js";
import { keyRecordsContract } from "./key-records.js";
import { FirestoreKeyRecords } from "../../functions/adapters/gcp/firestore-key-records.js";
import { keyWrapperContract } from "./key-wrapper.js";
import { type Delivered, publisherContract } from "./publisher.js";
import { snapshotIndexContract } from "./snapshot-index.js";

/**
 * fake-gcs-server (v1.56.1) ignores the storage class of a rewrite, which is how Cloud Storage
 * changes an object's class. So that the contract still checks everything else setLifecycle does
 * (expiry forward only, the info it answers, the class read back by stat), this store changes the
 * class with a metadata patch, which the fake honours and production does not. The rewrite itself
 * is exercised in test/integration/gcp-adapters.test.ts, which says what it cannot prove.
 */
class FakeGcsBlobStore extends GcsBlobStore {
  protected override async changeStorageClass(
    key: string,
    meta: FileMetadata,
    storageClass: string,
  ): Promise<FileMetadata> {
    const [updated] = await this.storage.bucket(this.bucketName).file(key).setMetadata({ storageClass });
    return updated;
  }
}

const storage = storageClient();

blobStoreContract("GcsBlobStore (fake-gcs-server)", async () => {
  const bucket = uniqueName("contract");
  await storage.createBucket(bucket);
  return {
    // createdAt is the service's timeCreated, so the fixture has no clock to offer.
    store: new FakeGcsBlobStore({ storage, bucket, chunkBytes: 1024 * 1024, pageSize: 2 }),
    cleanup: async () => {
      await storage.bucket(bucket).deleteFiles({ force: true });
      await storage.bucket(bucket).delete();
    },
  };
});

const firestore = firestoreClient();
afterAll(() => firestore.terminate());

snapshotIndexContract("FirestoreSnapshotIndex (emulator)", async (clock) => {
  const root = `contract/${uniqueName("run")}`;
  return {
    index: new FirestoreSnapshotIndex({ firestore, clock, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});

keyRecordsContract("FirestoreKeyRecords (emulator)", async () => {
  const root = `contract/${uniqueName("keys")}`;
  return {
    records: new FirestoreKeyRecords({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});

deliveryLogContract("FirestoreDeliveryLog (emulator)", async () => {
  const root = `contract/${uniqueName("deliveries")}`;
  return {
    log: new FirestoreDeliveryLog({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});

alertLedgerContract("FirestoreAlertLedger (emulator)", async () => {
  const root = `contract/${uniqueName("alerts")}`;
  return {
    ledger: new FirestoreAlertLedger({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});

let kms: KmsStandin;
beforeAll(async () => {
  kms = await startKmsStandin();
});
afterAll(() => kms.close());

keyWrapperContract("KmsKeyWrapper (KMS stand-in)", async () => {
  // A key of its own per test, so one test's rotation does not change another's primary.
  const keyName = `${KMS_TEST_KEY.replace(/\/cryptoKeys\/.*$/, "")}/cryptoKeys/${uniqueName("contract")}`;
  kms.addKey(keyName);
  return {
    wrapper: new KmsKeyWrapper({ client: kms.client(), keyName }),
    rotate: async () => {
      kms.rotate(keyName);
    },
    cleanup: async () => {},
  };
});

const pubsub = pubsubClient();
afterAll(() => pubsub.close());

/** How long `received` waits for the expected count, and then for stragglers that should not come. */
const RECEIVE_TIMEOUT_MS = 30_000;
const STRAGGLER_MS = 300;

publisherContract("PubSubPublisher (emulator)", async () => {
  const topics: Topic[] = ["snapshot-requests", "snapshot-large", "verify-requests", "prune-requests"];
  const topicNames: Partial<Record<Topic, string>> = {};
  const seen = new Map<Topic, Map<string, Delivered>>();
  const subscriptions: Subscription[] = [];
  // A subscription per topic before anything is published, so that it keeps every message.
  for (const topic of topics) {
    const name = uniqueName(topic);
    topicNames[topic] = name;
    const [created] = await pubsub.createTopic(name);
    const [subscription] = await created.createSubscription(uniqueName(`${topic}-contract`));
    const got = new Map<string, Delivered>();
    seen.set(topic, got);
    // Keyed by message id: a redelivery is the same message, not a second one.
    subscription.on("message", (m: Message) => {
      m.ack();
      got.set(m.id, { id: m.id, data: JSON.parse(m.data.toString("utf8")) as unknown });
    });
    subscription.on("error", (err: unknown) => console.error(`subscription for ${topic}:`, err));
    subscriptions.push(subscription);
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    publisher: new PubSubPublisher({ pubsub, topicNames }),
    received: async (topic, expected) => {
      const got = seen.get(topic)!;
      const deadline = Date.now() + RECEIVE_TIMEOUT_MS;
      while (got.size < expected && Date.now() < deadline) await sleep(50);
      await sleep(STRAGGLER_MS);
      return [...got.values()];
    },
    cleanup: async () => {
      await Promise.all(subscriptions.map(async (s) => (await s.close(), await s.delete())));
      await Promise.all(Object.values(topicNames).map((name) => pubsub.topic(name).delete()));
    },
  };
});
