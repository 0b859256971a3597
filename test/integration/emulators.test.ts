// Smoke test of the test infrastructure: each service started by the global setup (and the in-process
// KMS stand-in) driven by the real Google client library that the adapters use.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { CRC32C } from "@google-cloud/storage";
import { crc32c } from "../helpers/crc32c.js";
import {
  KMS_TEST_KEY,
  type KmsStandin,
  clearFirestore,
  firestoreClient,
  pubsubClient,
  startKmsStandin,
  storageClient,
  uniqueName,
} from "../helpers/emulators.js";

// Captured before any helper runs, so it shows what the forked worker inherited on its own.
const inheritedEnv = { ...process.env };

const num = (v: unknown): number => Number(typeof v === "object" && v !== null ? String(v) : v);

describe("test environment", () => {
  it("reaches the forked worker through the environment and through inject()", () => {
    const provided = inject("infinityEmulators");
    expect(inheritedEnv.PUBSUB_EMULATOR_HOST).toBe(provided.pubsubHost);
    expect(inheritedEnv.FIRESTORE_EMULATOR_HOST).toBe(provided.firestoreHost);
    expect(inheritedEnv.STORAGE_EMULATOR_HOST).toBe(`${provided.storageUrl}/storage/v1`);
    expect(inheritedEnv.GOOGLE_CLOUD_PROJECT).toBe("infinity-test");
    expect(inheritedEnv.METADATA_SERVER_DETECTION).toBe("none");
    expect(inheritedEnv.CLOUDSDK_CONFIG).toMatch(/infinity-test-/);
    expect(inheritedEnv.GOOGLE_APPLICATION_CREDENTIALS).toBeUndefined();
  });

  it("has a CRC32C that agrees with @google-cloud/storage's", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    const data = randomBytes(100_003);
    const theirs = new CRC32C();
    theirs.update(data);
    expect(Buffer.from(theirs.toString(), "base64").readUInt32BE(0)).toBe(crc32c(data));
    expect(crc32c(data.subarray(777), crc32c(data.subarray(0, 777)))).toBe(crc32c(data));
  });
});

describe("Cloud Storage on fake-gcs-server", () => {
  const storage = storageClient();
  const bucketName = uniqueName("smoke");
  const data = randomBytes(5 * 1024 * 1024 + 12_345);

  beforeAll(async () => {
    await storage.createBucket(bucketName);
  });

  it("takes a multi-chunk resumable upload with a create-only precondition and reads it back", async () => {
    const file = storage.bucket(bucketName).file("archives/a.bin");
    await pipeline(
      Readable.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)]),
      file.createWriteStream({
        resumable: true,
        chunkSize: 1024 * 1024, // several PUTs with Content-Range, each answered 308 until the last
        validation: "crc32c",
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: "application/octet-stream" },
      }),
    );
    const [meta] = await file.getMetadata();
    expect(Number(meta.size)).toBe(data.length);
    expect(Buffer.from(meta.crc32c!, "base64").readUInt32BE(0)).toBe(crc32c(data));
    const [back] = await file.download({ validation: "crc32c" });
    expect(back.equals(data)).toBe(true);
  });

  it("refuses to overwrite an existing object when ifGenerationMatch is 0 (resumable and simple)", async () => {
    const file = storage.bucket(bucketName).file("archives/b.bin");
    await file.save(Buffer.from("first"), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const resumable = pipeline(
      Readable.from([randomBytes(1024 * 1024)]),
      file.createWriteStream({ resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    await expect(resumable).rejects.toMatchObject({ code: 412 });
    await expect(
      file.save(Buffer.from("second"), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
    ).rejects.toMatchObject({ code: 412 });
    const [content] = await file.download();
    expect(content.toString()).toBe("first");
  });
});

describe("Firestore emulator", () => {
  const db = firestoreClient({ databaseId: "infinity-backup" });
  afterAll(() => db.terminate());

  it("commits a transaction and reads it back; create() on an existing document fails", async () => {
    const ref = db.collection(uniqueName("repos")).doc("acme%2Fwidgets");
    await db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      expect(snap.exists).toBe(false);
      tx.create(ref, { latest: "snap-1", count: 1 });
    });
    await db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      tx.update(ref, { latest: "snap-2", count: (snap.get("count") as number) + 1 });
    });
    expect((await ref.get()).data()).toEqual({ latest: "snap-2", count: 2 });
    await expect(ref.create({ latest: "x" })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
  });

  it("clears one project's database without touching others", async () => {
    const projectId = uniqueName("proj");
    const mine = firestoreClient({ projectId, databaseId: "infinity-backup" });
    await mine.doc("leases/acme").set({ holder: "a" });
    await db.doc("leases/keep").set({ holder: "b" });
    await clearFirestore(projectId, "infinity-backup");
    expect((await mine.doc("leases/acme").get()).exists).toBe(false);
    expect((await db.doc("leases/keep").get()).exists).toBe(true);
    await mine.terminate();
  });
});

describe("Pub/Sub emulator", () => {
  const pubsub = pubsubClient();
  afterAll(() => pubsub.close());

  it("creates a topic and subscription, publishes, and delivers the message", async () => {
    const [topic] = await pubsub.createTopic(uniqueName("snapshot-requests"));
    const [subscription] = await topic.createSubscription(uniqueName("snapshot-worker"));
    const received = new Promise<{ data: string; attrs: Record<string, string> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message within 15 s")), 15_000);
      subscription.on("error", reject);
      subscription.once("message", (m) => {
        clearTimeout(timer);
        m.ack();
        resolve({ data: m.data.toString(), attrs: m.attributes });
      });
    });
    const id = await topic.publishMessage({
      json: { repo: "acme/widgets" },
      attributes: { kind: "snapshot" },
    });
    expect(id).toBeTruthy();
    const msg = await received;
    expect(JSON.parse(msg.data)).toEqual({ repo: "acme/widgets" });
    expect(msg.attrs).toEqual({ kind: "snapshot" });
    await subscription.close();
  });
});

describe("KMS stand-in with the real @google-cloud/kms client", () => {
  let kms: KmsStandin;
  beforeAll(async () => {
    kms = await startKmsStandin();
  });
  afterAll(() => kms.close());

  const encrypt = (plaintext: Buffer) =>
    kms.client().encrypt({ name: KMS_TEST_KEY, plaintext, plaintextCrc32c: { value: crc32c(plaintext) } });
  const decrypt = (ciphertext: Uint8Array) =>
    kms.client().decrypt({
      name: KMS_TEST_KEY,
      ciphertext,
      ciphertextCrc32c: { value: crc32c(ciphertext) },
    });

  it("round-trips with CRC32C verification in both directions", async () => {
    const dataKey = randomBytes(32);
    const [enc] = await encrypt(dataKey);
    expect(enc.name).toBe(`${KMS_TEST_KEY}/cryptoKeyVersions/1`);
    expect(enc.verifiedPlaintextCrc32c).toBe(true);
    const ciphertext = Buffer.from(enc.ciphertext as Uint8Array);
    expect(num(enc.ciphertextCrc32c?.value)).toBe(crc32c(ciphertext));
    const [dec] = await decrypt(ciphertext);
    expect(Buffer.from(dec.plaintext as Uint8Array).equals(dataKey)).toBe(true);
    expect(num(dec.plaintextCrc32c?.value)).toBe(crc32c(dataKey));
    expect(dec.usedPrimary).toBe(true);
  });

  it("rejects a request whose CRC32C does not match with INVALID_ARGUMENT", async () => {
    const client = kms.client();
    const plaintext = randomBytes(32);
    await expect(
      client.encrypt({ name: KMS_TEST_KEY, plaintext, plaintextCrc32c: { value: crc32c(plaintext) ^ 1 } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const [enc] = await encrypt(plaintext);
    await expect(
      client.decrypt({ name: KMS_TEST_KEY, ciphertext: enc.ciphertext, ciphertextCrc32c: { value: 12345 } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const [unchecked] = await client.encrypt({ name: KMS_TEST_KEY, plaintext });
    expect(unchecked.verifiedPlaintextCrc32c).toBe(false);
  });

  it("keeps old ciphertexts readable after a rotation done through the KMS API", async () => {
    const client = kms.client();
    const old = randomBytes(32);
    const [oldEnc] = await encrypt(old);
    const [version] = await client.createCryptoKeyVersion({ parent: KMS_TEST_KEY, cryptoKeyVersion: {} });
    const id = version.name!.split("/").pop()!;
    await client.updateCryptoKeyPrimaryVersion({ name: KMS_TEST_KEY, cryptoKeyVersionId: id });
    const [key] = await client.getCryptoKey({ name: KMS_TEST_KEY });
    expect(key.primary?.name).toBe(version.name);

    const fresh = randomBytes(32);
    const [newEnc] = await encrypt(fresh);
    expect(newEnc.name).toBe(version.name);
    const [oldDec] = await decrypt(oldEnc.ciphertext as Uint8Array);
    expect(Buffer.from(oldDec.plaintext as Uint8Array).equals(old)).toBe(true);
    expect(oldDec.usedPrimary).toBe(false);
    const [newDec] = await decrypt(newEnc.ciphertext as Uint8Array);
    expect(Buffer.from(newDec.plaintext as Uint8Array).equals(fresh)).toBe(true);

    kms.setVersionState(`${KMS_TEST_KEY}/cryptoKeyVersions/1`, "DISABLED");
    await expect(decrypt(oldEnc.ciphertext as Uint8Array)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    expect(kms.rotate()).toBe(`${KMS_TEST_KEY}/cryptoKeyVersions/3`);
  });

  it("injects failures: UNAVAILABLE is retried by the client, PERMISSION_DENIED surfaces", async () => {
    const before = kms.calls.length;
    kms.failNext(2, status.UNAVAILABLE, "Encrypt");
    const [enc] = await encrypt(randomBytes(16));
    expect(enc.verifiedPlaintextCrc32c).toBe(true);
    expect(kms.calls.slice(before).map((c) => c.code)).toEqual([
      status.UNAVAILABLE,
      status.UNAVAILABLE,
      status.OK,
    ]);

    kms.failNext(1, status.PERMISSION_DENIED);
    await expect(decrypt(enc.ciphertext as Uint8Array)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });
});
