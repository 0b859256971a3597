// BlobStore over a folder, for local mode: one file per key under `root`, its info in a JSON
// sidecar at the same path under `.meta/` plus `.meta.json`, writes in progress under `.tmp/`.
// Objects are read-only files; one under retention (retainUntil) or on hold is never deleted.
import { randomBytes } from "node:crypto";
import { createWriteStream, fdatasync, type WriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import { hostname } from "node:os";
import * as path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileClosed } from "../../core/new-file.js";
import { z } from "zod";
import { assertValidBlobKey } from "../../core/blob-key.js";
import {
  BackupError,
  ConflictError,
  NotFoundError,
  RetainedError,
  UserInputError,
} from "../../core/errors.js";
import { firstToFail } from "../../core/first-error.js";
import { processAlive } from "../../core/scratch.js";
import {
  systemClock,
  type BlobInfo,
  type BlobStore,
  type Clock,
  type LifecycleChange,
  type PutOptions,
} from "../../core/ports.js";

const TMP_DIR = ".tmp";
const META_DIR = ".meta";
/**
 * Sidecars end in `.meta.json`: named like their object, they ended in `.ibk` and looked like
 * archives. Stores written before keep working: a sidecar under the object's own name is read
 * when there is no new one, and replaced by a new one at the next lifecycle change.
 */
const SIDECAR_SUFFIX = ".meta.json";
/** A .tmp file this old belongs to a put that died; younger ones may be another process's. */
const STALE_TMP_MS = 60 * 60 * 1000;
/** This process's .tmp files start with this; another host's are judged by age alone. */
const TMP_PREFIX = `${hostname().replace(/[^A-Za-z0-9-]/g, "_")}.${process.pid}.`;

/** Whether a .tmp file was written by a process of this host that is gone (killed mid-put). */
function deadWriter(name: string): boolean {
  const [host, pid] = name.split(".");
  return host === TMP_PREFIX.split(".")[0] && /^\d+$/.test(pid ?? "") && !processAlive(Number(pid));
}
/** NAME_MAX of common file systems: a longer key segment cannot be a file name. */
const MAX_SEGMENT_BYTES = 255;
const PRIVATE_DIR = { recursive: true, mode: 0o700 } as const;
const READ_CHUNK = 1 << 20;
/** A put flushes what it wrote to disk every this many bytes (see syncingAsWritten). */
const SYNC_EVERY = 32 << 20;

const sidecarSchema = z.object({
  createdAt: z.string(),
  storageClass: z.string(),
  expiresAt: z.string().optional(),
  retainUntil: z.string().optional(),
  held: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()),
});
type Sidecar = z.infer<typeof sidecarSchema>;

export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly clock: Clock;
  private ready: Promise<void> | undefined;
  /**
   * Changes to the tree (publish, delete, lifecycle) run one at a time in this process: a put that
   * loses a race never touches the winner's sidecar, and a delete never prunes the folder a put
   * is about to link into. They are short; the streaming of bodies runs in parallel.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: { root: string; clock?: Clock }) {
    this.root = path.resolve(options.root);
    this.clock = options.clock ?? systemClock;
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<BlobInfo> {
    this.checkKey(key);
    const metadata = { ...options.metadata };
    if (Object.values(metadata).some((v) => typeof v !== "string")) {
      throw new UserInputError(`metadata of blob ${key} must map strings to strings`);
    }
    const retainUntil = isoTime(options.retainUntil, "retainUntil");
    await this.open();
    const tmp = this.tmpPath();
    const what = `could not store blob ${key} in ${this.root}`;
    try {
      await writeBody(tmp, body, what);
      return await translate(what, async () => {
        // Read-only before it is visible: an archive is never written again in place.
        await fs.chmod(tmp, 0o444);
        return this.serialized(() => this.publish(key, tmp, metadata, retainUntil));
      });
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async get(key: string): Promise<Readable> {
    this.checkKey(key);
    const handle = await translate(`could not open blob ${key}`, () =>
      unlessMissing(fs.open(this.objectPath(key), "r")),
    );
    // Linux lets a folder be opened for reading; a folder is not an object.
    if (handle === undefined || !(await handle.stat()).isFile()) {
      await handle?.close();
      throw new NotFoundError(`blob ${key} does not exist in ${this.root}`);
    }
    // Reads of 1 MiB, not the default 64 KiB: each read is a trip through libuv's thread pool,
    // which cost more than the decryption of the bytes it brought (restore, verify).
    return handle.createReadStream({ highWaterMark: READ_CHUNK });
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    this.checkKey(key);
    return translate(`could not stat blob ${key}`, () => this.info(key));
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    if (typeof prefix !== "string") throw new UserInputError("list prefix must be a string");
    await this.open();
    try {
      yield* this.walk("", prefix);
    } catch (err) {
      throw translated(err, `could not list blobs under ${JSON.stringify(prefix)} in ${this.root}`);
    }
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key);
    await translate(`could not delete blob ${key}`, () =>
      this.serialized(async () => {
        const current = await this.info(key);
        if (current?.held) throw new RetainedError(`blob ${key} is on legal hold; it is not deleted`);
        if (current?.retainUntil && Date.parse(current.retainUntil) > this.clock.now().getTime())
          throw new RetainedError(`blob ${key} is retained until ${current.retainUntil}; it is not deleted`);
        // The object first: once it is gone nobody sees it, and a leftover sidecar is harmless.
        await fs.rm(this.objectPath(key), { force: true });
        await fs.rm(this.sidecarPath(key), { force: true });
        await removeFile(this.legacySidecarPath(key));
        // Empty folders left behind would block a later put of a key named like the folder.
        await pruneEmptyFolders(path.dirname(this.objectPath(key)), this.root);
        await pruneEmptyFolders(path.dirname(this.sidecarPath(key)), path.join(this.root, META_DIR));
      }),
    );
  }

  async setLifecycle(key: string, change: LifecycleChange): Promise<BlobInfo> {
    this.checkKey(key);
    const expiresAt = change.expiresAt === undefined ? undefined : Date.parse(change.expiresAt);
    if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
      throw new UserInputError(`expiresAt ${JSON.stringify(change.expiresAt)} is not an ISO-8601 time`);
    }
    const retainUntil = isoTime(change.retainUntil, "retainUntil");
    if (change.storageClass !== undefined && !change.storageClass) {
      throw new UserInputError(`storageClass for blob ${key} must be a non-empty string`);
    }
    await this.open();
    return translate(`could not set the lifecycle of blob ${key}`, () =>
      this.serialized(async () => {
        const current = await this.info(key);
        if (current === undefined) throw new NotFoundError(`blob ${key} does not exist in ${this.root}`);
        const { key: _key, size, ...sidecar } = { storageClass: "LOCAL", ...current };
        if (change.storageClass !== undefined) sidecar.storageClass = change.storageClass;
        // Expiry only moves forward: an earlier value (a stale or replayed prune) is ignored.
        const kept = sidecar.expiresAt === undefined ? -Infinity : Date.parse(sidecar.expiresAt);
        if (expiresAt !== undefined && expiresAt > kept)
          sidecar.expiresAt = new Date(expiresAt).toISOString();
        // Retention too: a request can lengthen it, never shorten it.
        if (retainUntil !== undefined && retainUntil > (sidecar.retainUntil ?? ""))
          sidecar.retainUntil = retainUntil;
        if (change.hold === true) sidecar.held = true;
        if (change.hold === false) delete sidecar.held;
        await this.writeSidecar(key, sidecar);
        return { key, size, ...sidecar };
      }),
    );
  }

  /** Makes the fully written `tmp` visible under `key`, or throws ConflictError. */
  private async publish(
    key: string,
    tmp: string,
    metadata: Record<string, string>,
    retainUntil: string | undefined,
  ): Promise<BlobInfo> {
    const target = this.objectPath(key);
    const size = (await fs.stat(tmp)).size;
    await makeParent(key, target);
    if ((await unlessMissing(fs.lstat(target))) !== undefined) throw conflict(key);
    const sidecar: Sidecar = {
      createdAt: this.clock.now().toISOString(),
      storageClass: "LOCAL",
      ...(retainUntil ? { retainUntil } : {}),
      metadata,
    };
    // The sidecar goes first so that the object is never visible without its info. A sidecar
    // left by a put that died before the link is simply replaced by the next put of the key.
    await this.writeSidecar(key, sidecar);
    // link, unlike rename, refuses to replace: the file system has the last word on conflicts.
    await fs.link(tmp, target).catch((err) => Promise.reject(code(err) === "EEXIST" ? conflict(key) : err));
    return { key, size, ...sidecar };
  }

  private async writeSidecar(key: string, sidecar: Sidecar): Promise<void> {
    const tmp = this.tmpPath();
    try {
      const handle = await fs.open(tmp, "wx", 0o600);
      try {
        await handle.writeFile(JSON.stringify(sidecar));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await makeParent(key, this.sidecarPath(key));
      await fs.rename(tmp, this.sidecarPath(key));
    } finally {
      await fs.rm(tmp, { force: true });
    }
    // The new sidecar is in place; one under the old name is now stale.
    await removeFile(this.legacySidecarPath(key));
  }

  private async info(key: string): Promise<BlobInfo | undefined> {
    const stats = await unlessMissing(fs.lstat(this.objectPath(key)));
    if (stats === undefined || !stats.isFile()) return undefined;
    let file = this.sidecarPath(key);
    let text = await unlessMissing(fs.readFile(file, "utf8"));
    if (text === undefined) {
      // A store written before sidecars had their own suffix.
      file = this.legacySidecarPath(key);
      const legacy = await unlessMissing(fs.lstat(file));
      if (legacy?.isFile()) text = await unlessMissing(fs.readFile(file, "utf8"));
    }
    // A file copied into the folder by hand has no sidecar: it is still an object.
    const stamp = { createdAt: stats.mtime.toISOString(), storageClass: "LOCAL", metadata: {} };
    try {
      return {
        key,
        size: stats.size,
        ...(text === undefined ? stamp : sidecarSchema.parse(JSON.parse(text))),
      };
    } catch (err) {
      throw new BackupError(`metadata of blob ${key} in ${file} is damaged`, { cause: err });
    }
  }

  /** Yields the objects under folder `dirKey` ("" or "a/b/") whose keys start with `prefix`. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<BlobInfo> {
    const entries = await unlessMissing(fs.readdir(path.join(this.root, dirKey), { withFileTypes: true }));
    // A folder sorts as "name/", so that "a-b" < "a/x" < "a0", exactly as the keys compare.
    const items = (entries ?? [])
      .filter((e) => (e.isFile() || e.isDirectory()) && !(dirKey === "" && isReserved(e.name)))
      .map((e) => ({ key: dirKey + e.name + (e.isDirectory() ? "/" : ""), isDir: e.isDirectory() }))
      .map((item) => ({ ...item, order: Buffer.from(item.key, "utf8") }))
      .sort((a, b) => Buffer.compare(a.order, b.order));
    for (const item of items) {
      if (item.isDir) {
        if (item.key.startsWith(prefix) || prefix.startsWith(item.key)) yield* this.walk(item.key, prefix);
      } else if (item.key.startsWith(prefix)) {
        const info = await this.info(item.key);
        if (info !== undefined) yield info; // else deleted while we walked
      }
    }
  }

  private open(): Promise<void> {
    this.ready ??= translate(`could not open the blob folder ${this.root}`, async () => {
      await fs.mkdir(path.join(this.root, TMP_DIR), PRIVATE_DIR);
      await fs.mkdir(path.join(this.root, META_DIR), PRIVATE_DIR);
      // File times come from the OS clock, so staleness is judged by it, not the injected clock.
      const cutoff = Date.now() - STALE_TMP_MS;
      for (const name of await fs.readdir(path.join(this.root, TMP_DIR))) {
        const file = path.join(this.root, TMP_DIR, name);
        const stats = await unlessMissing(fs.lstat(file));
        // Best effort: a read-only copy of the folder is still read (restore from a read-only disk).
        if ((stats?.mtimeMs ?? Infinity) < cutoff || deadWriter(name))
          await fs.rm(file, { force: true, recursive: true }).catch(() => undefined);
      }
    }).catch((err: unknown) => {
      this.ready = undefined; // the next call tries again
      throw err;
    });
    return this.ready;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkKey(key: string): void {
    assertValidBlobKey(key);
    const segments = key.split("/");
    const invalid = (problem: string) =>
      new UserInputError(`invalid blob key ${JSON.stringify(key)}: ${problem}`);
    if (isReserved(segments[0] ?? "")) throw invalid(`"${segments[0]}" is reserved by the folder store`);
    if (segments.some((s) => Buffer.byteLength(s, "utf8") > MAX_SEGMENT_BYTES)) {
      throw invalid(`a segment is over ${MAX_SEGMENT_BYTES} bytes, too long for a file name`);
    }
  }

  private objectPath(key: string): string {
    return path.join(this.root, ...key.split("/"));
  }

  /** Same shape as the object tree, so any set of keys that fits as objects fits as sidecars. */
  private sidecarPath(key: string): string {
    return path.join(this.root, META_DIR, ...key.split("/")) + SIDECAR_SUFFIX;
  }

  /**
   * Where stores written before the suffix keep a sidecar: the object's own name. (Only a key
   * that itself ends in `.meta.json` could meet another key's new sidecar there; no key we write does.)
   */
  private legacySidecarPath(key: string): string {
    return path.join(this.root, META_DIR, ...key.split("/"));
  }

  /** "<host>.<pid>.<random>": a later run on this host can tell a dead writer's file at once. */
  private tmpPath(): string {
    return path.join(this.root, TMP_DIR, `${TMP_PREFIX}${randomBytes(12).toString("hex")}`);
  }
}

/**
 * Writes `body` into the new file `tmp`. The body's own failure is the caller's and passes on as it
 * is; a failure of the file (a full disk) is translated, naming the folder and the problem.
 */
async function writeBody(tmp: string, body: Readable, what: string): Promise<void> {
  // flush: fsync before close, so that a resolved put survives a power cut.
  const out = createWriteStream(tmp, { flags: "wx", mode: 0o600, flush: true });
  const failedFirst = firstToFail({ body, out });
  await pipeline(body, syncingAsWritten(out), out).catch(async (err: unknown) => {
    // Rejecting before `out` has closed would let a pending open create the file after put removed it.
    await fileClosed(out);
    throw failedFirst() === "body" ? err : translated(err, what);
  });
}

async function makeParent(key: string, file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), PRIVATE_DIR).catch((err) => {
    // A folder cannot hold both "a" and "a/b" (Cloud Storage can): the first one wins.
    if (code(err) !== "EEXIST" && code(err) !== "ENOTDIR") throw err;
    throw new ConflictError(`blob ${key} cannot be stored here: a key above it is itself an object`);
  });
}

/** Removes `file` if it is a file; under `.meta/` the old name of a sidecar may be a folder. */
async function removeFile(file: string): Promise<void> {
  if ((await unlessMissing(fs.lstat(file)))?.isFile()) await fs.rm(file, { force: true });
}

async function pruneEmptyFolders(folder: string, stopAt: string): Promise<void> {
  for (let dir = folder; dir.startsWith(stopAt + path.sep); dir = path.dirname(dir)) {
    try {
      await fs.rmdir(dir);
    } catch {
      return; // not empty (or already gone): then the folders above are not empty either
    }
  }
}

/** An ISO-8601 time given by a caller, normalized; UserInputError naming the field when it is not one. */
function isoTime(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new UserInputError(`${field} ${JSON.stringify(value)} is not an ISO-8601 time`);
  return new Date(at).toISOString();
}

function conflict(key: string): ConflictError {
  return new ConflictError(`blob ${key} already exists; objects are never overwritten`);
}

function isReserved(name: string): boolean {
  return name === TMP_DIR || name === META_DIR;
}

function code(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}

function unlessMissing<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch((err: unknown) => {
    if (code(err) === "ENOENT" || code(err) === "ENOTDIR") return undefined;
    throw err;
  });
}

async function translate<T>(what: string, work: () => Promise<T>): Promise<T> {
  return work().catch((err: unknown) => Promise.reject(translated(err, what)));
}

/** What a person reads for a file system error that means the disk, not the program. */
const DISK_PROBLEMS: Record<string, string> = {
  ENOSPC: "no space left on device (ENOSPC)",
  EDQUOT: "disk quota exceeded (EDQUOT)",
};

/** Our own errors and the body's own errors pass through; file system errors get our type. */
function translated(err: unknown, what: string): unknown {
  if (err instanceof BackupError || typeof err !== "object" || err === null || !("syscall" in err))
    return err;
  const problem = DISK_PROBLEMS[code(err) ?? ""] ?? code(err) ?? "I/O error";
  return new BackupError(`${what}: ${problem}`, { cause: err });
}

/**
 * Passes bytes through to `out` and has the disk take them as they come (fdatasync every
 * SYNC_EVERY bytes, beside the writes): the fsync when `out` closes then waits for the last few
 * MiB instead of the whole object (half a second for 300 MiB). Durability still rests on that
 * final fsync alone.
 */
function syncingAsWritten(out: WriteStream): Transform {
  let fd: number | undefined;
  out.once("open", (opened: number) => (fd = opened));
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      unsynced += chunk.length;
      if (unsynced >= SYNC_EVERY && !syncing && fd !== undefined) {
        unsynced = 0;
        const on = fd;
        syncing = new Promise<void>((resolve) => fdatasync(on, () => resolve())).then(() => {
          syncing = undefined;
        });
      }
      done(null, chunk);
    },
    flush(done) {
      // Never let the file close under a flush still running on its descriptor.
      void (syncing ?? Promise.resolve()).then(() => done());
    },
  });
}
