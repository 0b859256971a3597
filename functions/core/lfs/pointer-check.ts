// After a restore: every LFS pointer its refs reach must have its object in the restored
// repository's git-lfs store (same oid, same size), or be one the backup recorded as unavailable
// (the source could not give it). Otherwise `git lfs checkout` would leave the pointer text where
// the file was, and nothing else in a restore or a drill would notice.
import { stat } from "node:fs/promises";
import { ArchiveCorruptError } from "../errors.js";
import { lfsStoreFile } from "./paths.js";
import { reachablePointers, storedPointers, type FoundPointer } from "./pointer-blobs.js";

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
  // Every pointer the repository stores first (a listing, no walk); only when one lacks its object
  // is the history walked, to keep those the refs reach and name their paths.
  const stored = await pointersByOid(gitDir, storedPointers);
  const suspects = new Set<string>();
  for (const pointer of stored.values())
    if (!(await matched(gitDir, pointer, unavailable))) suspects.add(pointer.oid);
  if (suspects.size === 0) return stored.size;
  const reached = await pointersByOid(gitDir, reachablePointers);
  const lacking: string[] = [];
  for (const pointer of reached.values()) {
    if (!suspects.has(pointer.oid)) continue;
    const found = await stat(lfsStoreFile(gitDir, pointer.oid)).catch(() => undefined);
    const what = found ? `an object of ${found.size} bytes` : "no object";
    lacking.push(
      `${pointer.path ?? `blob ${pointer.blob}`} (oid ${pointer.oid}, ${pointer.size} bytes): ${what}`,
    );
  }
  if (lacking.length)
    throw new ArchiveCorruptError(
      `LFS pointers reachable from the restored refs whose object is neither restored nor recorded ` +
        `unavailable (${lacking.length}): ${lacking.slice(0, NAMED).join("; ")}` +
        (lacking.length > NAMED ? `; and ${lacking.length - NAMED} more` : ""),
    );
  return reached.size;
}

/** The pointers `find` hands over, the first of each object. */
async function pointersByOid(
  gitDir: string,
  find: (gitDir: string, onPointer: (pointer: FoundPointer) => void) => Promise<void>,
): Promise<Map<string, FoundPointer>> {
  const byOid = new Map<string, FoundPointer>();
  await find(gitDir, (pointer) => {
    if (!byOid.has(pointer.oid)) byOid.set(pointer.oid, pointer);
  });
  return byOid;
}

/** Whether `pointer`'s object is restored with its size, or recorded unavailable. */
async function matched(
  gitDir: string,
  pointer: FoundPointer,
  unavailable: ReadonlySet<string>,
): Promise<boolean> {
  if (unavailable.has(pointer.oid)) return true;
  const stored = await stat(lfsStoreFile(gitDir, pointer.oid)).catch(() => undefined);
  return stored?.size === pointer.size;
}
