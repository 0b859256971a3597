// Prune against the cloud adapters: GcsBlobStore on fake-gcs-server and FirestoreSnapshotIndex on the
// Firestore emulator (a bucket and a Firestore root per copy, in a Firestore project of this file's
// own), with the scenario and tests every backend passes (prune-suite.ts).
//
// What these services cannot prove, and what stands in for it here:
// - A class change is a rewrite in Cloud Storage, and fake-gcs-server (v1.56.1) ignores the class of a
//   rewrite. As in test/contract/gcp.test.ts, the store below changes the class with a metadata patch,
//   which the fake honours and production does not; the rewrite itself (bytes, metadata and expiry kept)
//   is tested in gcp-adapters.test.ts. That Cloud Storage then reports the new class rests on its
//   documented behaviour.
// - createdAt is the service's timeCreated, which the fake stamps with the machine's clock and no
//   request can set, while this scenario runs from November 2025 to January 2026 on a manual clock.
//   The store below reports, as createdAt, the manual clock's reading when the object was written (or
//   rewritten into another class, which starts a new object in Cloud Storage): what the service would
//   have said had the run really happened then. The minimum-storage and orphan-grace rules are thus
//   checked against the times a scenario implies, not against timeCreated as the fake stamps it.
// - The bucket's lifecycle rule that deletes by customTime does not exist in the fake: only that prune
//   sets customTime is checked here; the rule itself is a Terraform test (test/infra/).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { FileMetadata } from "@google-cloud/storage";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { GcsBlobStore, type GcsBlobStoreOptions } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import type { Deps } from "../../functions/core/deps.js";
import { retainingStore, retentionOnWrite } from "../../functions/core/retention-lock.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import type {
  AuditEvent,
  AuditLog,
  BlobInfo,
  Clock,
  KeyWrapper,
  PutOptions,
} from "../../functions/core/ports.js";
import { firestoreClient, storageClient, uniqueName } from "../helpers/emulators.js";
import { listAll, type ManualClock, type PruneBackend, type PruneFixture } from "./prune-scenario.js";
import { pruneSuite } from "./prune-suite.js";

/** GcsBlobStore with the two stand-ins the header describes: class by metadata patch, createdAt on the clock. */
class ScenarioGcsStore extends GcsBlobStore {
  constructor(
    options: GcsBlobStoreOptions,
    private readonly scenarioClock: Clock,
    /** key -> when the scenario wrote (or rewrote) the object, ISO-8601. */
    readonly written: Map<string, string>,
  ) {
    super(options);
  }

  override async put(key: string, body: Readable, options?: PutOptions): Promise<BlobInfo> {
    const info = await super.put(key, body, options);
    this.written.set(key, this.scenarioClock.now().toISOString());
    return this.onClock(info);
  }

  override async stat(key: string): Promise<BlobInfo | undefined> {
    const info = await super.stat(key);
    return info && this.onClock(info);
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    for await (const info of super.list(prefix)) yield this.onClock(info);
  }

  override async setLifecycle(
    key: string,
    change: { expiresAt?: string; storageClass?: string },
  ): Promise<BlobInfo> {
    return this.onClock(await super.setLifecycle(key, change));
  }

  protected override async changeStorageClass(
    key: string,
    _meta: FileMetadata,
    storageClass: string,
  ): Promise<FileMetadata> {
    const [updated] = await this.storage.bucket(this.bucketName).file(key).setMetadata({ storageClass });
    this.written.set(key, this.scenarioClock.now().toISOString());
    return updated;
  }

  private onClock(info: BlobInfo): BlobInfo {
    const at = this.written.get(info.key);
    return at === undefined ? info : { ...info, createdAt: at };
  }
}

/** The audit log in memory, stamped like the others (production logs to Cloud Logging: LogAuditLog). */
class MemoryAuditLog implements AuditLog {
  readonly events: (AuditEvent & { at: string })[] = [];
  constructor(private readonly clock: Clock) {}
  async record(event: AuditEvent): Promise<void> {
    this.events.push({ at: this.clock.now().toISOString(), ...structuredClone(event) });
  }
}

interface GcsFixture extends PruneFixture {
  bucket: string;
  root: string;
  store: ScenarioGcsStore;
}

const storage = storageClient();
const firestore = firestoreClient({ projectId: uniqueName("prune") });

function gcsBackend(): PruneBackend<GcsFixture> {
  let base: GcsFixture | undefined;
  let keyDir: string | undefined;
  let keys: KeyWrapper | undefined;
  const made: GcsFixture[] = [];

  async function open(clock: ManualClock, written: Map<string, string>): Promise<GcsFixture> {
    const bucket = uniqueName("prune");
    await storage.createBucket(bucket);
    const root = `prune/${uniqueName("run")}`;
    // Small pages, so that prune's listings page as they would over a big bucket.
    const store = new ScenarioGcsStore({ storage, bucket, pageSize: 4 }, clock, written);
    const audit = new MemoryAuditLog(clock);
    const index = new FirestoreSnapshotIndex({ firestore, clock, root });
    // Archives are written under retention as the cloud wiring writes them (wiring.ts).
    const retaining = retainingStore(store, retentionOnWrite(DEFAULT_RETENTION_POLICY), clock);
    const deps: Deps = { store: retaining, index, keys: keys!, audit, clock };
    const fixture: GcsFixture = {
      deps,
      clock,
      bucket,
      root,
      store,
      auditEvents: async () => [...audit.events],
    };
    made.push(fixture);
    return fixture;
  }

  return {
    newClass: "STANDARD",
    async prepare(clock, _source, build) {
      keyDir = await mkdtemp(join(tmpdir(), "infinity-prune-keys-"));
      keys = await KeyFileWrapper.open(join(keyDir, "keys.json"), { create: true, clock });
      base = await open(clock, new Map());
      await build(base.deps);
    },
    async copy(clock) {
      const from = base!;
      const copy = await open(clock, new Map(from.store.written));
      // A server-side copy keeps the scenario's write times (the map above), bytes and metadata.
      for (const object of await listAll(from.store, "")) {
        await storage.bucket(from.bucket).file(object.key).copy(storage.bucket(copy.bucket).file(object.key));
      }
      for (const repo of await from.deps.index.repos()) {
        for (const record of await from.deps.index.list(repo)) await copy.deps.index.commit(record);
      }
      return copy;
    },
    async cleanup() {
      for (const { bucket, root } of made) {
        await storage.bucket(bucket).deleteFiles({ force: true });
        await storage.bucket(bucket).delete();
        await firestore.recursiveDelete(firestore.doc(root));
      }
      if (keyDir !== undefined) await rm(keyDir, { recursive: true, force: true });
      await firestore.terminate();
    },
  };
}

pruneSuite("Cloud Storage (fake-gcs-server) and Firestore (emulator)", gcsBackend());
