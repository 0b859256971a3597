// What the GCP adapters do beyond the port contracts, against the emulators, fake-gcs-server and the
// KMS stand-in: failures of the key service, uploads that die, races, a missing topic. Where a service here
// cannot show a production behaviour, the test name says so.
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import type { Message, Subscription } from "@google-cloud/pubsub";
import { Bucket, type Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { GcsBlobStore } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { KmsKeyWrapper } from "../../functions/adapters/gcp/kms-key-wrapper.js";
import { PubSubPublisher } from "../../functions/adapters/gcp/pubsub-publisher.js";
import { BackupError, ConflictError, KeyError, UserInputError } from "../../functions/core/errors.js";
import type { BlobInfo } from "../../functions/core/ports.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";
import {
  KMS_TEST_KEY,
  type KmsStandin,
  firestoreClient,
  pubsubClient,
  startKmsStandin,
  storageClient,
  uniqueName,
} from "../helpers/emulators.js";

const MiB = 1024 * 1024;

async function settled<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe("KmsKeyWrapper on the KMS stand-in", () => {
  let kms: KmsStandin;
  let keyName: string;
  beforeAll(async () => {
    kms = await startKmsStandin();
  });
  afterAll(() => kms.close());
  beforeEach(() => {
    keyName = `${KMS_TEST_KEY.replace(/\/cryptoKeys\/.*$/, "")}/cryptoKeys/${uniqueName("it")}`;
    kms.addKey(keyName);
  });

  /** The client's own retries off, so that an injected failure reaches the adapter at once. */
  const unretried = () => new KmsKeyWrapper({ client: kms.client(), keyName, callOptions: { retry: null } });

  /**
   * A real client whose next answer to `method` is altered after it left the stand-in, as a damaged
   * network path would do. The stand-in cannot do this itself; grpc-js's call transformer can.
   */
  function tamperingClient(
    method: "Encrypt" | "Decrypt",
    tamper: (response: Record<string, unknown>) => void,
  ) {
    const client = new KeyManagementServiceClient({
      apiEndpoint: "127.0.0.1",
      port: kms.port,
      sslCreds: grpc.credentials.createInsecure(),
      "grpc.callInvocationTransformer": (call: grpc.CallProperties<unknown, Record<string, unknown>>) => {
        const callback = call.callback;
        if (!call.methodDefinition.path.endsWith(`/${method}`) || callback === undefined) return call;
        return {
          ...call,
          callback: (err: grpc.ServiceError | null, response?: Record<string, unknown>) => {
            if (err === null && response !== undefined) tamper(response);
            callback(err, response);
          },
        };
      },
    });
    return client;
  }

  it("wraps under the key and records the version KMS used; decrypts against the key", async () => {
    const wrapper = new KmsKeyWrapper({ client: kms.client(), keyName });
    const dataKey = randomBytes(32);
    const wrapped = await wrapper.wrap(dataKey);
    expect(wrapped.keyRef).toBe(`${keyName}/cryptoKeyVersions/1`);
    expect((await wrapper.unwrap(wrapped)).equals(dataKey)).toBe(true);
    const mine = kms.calls.filter((c) => c.name.startsWith(keyName));
    expect(mine.every((c) => c.name === keyName && c.code === grpc.status.OK)).toBe(true);
    // The first wrap of a process learns the primary version, then binds it: two Encrypts; later one.
    await wrapper.wrap(randomBytes(32));
    expect(kms.calls.filter((c) => c.name === keyName).map((c) => c.method)).toEqual([
      "Encrypt",
      "Encrypt",
      "Decrypt",
      "Encrypt",
    ]);
  });

  it("after a rotation wraps under the new version, and old archives still open", async () => {
    const wrapper = new KmsKeyWrapper({ client: kms.client(), keyName });
    const oldKey = randomBytes(32);
    const old = await wrapper.wrap(oldKey);
    const v2 = kms.rotate(keyName);
    const fresh = await wrapper.wrap(randomBytes(32));
    expect(fresh.keyRef).toBe(v2);
    expect((await wrapper.unwrap(old)).equals(oldKey)).toBe(true);
    // A version disabled by an operator cannot open its archives: permanent, and it says which.
    kms.setVersionState(old.keyRef, "DISABLED");
    const err = await settled(wrapper.unwrap(old));
    expect(err).toBeInstanceOf(KeyError);
    expect(err).toMatchObject({ permanent: true, message: expect.stringContaining(old.keyRef) });
    expect((err as Error).message).toContain("FAILED_PRECONDITION");
  });

  it("lets the client's own retries absorb a brief UNAVAILABLE", async () => {
    const wrapper = new KmsKeyWrapper({ client: kms.client(), keyName });
    await wrapper.wrap(randomBytes(32)); // learn the primary first
    kms.failNext(2, grpc.status.UNAVAILABLE, "Encrypt");
    expect((await wrapper.wrap(randomBytes(32))).keyRef).toBe(`${keyName}/cryptoKeyVersions/1`);
  });

  it("turns UNAVAILABLE into a transient KeyError that names the key", async () => {
    const wrapper = unretried();
    kms.failNext(1, grpc.status.UNAVAILABLE, "Encrypt");
    const err = await settled(wrapper.wrap(randomBytes(32)));
    expect(err).toBeInstanceOf(KeyError);
    expect(err).toMatchObject({ permanent: false, message: expect.stringContaining(keyName) });
    expect((err as Error).message).toContain("UNAVAILABLE");
    expect((err as Error).cause).toBeDefined();
  });

  it("turns PERMISSION_DENIED into a permanent KeyError that names the keyRef and leaks no key", async () => {
    const wrapper = unretried();
    const dataKey = randomBytes(32);
    const wrapped = await wrapper.wrap(dataKey);
    kms.failNext(1, grpc.status.PERMISSION_DENIED, "Decrypt");
    const err = await settled(wrapper.unwrap(wrapped));
    expect(err).toBeInstanceOf(KeyError);
    expect(err).toMatchObject({ permanent: true, message: expect.stringContaining(wrapped.keyRef) });
    const text = `${(err as Error).message} ${(err as Error).stack}`;
    expect(text).not.toContain(dataKey.toString("hex"));
    expect(text).not.toContain(dataKey.toString("base64"));
  });

  it.each([
    ["INVALID_ARGUMENT", grpc.status.INVALID_ARGUMENT, true],
    ["NOT_FOUND", grpc.status.NOT_FOUND, true],
    ["FAILED_PRECONDITION", grpc.status.FAILED_PRECONDITION, true],
    ["DEADLINE_EXCEEDED", grpc.status.DEADLINE_EXCEEDED, false],
    ["RESOURCE_EXHAUSTED", grpc.status.RESOURCE_EXHAUSTED, false],
    ["INTERNAL", grpc.status.INTERNAL, false],
  ] as const)("maps %s (%i) to a KeyError with permanent=%s", async (_name, code, permanent) => {
    kms.failNext(1, code, "Encrypt");
    const err = await settled(unretried().wrap(randomBytes(32)));
    expect(err).toBeInstanceOf(KeyError);
    expect((err as KeyError).permanent).toBe(permanent);
  });

  it("refuses an Encrypt answer whose ciphertext CRC32C does not match (integrity)", async () => {
    const client = tamperingClient("Encrypt", (res) => {
      const crc = res.ciphertextCrc32c as { value: unknown };
      res.ciphertextCrc32c = { value: (Number(String(crc.value)) ^ 1) >>> 0 };
    });
    const err = await settled(new KmsKeyWrapper({ client, keyName }).wrap(randomBytes(32)));
    await client.close();
    expect(err).toBeInstanceOf(KeyError);
    expect(err).toMatchObject({ permanent: false, message: expect.stringMatching(/integrity/) });
  });

  it("refuses an Encrypt answer that did not verify the plaintext CRC32C (integrity)", async () => {
    const client = tamperingClient("Encrypt", (res) => {
      res.verifiedPlaintextCrc32c = false;
    });
    const err = await settled(new KmsKeyWrapper({ client, keyName }).wrap(randomBytes(32)));
    await client.close();
    expect(err).toBeInstanceOf(KeyError);
    expect((err as Error).message).toMatch(/integrity/);
  });

  it("refuses a Decrypt answer whose plaintext CRC32C does not match, without showing the key", async () => {
    const dataKey = randomBytes(32);
    const wrapped = await new KmsKeyWrapper({ client: kms.client(), keyName }).wrap(dataKey);
    const client = tamperingClient("Decrypt", (res) => {
      const crc = res.plaintextCrc32c as { value: unknown };
      res.plaintextCrc32c = { value: (Number(String(crc.value)) ^ 1) >>> 0 };
    });
    const err = await settled(new KmsKeyWrapper({ client, keyName }).unwrap(wrapped));
    await client.close();
    expect(err).toBeInstanceOf(KeyError);
    expect((err as Error).message).toMatch(/integrity/);
    expect((err as Error).message).toContain(wrapped.keyRef);
    expect(`${(err as Error).message} ${(err as Error).stack}`).not.toContain(dataKey.toString("hex"));
  });

  it("refuses a keyRef of another shape, or a wrapper built on a version name, before calling KMS", async () => {
    const before = kms.calls.length;
    const wrapper = new KmsKeyWrapper({ client: kms.client(), keyName });
    await expect(
      wrapper.unwrap({ keyRef: "local:0123456789abcdef", wrapped: randomBytes(60) }),
    ).rejects.toThrow(/local:0123456789abcdef.*not a Cloud KMS key version/);
    expect(
      () => new KmsKeyWrapper({ client: kms.client(), keyName: `${keyName}/cryptoKeyVersions/1` }),
    ).toThrow(KeyError);
    expect(kms.calls.length).toBe(before);
  });
});

describe("GcsBlobStore on fake-gcs-server", () => {
  let storage: Storage;
  let bucket: string;
  beforeAll(async () => {
    storage = storageClient();
    bucket = uniqueName("adapters");
    await storage.createBucket(bucket);
  });
  afterAll(async () => {
    await storage.bucket(bucket).deleteFiles({ force: true });
    await storage.bucket(bucket).delete();
  });
  const store = (options: { chunkBytes?: number; pageSize?: number } = {}) =>
    new GcsBlobStore({ storage, bucket, chunkBytes: 256 * 1024, ...options });

  async function* generated(size: number, hash = createHash("sha256")) {
    for (let left = size; left > 0; left -= 64 * 1024) {
      const chunk = randomBytes(Math.min(left, 64 * 1024));
      hash.update(chunk);
      yield chunk;
    }
  }
  async function sha256(stream: Readable): Promise<string> {
    const hash = createHash("sha256");
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest("hex");
  }
  async function collect(iterable: AsyncIterable<BlobInfo>): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for await (const info of iterable) out.push(info);
    return out;
  }

  it("leaves no object when the body fails after several chunks were uploaded", async () => {
    const failing = Readable.from(
      (async function* () {
        yield* generated(MiB + 5000); // four 256 KiB chunks reach the service, the fifth never ends
        throw new Error("git pack-objects died");
      })(),
    );
    await expect(store().put("broken/x.ibk", failing)).rejects.toThrow("git pack-objects died");
    expect(await store().stat("broken/x.ibk")).toBeUndefined();
    expect(await collect(store().list("broken/"))).toEqual([]);
    const [files] = await storage.bucket(bucket).getFiles({ prefix: "broken/" });
    expect(files).toEqual([]);
  });

  it("a store that fails while the body still flows: its own error, translated, names the bucket", async () => {
    // The upload fails (no such bucket) while the body has bytes left. The body is a PassThrough,
    // as an archive's stream is: the pipeline destroys it with the upload's error, which is still
    // the store's own and must not pass as the caller's, raw.
    const missing = uniqueName("no-such-bucket");
    const body = new PassThrough();
    Readable.from(generated(4 * MiB)).pipe(body);
    const put = new GcsBlobStore({ storage, bucket: missing, chunkBytes: 256 * 1024 }).put(
      "full/x.ibk",
      body,
    );
    const err = await settled(put);
    expect(err).toBeInstanceOf(BackupError);
    expect((err as Error).message).toContain(`could not store blob full/x.ibk in gs://${missing}`);
  });

  it("refuses a second put of a key (412 -> ConflictError) and keeps the first bytes", async () => {
    const firstHash = createHash("sha256");
    await store().put("once.ibk", Readable.from(generated(2 * MiB, firstHash)), { metadata: { n: "1" } });
    const first = firstHash.digest("hex");
    // Production may refuse at the first request of the session or at the last; the fake refuses at
    // the last, after every byte was sent. Either way: the upload fails and the object is untouched.
    const err = await settled(
      store().put("once.ibk", Readable.from(generated(2 * MiB)), { metadata: { n: "2" } }),
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain("once.ibk");
    expect(await sha256(await store().get("once.ibk"))).toBe(first);
    expect(await store().stat("once.ibk")).toMatchObject({ size: 2 * MiB, metadata: { n: "1" } });
  });

  it("round-trips a ~20 MiB streamed upload by SHA-256, in 8 MiB chunks", async () => {
    const size = 20 * MiB + 4321;
    const hash = createHash("sha256");
    const info = await new GcsBlobStore({ storage, bucket }).put(
      "big.ibk",
      Readable.from(generated(size, hash)),
    );
    expect(info).toMatchObject({ key: "big.ibk", size, storageClass: "STANDARD" });
    expect(await sha256(await store().get("big.ibk"))).toBe(hash.digest("hex"));
  });

  it("lists page by page, in key order, and fetches no page it does not need", async () => {
    for (const key of ["pages/e", "pages/a", "pages/c", "pages/b", "pages/d"]) {
      await store().put(key, Readable.from([Buffer.from(key)]));
    }
    const getFiles = vi.spyOn(Bucket.prototype, "getFiles");
    try {
      const paged = store({ pageSize: 2 });
      expect((await collect(paged.list("pages/"))).map((i) => i.key)).toEqual([
        "pages/a",
        "pages/b",
        "pages/c",
        "pages/d",
        "pages/e",
      ]);
      expect(getFiles).toHaveBeenCalledTimes(3);
      getFiles.mockClear();
      for await (const info of paged.list("pages/")) {
        expect(info.key).toBe("pages/a");
        break; // yielded as it goes: the first page is enough
      }
      expect(getFiles).toHaveBeenCalledTimes(1);
    } finally {
      getFiles.mockRestore();
    }
  });

  it("never sends an earlier customTime (production refuses it; the fake would accept it)", async () => {
    await store().put("life/a", Readable.from([Buffer.from("a")]));
    await store().setLifecycle("life/a", { expiresAt: "2030-01-01T00:00:00.000Z" });
    const [before] = await storage.bucket(bucket).file("life/a").getMetadata();
    const info = await store().setLifecycle("life/a", { expiresAt: "2029-01-01T00:00:00.000Z" });
    const [after] = await storage.bucket(bucket).file("life/a").getMetadata();
    expect(info.expiresAt).toBe("2030-01-01T00:00:00.000Z");
    expect(after.metageneration).toBe(before.metageneration); // no metadata write at all
  });

  it("changes the class by a rewrite that keeps bytes, metadata and expiry (class itself: not provable on the fake)", async () => {
    // fake-gcs-server v1.56.1 answers the rewrite but keeps STANDARD and drops customTime. This shows
    // the rewrite happens (a new generation, conditional on the old) and that nothing is lost; that
    // Cloud Storage then reports COLDLINE rests on its documented rewrite behaviour.
    await store().put("life/b", Readable.from([Buffer.from("bytes")]), { metadata: { snapshot: "s1" } });
    await store().setLifecycle("life/b", { expiresAt: "2031-01-01T00:00:00.000Z" });
    const [before] = await storage.bucket(bucket).file("life/b").getMetadata();
    const info = await store().setLifecycle("life/b", { storageClass: "COLDLINE" });
    const [after] = await storage.bucket(bucket).file("life/b").getMetadata();
    expect(after.generation).not.toBe(before.generation);
    expect(info).toMatchObject({
      size: 5,
      metadata: { snapshot: "s1" },
      expiresAt: "2031-01-01T00:00:00.000Z",
    });
    expect(Buffer.concat(await (await store().get("life/b")).toArray()).toString()).toBe("bytes");
  });
});

describe("FirestoreSnapshotIndex on the emulator", () => {
  const firestore = firestoreClient();
  const root = `adapters/${uniqueName("run")}`;
  afterAll(async () => {
    await firestore.recursiveDelete(firestore.doc(root));
    await firestore.terminate();
  });
  const index = (clock = new ManualClock()) => new FirestoreSnapshotIndex({ firestore, clock, root });

  it("makes two concurrent commits of the same record one record", async () => {
    const s = snapshot({ repo: "acme/race", id: "20261101T000000000Z-race0001" });
    await Promise.all([index().commit(s), index().commit({ ...s })]);
    expect(await index().list("acme/race")).toEqual([s]);
    expect(await index().repos()).toContain("acme/race");
  });

  it("lets exactly one of two concurrent, different commits of one id win", async () => {
    const s = snapshot({ repo: "acme/race2", id: "20261101T000000000Z-race0002" });
    const results = await Promise.allSettled([
      index().commit(s),
      index().commit({ ...s, sha256: "f".repeat(64) }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ConflictError);
  });

  it("gives a lease to exactly one of many workers with clients of their own", async () => {
    const clients = Array.from({ length: 6 }, () => firestoreClient());
    try {
      const workers = clients.map(
        (db) => new FirestoreSnapshotIndex({ firestore: db, root, clock: new ManualClock() }),
      );
      const leases = await Promise.all(
        workers.map((w, i) => w.acquireLease("acme/lease", `worker-${i}`, 60_000)),
      );
      const winners = leases.filter((l) => l !== undefined);
      expect(winners).toHaveLength(1);
      const stored = await firestore.doc(`${root}/leases/acme%2Flease`).get();
      expect(stored.get("holder")).toBe(winners[0]!.holder);
    } finally {
      await Promise.all(clients.map((db) => db.terminate()));
    }
  });

  it("files snapshots under a safe repo key, with takenAt as a Timestamp and refs as one string", async () => {
    const s = snapshot({
      repo: "acme/layout",
      id: "20261101T000000000Z-layout01",
      takenAt: "2026-11-01T02:00:00+02:00",
    });
    await index().commit(s);
    const doc = await firestore.doc(`${root}/repos/acme%2Flayout/snapshots/${s.id}`).get();
    expect(doc.get("takenAtTime").toDate().toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(typeof doc.get("refs")).toBe("string");
    expect((await firestore.doc(`${root}/repos/acme%2Flayout`).get()).get("repo")).toBe("acme/layout");
    expect(await index().get(s.repo, s.id)).toEqual(s);
  });

  it("orders by instant, not by spelling, when takenAt has an offset", async () => {
    const east = snapshot({
      repo: "acme/tz",
      id: "20261101T000000000Z-tz000001",
      takenAt: "2026-11-02T01:00:00+02:00",
    });
    const utc = snapshot({
      repo: "acme/tz",
      id: "20261101T000000000Z-tz000002",
      takenAt: "2026-11-01T23:30:00Z",
    });
    await index().commit(east);
    await index().commit(utc);
    expect((await index().latest("acme/tz"))?.id).toBe(utc.id);
    expect((await index().atOrBefore("acme/tz", "2026-11-01T23:15:00Z"))?.id).toBe(east.id);
  });

  it("keeps repo names Firestore reserves apart and lists them", async () => {
    const names = ["__owner/name__", "./x", "a.b/c~d"];
    for (const repo of names) await index().commit(snapshot({ repo, id: "20261101T000000000Z-names001" }));
    const repos = await index().repos();
    for (const repo of names) expect(repos).toContain(repo);
  });

  it("refuses, clearly and permanently, a snapshot too large for one document", async () => {
    const refs = Object.fromEntries(
      Array.from({ length: 12_000 }, (_, i) => [`refs/tags/v${i}.0.0-with-a-long-name`, "a".repeat(40)]),
    );
    const err = await settled(
      index().commit(snapshot({ repo: "acme/huge", id: "20261101T000000000Z-huge0001", refs })),
    );
    expect(err).toBeInstanceOf(BackupError);
    expect(err).toMatchObject({ permanent: true, message: expect.stringContaining("12000 refs") });
  });
});

// Round trips, fan-out, defaults, refusals and topics kept apart: the Publisher contract
// (test/contract/publisher.ts). Here: what only this adapter does.
describe("PubSubPublisher on the emulator", () => {
  const pubsub = pubsubClient();
  let topicName: string;
  let subscription: Subscription;
  beforeAll(async () => {
    topicName = uniqueName("snapshot-requests");
    const [topic] = await pubsub.createTopic(topicName);
    [subscription] = await topic.createSubscription(uniqueName("worker"));
  });
  afterAll(async () => {
    await subscription.close();
    await pubsub.close();
  });

  const request = (i: number) => ({
    v: 1,
    repo: `acme/repo-${i}`,
    reason: "schedule",
    requestedAt: "2026-11-27T00:00:00Z",
  });

  /** Receives (and acks) until `done` says so or `ms` pass. */
  function receive(done: (seen: Message[]) => boolean, ms: number): Promise<Message[]> {
    const seen: Message[] = [];
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        subscription.removeListener("message", onMessage);
        subscription.removeListener("error", reject);
        resolve(seen);
      };
      const onMessage = (m: Message) => {
        m.ack();
        seen.push(m);
        if (done(seen)) finish();
      };
      const timer = setTimeout(finish, ms);
      subscription.on("message", onMessage);
      subscription.on("error", reject);
    });
  }

  it("refuses a batch with one invalid message before sending any of it", async () => {
    const publisher = new PubSubPublisher({ pubsub, topicNames: { "snapshot-requests": topicName } });
    const topic = vi.spyOn(pubsub, "topic");
    const err = await settled(
      publisher.publish("snapshot-requests", [request(1), { ...request(2), repo: "no-slash" }]),
    );
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as Error).message).toMatch(/message 1 for topic snapshot-requests: repo:/);
    expect(topic).not.toHaveBeenCalled();
    topic.mockRestore();
    // And on the wire: after a sentinel goes through, nothing else has arrived.
    const receiving = receive(() => false, 2_000);
    const [sentinel] = await publisher.publish("snapshot-requests", [request(999_999)]);
    const received = await receiving;
    expect(received.map((m) => m.id)).toEqual([sentinel]);
  });

  it("reports a missing topic as a permanent error that names it", async () => {
    const missing = uniqueName("no-such-topic");
    const publisher = new PubSubPublisher({ pubsub, topicNames: { "prune-requests": missing } });
    const err = await settled(publisher.publish("prune-requests", [{ v: 1 }]));
    expect(err).toBeInstanceOf(BackupError);
    expect(err).toMatchObject({ permanent: true, message: expect.stringContaining(missing) });
  });
});
