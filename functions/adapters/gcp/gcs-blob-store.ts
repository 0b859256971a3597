// BlobStore over one Cloud Storage bucket: create-only resumable uploads, streaming reads, paged
// listings, and the lifecycle attributes prune sets (customTime, storage class), object retention
// (retain-until, only ever later) and the legal hold (a temporary hold).
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { CopyOptions, File, FileMetadata, Storage } from "@google-cloud/storage";
import { assertValidBlobKey } from "../../core/blob-key.js";
import {
  BackupError,
  ConflictError,
  NotFoundError,
  RetainedError,
  UserInputError,
} from "../../core/errors.js";
import { firstToFail } from "../../core/first-error.js";
import type { BlobInfo, BlobStore, Clock, LifecycleChange, PutOptions } from "../../core/ports.js";
import { detailOf, errorReason, fromHttp, httpStatus } from "./errors.js";

/** Cloud Storage's reason for refusing to delete or replace an object before its retention ends. */
const RETENTION_REFUSALS = new Set(["retentionPolicyNotMet"]);

/** Bytes per resumable-upload request: one chunk is held in memory so a failed request can resend it. */
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Resumable chunks must be multiples of 256 KiB (Cloud Storage's rule). */
const CHUNK_UNIT = 256 * 1024;
/** How often setLifecycle re-reads after losing a race with another writer of the same object. */
const LIFECYCLE_ATTEMPTS = 5;

export interface GcsBlobStoreOptions {
  /** A configured client; who builds it (credentials, endpoint) is the caller's choice. */
  storage: Storage;
  bucket: string;
  /** Bytes per upload request (a multiple of 256 KiB); default 8 MiB. */
  chunkBytes?: number;
  /** Objects per listing request; default 1000 (the service's maximum). */
  pageSize?: number;
  /**
   * Accepted for symmetry with the other stores, and unused: createdAt is the service's own
   * timeCreated, the one its lifecycle rules count age from.
   */
  clock?: Clock;
  /**
   * The mode of the retention set on objects: "Unlocked" (default) lets only a holder of
   * storage.objects.overrideUnlockedRetention (no account of ours) shorten it; "Locked" lets
   * nobody, ever. The bucket must have object retention enabled (infra/storage.tf).
   */
  retentionMode?: RetentionMode;
}

export type RetentionMode = "Unlocked" | "Locked";

/** The object fields of a retention and a hold, as the JSON API takes and returns them. */
export function retentionFields(
  retainUntil: string | undefined,
  mode: RetentionMode,
): { retention?: { mode: RetentionMode; retainUntilTime: string } } {
  return retainUntil === undefined ? {} : { retention: { mode, retainUntilTime: retainUntil } };
}

export class GcsBlobStore implements BlobStore {
  readonly bucketName: string;
  protected readonly storage: Storage;
  private readonly chunkBytes: number;
  private readonly pageSize: number;
  private readonly retentionMode: RetentionMode;

  constructor(options: GcsBlobStoreOptions) {
    this.retentionMode = options.retentionMode ?? "Unlocked";
    this.storage = options.storage;
    this.bucketName = options.bucket;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.pageSize = options.pageSize ?? 1000;
    if (this.chunkBytes <= 0 || this.chunkBytes % CHUNK_UNIT !== 0) {
      throw new UserInputError(
        `chunkBytes must be a positive multiple of ${CHUNK_UNIT}, got ${this.chunkBytes}`,
      );
    }
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    assertValidBlobKey(key);
    const metadata = { ...options.metadata };
    if (Object.values(metadata).some((v) => typeof v !== "string")) {
      throw new UserInputError(`metadata of blob ${key} must map strings to strings`);
    }
    const retainUntil = isoTime(options.retainUntil, "retainUntil");
    const file = this.file(key);
    // ifGenerationMatch 0: the object is created only if no live object has the name, checked
    // by the service when the upload is finalized. The upload is finalized only when the body
    // ends; a body that fails leaves an unfinished session, never an object.
    const upload = file.createWriteStream({
      resumable: true,
      chunkSize: this.chunkBytes,
      validation: "crc32c",
      preconditionOpts: { ifGenerationMatch: 0 },
      // Retention from the first byte: the object is never deletable before retainUntil.
      metadata: {
        contentType: "application/octet-stream",
        metadata,
        ...retentionFields(retainUntil, this.retentionMode),
      },
    });
    // The pipeline hands a failed upload's error to the body too: whose it is, the first to fail says.
    const failedFirst = firstToFail({ body, upload });
    try {
      await pipeline(body, upload);
    } catch (err) {
      if (failedFirst() === "body") throw err; // the caller's own failure
      throw this.uploadError(key, err);
    }
    // The finished upload leaves the object's resource on the File: no second request.
    return toInfo(key, file.metadata);
  }

  async get(key: string): Promise<Readable> {
    assertValidBlobKey(key);
    const meta = await this.metadataOf(key);
    if (meta === undefined) throw this.missing(key);
    // Pinned to the generation just seen, so the bytes read are the object stat'ed, never a newer one.
    const source = this.file(key, meta.generation).createReadStream({ validation: "crc32c" });
    const out = new PassThrough();
    source.once("error", (err) =>
      out.destroy(fromHttp(err, `could not read blob ${key} from gs://${this.bucketName}`)),
    );
    out.once("close", () => source.destroy()); // a reader that stops early ends the download
    source.pipe(out);
    return out;
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    assertValidBlobKey(key);
    const meta = await this.metadataOf(key);
    return meta === undefined ? undefined : toInfo(key, meta);
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    if (typeof prefix !== "string") throw new UserInputError("list prefix must be a string");
    let pageToken: string | undefined;
    do {
      let files: File[];
      try {
        const [page, next] = await this.storage.bucket(this.bucketName).getFiles({
          prefix,
          autoPaginate: false,
          maxResults: this.pageSize,
          ...(pageToken === undefined ? {} : { pageToken }),
        });
        files = page;
        pageToken = (next as { pageToken?: string } | null)?.pageToken || undefined;
      } catch (err) {
        // A listing has no object to miss: its 404 is the bucket's, which no retry brings back.
        const what = `could not list blobs under ${JSON.stringify(prefix)} in gs://${this.bucketName}`;
        if (httpStatus(err) === 404)
          throw new BackupError(`${what}: no such bucket`, { cause: err, permanent: true });
        throw fromHttp(err, what);
      }
      // The service lists in name order (UTF-8 bytes), which is the key order the port promises.
      for (const file of files) yield toInfo(file.name, file.metadata);
    } while (pageToken !== undefined);
  }

  async delete(key: string): Promise<void> {
    assertValidBlobKey(key);
    try {
      await this.file(key).delete({ ignoreNotFound: true });
    } catch (err) {
      // 403 on an object under retention or hold: said as such, and never forced.
      if (httpStatus(err) === 403) {
        const meta = await this.metadataOf(key).catch(() => undefined);
        const info = meta && toInfo(key, meta);
        if (info?.held || (info?.retainUntil && Date.parse(info.retainUntil) > Date.now()))
          throw new RetainedError(
            `blob ${key} in gs://${this.bucketName} is ${info.held ? "on legal hold" : `retained until ${info.retainUntil}`}; it is not deleted`,
            { cause: err },
          );
        // The service's own word, where the metadata did not say (a bucket's retention policy).
        if (RETENTION_REFUSALS.has(errorReason(err) ?? ""))
          throw new RetainedError(
            `blob ${key} in gs://${this.bucketName} is under retention or hold (${detailOf(err)}); it is not deleted`,
            { cause: err },
          );
      }
      throw fromHttp(err, `could not delete blob ${key} from gs://${this.bucketName}`);
    }
  }

  async setLifecycle(key: string, change: LifecycleChange): Promise<BlobInfo> {
    assertValidBlobKey(key);
    const expiresAt = change.expiresAt === undefined ? undefined : Date.parse(change.expiresAt);
    if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
      throw new UserInputError(`expiresAt ${JSON.stringify(change.expiresAt)} is not an ISO-8601 time`);
    }
    if (change.storageClass !== undefined && !change.storageClass) {
      throw new UserInputError(`storageClass for blob ${key} must be a non-empty string`);
    }
    const retainUntil = isoTime(change.retainUntil, "retainUntil");
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyLifecycle(key, expiresAt, change.storageClass, retainUntil, change.hold);
      } catch (err) {
        // Another writer changed the object between our read and our write: read again.
        if (!(err instanceof ConflictError) || attempt >= LIFECYCLE_ATTEMPTS) throw err;
      }
    }
  }

  /** One read-then-conditional-write pass; ConflictError when the object changed underneath. */
  private async applyLifecycle(
    key: string,
    expiresAt?: number,
    storageClass?: string,
    retainUntil?: string,
    hold?: boolean,
  ): Promise<BlobInfo> {
    let meta = await this.metadataOf(key);
    if (meta === undefined) throw this.missing(key);
    // customTime only moves forward: the service refuses an earlier value, and a stale or replayed
    // prune must not shorten a life anyway, so the later of the two is what the object keeps.
    const keepUntil = Math.max(timeOf(meta.customTime), expiresAt ?? -Infinity);
    if (storageClass !== undefined && storageClass !== meta.storageClass) {
      meta = await this.changeStorageClass(key, meta, storageClass, keepUntil);
    }
    const patch = lifecyclePatch(meta, keepUntil, retainUntil, hold, this.retentionMode);
    if (Object.keys(patch).length) {
      try {
        // Conditional on the metageneration read above, so two prunes never interleave.
        await this.file(key).setMetadata(patch, { ifMetagenerationMatch: meta.metageneration });
      } catch (err) {
        throw fromHttp(err, `could not set the lifecycle of blob ${key} in gs://${this.bucketName}`);
      }
      // Read back rather than trust the patch's answer: what the object holds now is the answer.
      const after = await this.metadataOf(key);
      if (after === undefined) throw this.missing(key);
      meta = after;
    }
    return toInfo(key, meta);
  }

  /**
   * Rewrites the object into `storageClass` (a new generation, conditional on the one read) and
   * returns its new metadata. The request names everything the object must keep, so nothing relies
   * on how the service fills fields left out; should customTime still go missing, the caller puts
   * it back (an object without one is never deleted by the bucket's lifecycle rule).
   */
  protected async changeStorageClass(
    key: string,
    meta: FileMetadata,
    storageClass: string,
    keepUntil: number,
  ): Promise<FileMetadata> {
    const rewrite: CopyOptions & { storageClass: string; customTime?: string } = {
      storageClass,
      contentType: meta.contentType ?? "application/octet-stream",
      metadata: stringMetadata(meta.metadata),
      preconditionOpts: { ifGenerationMatch: meta.generation },
    };
    if (Number.isFinite(keepUntil)) rewrite.customTime = new Date(keepUntil).toISOString();
    // A rewrite makes a new generation: it must be retained and held as the one it replaces.
    if (meta.retention?.retainUntilTime)
      Object.assign(rewrite, {
        retention: {
          mode: meta.retention.mode ?? this.retentionMode,
          retainUntilTime: meta.retention.retainUntilTime,
        },
      });
    if (meta.temporaryHold) Object.assign(rewrite, { temporaryHold: true });
    try {
      await this.file(key, meta.generation).copy(this.file(key), rewrite);
    } catch (err) {
      throw fromHttp(err, `could not change the storage class of blob ${key} in gs://${this.bucketName}`);
    }
    const after = await this.metadataOf(key);
    if (after === undefined) throw this.missing(key);
    return after;
  }

  private uploadError(key: string, err: unknown): BackupError {
    const where = `blob ${key} in gs://${this.bucketName}`;
    if (httpStatus(err) === 412) {
      return new ConflictError(`${where} already exists; objects are never overwritten`, { cause: err });
    }
    // The client compares the stored CRC32C with its own after the upload, and deletes a mismatch.
    if ((err as { code?: unknown } | undefined)?.code === "FILE_NO_UPLOAD") {
      return new BackupError(`${where} arrived damaged and was removed; retry`, { cause: err });
    }
    return fromHttp(err, `could not store ${where}`);
  }

  private async metadataOf(key: string): Promise<FileMetadata | undefined> {
    try {
      const [meta] = await this.file(key).getMetadata();
      return meta;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw fromHttp(err, `could not stat blob ${key} in gs://${this.bucketName}`);
    }
  }

  private file(key: string, generation?: string | number): File {
    const bucket = this.storage.bucket(this.bucketName);
    return generation === undefined ? bucket.file(key) : bucket.file(key, { generation });
  }

  private missing(key: string): NotFoundError {
    return new NotFoundError(`blob ${key} does not exist in gs://${this.bucketName}`);
  }
}

/**
 * The metadata patch that brings `meta` to the requested lifecycle: customTime and retention only
 * move forward (the service refuses an earlier customTime, and shortening a retention needs a
 * permission none of our accounts has), the hold is set or released. Empty when nothing changes.
 */
export function lifecyclePatch(
  meta: Pick<FileMetadata, "customTime" | "retention" | "temporaryHold">,
  keepUntil: number,
  retainUntil: string | undefined,
  hold: boolean | undefined,
  mode: RetentionMode,
): Partial<FileMetadata> {
  const patch: Partial<FileMetadata> = {};
  if (Number.isFinite(keepUntil) && keepUntil > timeOf(meta.customTime))
    patch.customTime = new Date(keepUntil).toISOString();
  const current = meta.retention?.retainUntilTime;
  if (retainUntil !== undefined && Date.parse(retainUntil) > timeOf(current)) {
    // A Locked retention stays Locked; an Unlocked one takes the store's mode.
    const kept = meta.retention?.mode === "Locked" ? "Locked" : mode;
    patch.retention = { mode: kept, retainUntilTime: retainUntil };
  }
  if (hold !== undefined && hold !== (meta.temporaryHold === true)) patch.temporaryHold = hold;
  return patch;
}

/** An ISO-8601 time given by a caller, normalized; UserInputError naming the field when it is not one. */
function isoTime(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new UserInputError(`${field} ${JSON.stringify(value)} is not an ISO-8601 time`);
  return new Date(at).toISOString();
}

export function toInfo(key: string, meta: FileMetadata): BlobInfo {
  const info: BlobInfo = {
    key,
    size: Number(meta.size ?? 0),
    createdAt: new Date(meta.timeCreated ?? 0).toISOString(),
    metadata: stringMetadata(meta.metadata),
  };
  if (meta.storageClass) info.storageClass = meta.storageClass;
  if (meta.customTime) info.expiresAt = new Date(meta.customTime).toISOString();
  if (meta.retention?.retainUntilTime)
    info.retainUntil = new Date(meta.retention.retainUntilTime).toISOString();
  // A bucket's retention policy retains the object too, until this time: the later of the two counts.
  if (meta.retentionExpirationTime && timeOf(meta.retentionExpirationTime) > timeOf(info.retainUntil))
    info.retainUntil = new Date(meta.retentionExpirationTime).toISOString();
  if (meta.temporaryHold || meta.eventBasedHold) info.held = true;
  return info;
}

/** Custom metadata as plain strings (the service stores strings; null marks a deleted key). */
function stringMetadata(metadata: FileMetadata["metadata"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) if (value != null) out[name] = String(value);
  return out;
}

/** An expiry as milliseconds; none is -Infinity, earlier than any. */
function timeOf(iso: string | undefined): number {
  return iso ? Date.parse(iso) : -Infinity;
}
