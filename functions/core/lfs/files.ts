// A snapshot's LFS objects as archive files: the pointers the scan found, looked up a batch at a
// time, each object streamed into the archive through its check. What the source cannot give is
// recorded as unavailable, and the snapshot goes on without it.
import type { ArchiveFile } from "../archive/writer.js";
import { LfsObjectCheck } from "./check.js";
import { lfsObjectPath } from "./paths.js";
import type { LfsPointer } from "./pointer.js";
import type { LfsObjectSource, LfsUnavailable } from "./source.js";

/** What a snapshot holds of its LFS objects; the manifest's `lfs` field (docs/FORMAT.md). */
export interface LfsSummary {
  /** Objects stored in this archive, and their bytes. */
  objects: number;
  bytes: number;
  /** Objects its new pointers name that the source could not give, sorted by oid. */
  unavailable: (LfsPointer & LfsUnavailable)[];
}

export function emptyLfsSummary(): LfsSummary {
  return { objects: 0, bytes: 0, unavailable: [] };
}

/**
 * The archive files of the objects `pointers` names (oid -> size), in oid order, each checked
 * against its oid and size as it is written; `summary` fills as they go. A bad object fails the
 * archive (LfsObjectError): nothing of the snapshot is committed.
 */
export async function* lfsArchiveFiles(
  pointers: () => Promise<Map<string, number>>,
  source: LfsObjectSource,
  summary: LfsSummary,
  signal?: AbortSignal,
): AsyncGenerator<ArchiveFile> {
  const wanted = [...(await pointers())]
    .map(([oid, size]) => ({ oid, size }))
    .sort((a, b) => (a.oid < b.oid ? -1 : 1));
  for (let i = 0; i < wanted.length; i += source.batchSize) {
    for (const located of await source.locate(wanted.slice(i, i + source.batchSize), signal)) {
      const { pointer } = located;
      const body = "unavailable" in located ? located.unavailable : await located.open();
      if (!("pipe" in body)) {
        summary.unavailable.push({ ...pointer, ...body });
        continue;
      }
      const check = new LfsObjectCheck(pointer.oid, pointer.size, source.where);
      body.on("error", (err) => check.destroy(err));
      yield { path: lfsObjectPath(pointer.oid), open: () => body.pipe(check) };
      summary.objects += 1;
      summary.bytes += pointer.size;
    }
  }
}
