// Where a restore that makes no repository of its own puts a snapshot's LFS objects: a folder
// beside a bundle file, objects beside a bundle in a bucket, or the git-lfs store of a repository
// on this machine that a restore pushed to. Always git-lfs's layout (`<aa>/<bb>/<oid>`), so the
// folder (or a copy of the bucket's prefix) goes into a clone's `.git/lfs/objects` as it is. Each
// object is streamed and checked against its oid on the way; a bad one is never written.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { BlobStore } from "../ports.js";
import { lfsObjectFile, lfsObjectsDir, lfsStoreFile } from "./paths.js";
import { checkedFromArchive, writeLfsObject } from "./restore.js";
import { storedLfsOids } from "./upload.js";

/** What went where: the restore outcome's `lfsObjects`. */
export interface LfsWritten {
  objects: number;
  bytes: number;
  /** The folder, or the bucket prefix ("restores/…/x.lfs/"). */
  target: string;
}

export interface LfsSink {
  /** Writes one object, checked against `oid` (`where` names its source for the error). */
  put(oid: string, body: Readable, where: string): Promise<void>;
  readonly written: LfsWritten;
}

/** Objects into `dir` laid out as git-lfs's store (a bundle file's `x.lfs/`, a repository's lfs/objects). */
export function folderSink(dir: string, target = dir): LfsSink {
  const written: LfsWritten = { objects: 0, bytes: 0, target };
  return {
    written,
    async put(oid, body, where) {
      await writeLfsObject(dir, oid, body, where);
      written.objects += 1;
      written.bytes += (await stat(lfsObjectFile(dir, oid))).size;
    },
  };
}

/** The key of an object under a bucket prefix: `<prefix>/<aa>/<bb>/<oid>`, as git-lfs lays out its store. */
export function lfsObjectKey(prefix: string, oid: string): string {
  return `${prefix}/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
}

/**
 * Objects into `store` under `prefix` (git-lfs's layout). A put is atomic and checked: an object
 * whose bytes are not its oid leaves nothing under its key. `keys` lists what was written, so a
 * failed restore can remove it.
 */
export function storeSink(
  store: BlobStore,
  prefix: string,
  metadata: Record<string, string>,
): LfsSink & { keys: string[] } {
  const written: LfsWritten = { objects: 0, bytes: 0, target: `${prefix}/` };
  const keys: string[] = [];
  return {
    written,
    keys,
    async put(oid, body, where) {
      const key = lfsObjectKey(prefix, oid);
      const info = await store.put(key, checkedFromArchive(oid, body, where), {
        metadata,
      });
      keys.push(key);
      written.objects += 1;
      written.bytes += info.size;
    },
  };
}

/** Every object of the git-lfs store of the repository at `gitDir` (a restore's scratch) into `sink`. */
export async function copyLfsStore(gitDir: string, sink: LfsSink): Promise<void> {
  for (const oid of await storedLfsOids(gitDir))
    await sink.put(oid, createReadStream(lfsStoreFile(gitDir, oid)), `the restored repository's LFS store`);
}

/**
 * A push restore to a repository on this machine (a path or file:// URL): its objects go into that
 * repository's own git-lfs store (a bare repository's lfs/objects, a work tree's .git/lfs/objects),
 * since no LFS server stands behind it. Undefined for any other remote (ssh, scp-like).
 */
export async function copyToLocalRepository(gitDir: string, url: string): Promise<LfsWritten | undefined> {
  const path = url.startsWith("file://")
    ? fileURLToPath(url)
    : /^[a-z][a-z0-9+.-]*:\/\/|^[^/]*:/i.test(url)
      ? undefined
      : url;
  if (!path) return undefined;
  const work = await stat(join(path, ".git")).catch(() => undefined);
  const sink = folderSink(lfsObjectsDir(work?.isDirectory() ? join(path, ".git") : path));
  await copyLfsStore(gitDir, sink);
  return sink.written;
}
