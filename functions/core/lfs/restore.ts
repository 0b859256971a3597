// LFS objects on the way out of a snapshot: into a restored repository's git-lfs store, or as
// streams for a caller that sends them elsewhere (a restore to GitHub). Every object is checked
// against its oid as it is read; an archive whose bytes differ is corrupt.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { snapshotChain } from "../chain.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError } from "../errors.js";
import type { Snapshot } from "../model.js";
import type { SnapshotIndex } from "../ports.js";
import { writeNewFile } from "../new-file.js";
import { readSnapshotArchive } from "../read-snapshot.js";
import { LfsObjectCheck } from "./check.js";
import { lfsObjectFile, lfsObjectsDir, lfsOidOf } from "./paths.js";

/** An object's bytes as read from an archive, checked against `oid` by the end of the stream. */
export function checkedFromArchive(oid: string, body: Readable, where: string): Readable {
  const check = new LfsObjectCheck(oid, undefined, where, (message) => new ArchiveCorruptError(message));
  body.on("error", (err) => check.destroy(err));
  return body.pipe(check);
}

/** Reads an archive's LFS object to its end, checking it (verification). */
export async function checkLfsObject(oid: string, body: Readable, where: string): Promise<void> {
  const checked = checkedFromArchive(oid, body, where);
  for await (const _ of checked); // the check hashes as bytes pass
}

/**
 * Writes an archive's LFS object into the git-lfs store of the repository at `gitDir`
 * (lfs/objects/<aa>/<bb>/<oid>), checked; the file appears whole or not at all.
 */
export function storeLfsObject(gitDir: string, oid: string, body: Readable, where: string): Promise<void> {
  return writeLfsObject(lfsObjectsDir(gitDir), oid, body, where);
}

/** Writes an archive's LFS object, checked, to `<objectsDir>/<aa>/<bb>/<oid>` (git-lfs's layout). */
export async function writeLfsObject(
  objectsDir: string,
  oid: string,
  body: Readable,
  where: string,
): Promise<void> {
  const file = lfsObjectFile(objectsDir, oid);
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await writeNewFile(partial, checkedFromArchive(oid, body, where));
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/** One LFS object of a snapshot: its oid and its bytes (checked against the oid as they are read). */
export interface LfsObjectStream {
  oid: string;
  /** Read it to the end before asking for the next one; the archive waits for it. */
  body: Readable;
  /** The snapshot whose archive holds it (the snapshot itself or one of its chain). */
  snapshotId: string;
}

/**
 * Every LFS object a snapshot's chain holds, oldest archive first, each once. For a restore that
 * sends them somewhere else (an LFS server): the caller consumes each body before taking the next.
 */
export async function* lfsObjectsOf(
  deps: Pick<Deps, "store" | "keys"> & { index: Pick<SnapshotIndex, "get"> },
  snapshot: Snapshot,
): AsyncGenerator<LfsObjectStream> {
  const seen = new Set<string>();
  for (const link of await snapshotChain(deps.index, snapshot)) {
    if (!link.lfs?.objects) continue;
    // The archive is read as a callback per file; hand each object over and wait for its reader.
    const handoff = new Handoff<LfsObjectStream>();
    let stopped = false;
    let current: Readable | undefined;
    const reading = readSnapshotArchive(deps, link, async (path, body) => {
      if (stopped) throw new Error("LFS objects no longer wanted");
      const oid = lfsOidOf(path);
      if (!oid || seen.has(oid)) return void body.resume();
      seen.add(oid);
      const checked = checkedFromArchive(oid, body, `the archive of ${link.id}`);
      const passed = (current = new PassThrough());
      checked.on("error", (err) => passed.destroy(err));
      await handoff.give({ oid, body: checked.pipe(passed), snapshotId: link.id }, passed);
    }).finally(() => handoff.close());
    reading.catch(() => undefined); // rethrown below, after the objects handed over so far
    try {
      for (let next = await handoff.take(); next; next = await handoff.take()) yield next;
    } finally {
      // A caller that stops early (its own write failed) stops the read too: the archive's
      // stream is closed rather than left waiting for a reader that is gone.
      stopped = true;
      if (current && !current.readableEnded) current.destroy(new Error("LFS object no longer wanted"));
    }
    await reading;
  }
}

/** Hands items from a callback to an iterator one at a time; `give` waits until the body is read. */
class Handoff<T> {
  private waiting?: (item: T | undefined) => void;
  private pending: T[] = [];
  private closed = false;

  async give(item: T, body: Readable): Promise<void> {
    const finished = new Promise<void>((resolve, reject) => {
      body.once("end", resolve);
      body.once("close", resolve);
      body.once("error", reject);
    });
    if (this.waiting) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake(item);
    } else this.pending.push(item);
    await finished;
  }

  take(): Promise<T | undefined> {
    if (this.pending.length) return Promise.resolve(this.pending.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.closed = true;
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.(undefined);
  }
}
