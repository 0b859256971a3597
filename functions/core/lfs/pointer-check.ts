// After a restore: every LFS pointer its refs reach must have its object in the restored
// repository's git-lfs store (same oid, same size), or be one the backup recorded as unavailable
// (the source could not give it). Otherwise `git lfs checkout` would leave the pointer text where
// the file was, and nothing else in a restore or a drill would notice.
import { stat } from "node:fs/promises";
import { ArchiveCorruptError } from "../errors.js";
import { lfsStoreFile } from "./paths.js";
import { reachablePointers, type FoundPointer } from "./pointer-blobs.js";

/** How many unmatched pointers a finding names; the rest are counted. */
const NAMED = 5;

/**
 * Checks the pointers reachable in the restored repository at `gitDir` against its LFS store;
 * `unavailable` holds the oids the snapshot records as missing. Resolves with how many distinct
 * objects the pointers name; rejects with ArchiveCorruptError naming the path and oid of each
 * pointer (the first few) whose object is neither restored nor recorded unavailable.
 */
export async function checkRestoredPointers(
  gitDir: string,
  unavailable: ReadonlySet<string>,
): Promise<number> {
  const named = new Map<string, FoundPointer>();
  await reachablePointers(gitDir, (pointer) => {
    if (!named.has(pointer.oid)) named.set(pointer.oid, pointer);
  });
  const lacking: string[] = [];
  for (const pointer of named.values()) {
    if (unavailable.has(pointer.oid)) continue;
    const stored = await stat(lfsStoreFile(gitDir, pointer.oid)).catch(() => undefined);
    if (stored?.size === pointer.size) continue;
    const found = stored ? `an object of ${stored.size} bytes` : "no object";
    lacking.push(
      `${pointer.path ?? `blob ${pointer.blob}`} (oid ${pointer.oid}, ${pointer.size} bytes): ${found}`,
    );
  }
  if (lacking.length)
    throw new ArchiveCorruptError(
      `LFS pointers reachable from the restored refs whose object is neither restored nor recorded ` +
        `unavailable (${lacking.length}): ${lacking.slice(0, NAMED).join("; ")}` +
        (lacking.length > NAMED ? `; and ${lacking.length - NAMED} more` : ""),
    );
  return named.size;
}
