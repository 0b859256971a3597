// A snapshot's LFS objects as archive files: the pointers the scan found, looked up a batch at a
// time, each object streamed into the archive through its check (a full snapshot copies what the
// latest chain already holds from its archives first: reuse.ts). What the source cannot give is
// recorded as unavailable, and the snapshot goes on without it.
import type { ArchiveFile } from "../archive/writer.js";
import { LfsObjectCheck } from "./check.js";
import { lfsObjectPath, lfsOidOf } from "./paths.js";
import type { LfsPointer } from "./pointer.js";
import { reusedLfsFiles, type LfsReuse, type LfsReuseCount } from "./reuse.js";
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
 * The archive files of the objects `pointers` names (oid -> size), each checked against its oid
 * and size as it is written; `summary` fills as they go. With `reuse` (a full snapshot) and a
 * source that downloads, the objects the latest chain's archives hold are copied from them first (reuse.ts, counted in
 * `reused`); the rest come from `source`, in oid order. A bad object fails the archive
 * (LfsObjectError): nothing of the snapshot is committed.
 */
export async function* lfsArchiveFiles(
  pointers: () => Promise<Map<string, number>>,
  source: LfsObjectSource,
  summary: LfsSummary,
  signal?: AbortSignal,
  reuse?: LfsReuse,
  reused: LfsReuseCount = { objects: 0, bytes: 0 },
): AsyncGenerator<ArchiveFile> {
  const found = await pointers();
  const wanted = new Map(
    [...found]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([oid, size]): [string, LfsPointer] => [oid, { oid, size }]),
  );
  if (reuse && !source.local) {
    for await (const file of reusedLfsFiles(reuse, wanted, source, reused, signal)) {
      yield file;
      summary.objects += 1;
      summary.bytes += found.get(lfsOidOf(file.path)!) ?? 0;
    }
  }
  const rest = [...wanted.values()];
  for (let i = 0; i < rest.length; i += source.batchSize) {
    for (const located of await source.locate(rest.slice(i, i + source.batchSize), signal)) {
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
