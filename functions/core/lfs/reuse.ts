// A new full snapshot (a chain restarting) copies the LFS objects the repository's latest chain
// already holds from those archives instead of downloading them again from the LFS server. The
// copy is stored in the new archive, so the new chain stays self-contained: prune may delete the
// old chain, and every kept snapshot still restores alone. Each object is streamed from the old
// archive (decrypted, checked against its oid there) through the new archive's own check (oid and
// size). An old archive that cannot be read (missing, shredded, corrupt) leaves its objects to the
// LFS server; one that breaks mid-object has that object's rest downloaded, its bytes so far kept.
import { Readable } from "node:stream";
import type { ArchiveFile } from "../archive/writer.js";
import type { Deps } from "../deps.js";
import type { Snapshot } from "../model.js";
import type { SnapshotIndex } from "../ports.js";
import { LfsObjectCheck } from "./check.js";
import { LfsObjectError } from "./errors.js";
import { lfsObjectPath } from "./paths.js";
import type { LfsPointer } from "./pointer.js";
import { lfsObjectsOf } from "./restore.js";
import type { LfsObjectSource } from "./source.js";

/** Where a full snapshot may copy LFS objects from: the latest snapshot of its repository, and its chain. */
export interface LfsReuse {
  deps: Pick<Deps, "store" | "keys" | "keyRecords"> & { index: Pick<SnapshotIndex, "get"> };
  latest: Snapshot;
}

/** What the copying did: objects and bytes taken from older archives, not downloaded. */
export interface LfsReuseCount {
  objects: number;
  bytes: number;
}

/**
 * The archive files of the objects in `wanted` that the latest chain holds, in the order its
 * archives hold them (oldest archive first, oid order within one). Each one copied is removed from
 * `wanted`; what is left is for the LFS server. Never rejects for an old archive's fault: its
 * objects are simply left in `wanted`.
 */
export async function* reusedLfsFiles(
  reuse: LfsReuse,
  wanted: Map<string, LfsPointer>,
  source: LfsObjectSource,
  count: LfsReuseCount,
  signal?: AbortSignal,
): AsyncGenerator<ArchiveFile> {
  if (!wanted.size) return;
  try {
    for await (const { oid, body, snapshotId } of lfsObjectsOf(reuse.deps, reuse.latest)) {
      const pointer = wanted.get(oid);
      if (!pointer) {
        body.resume();
        continue;
      }
      wanted.delete(oid);
      const where = `the archive of ${snapshotId}`;
      const check = new LfsObjectCheck(oid, pointer.size, where);
      let downloaded = false;
      const bytes = restartable(body, pointer, where, source, signal, () => (downloaded = true));
      bytes.on("error", (err) => check.destroy(err));
      yield { path: lfsObjectPath(oid), open: () => bytes.pipe(check) };
      if (!downloaded) {
        count.objects += 1;
        count.bytes += pointer.size;
      }
      if (!wanted.size) return;
    }
  } catch {
    // The chain could not be read (further): whatever it did not give comes from the LFS server.
    if (signal?.aborted) throw signal.reason;
  }
}

/**
 * An object's bytes from an old archive; if that archive breaks before the object's end, the
 * object is downloaded from `source` and its first bytes (already passed on) skipped. The new
 * archive's check still sees every byte: a join that is not the oid's bytes is refused.
 */
function restartable(
  body: Readable,
  pointer: LfsPointer,
  where: string,
  source: LfsObjectSource,
  signal: AbortSignal | undefined,
  onDownload: () => void,
): Readable {
  return Readable.from(
    (async function* () {
      let sent = 0;
      let broke: Error;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          sent += chunk.length;
          yield chunk;
        }
        return;
      } catch (err) {
        if (signal?.aborted) throw err;
        broke = err as Error;
      }
      onDownload();
      const [located] = await source.locate([pointer], signal);
      const rest = !located
        ? { reason: "no answer" }
        : "unavailable" in located
          ? located.unavailable
          : await located.open();
      if (!("pipe" in rest))
        throw new LfsObjectError(
          `LFS object ${pointer.oid}: ${where} broke mid-object (${broke.message}) and ${source.where} cannot give it (${rest.reason})`,
          pointer.oid,
        );
      let skip = sent;
      for await (const chunk of rest as AsyncIterable<Buffer>) {
        if (skip >= chunk.length) {
          skip -= chunk.length;
          continue;
        }
        yield skip ? chunk.subarray(skip) : chunk;
        skip = 0;
      }
    })(),
    { objectMode: false },
  );
}
