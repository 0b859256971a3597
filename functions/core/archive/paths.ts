// Every path inside an archive's tar, in one module (docs/FORMAT.md specifies them): the git data,
// the wiki, and the manifest that comes last. Writers and readers both take them from here.
export { MANIFEST_PATH } from "./manifest.js";

/** The repository's git bundle (stored as `.part-NNNNNN` entries; see tar-parts.ts). */
export const BUNDLE_PATH = "git/repo.bundle";

/** The wiki's git bundle, whole in every snapshot of a repository that has a wiki. */
export const WIKI_PATH = "git/wiki.bundle";

/** A layer archive's pack: whole objects or deltas within the same pack, never thin. */
export const LAYER_PACK_PATH = "git/layer.pack";

/** A layer's object ids: sorted, 20 bytes each, nothing between (core/git/oid-set.ts). */
export const LAYER_OIDS_PATH = "git/layer.oids";

/**
 * Files of raw bytes (git data, LFS objects), as opposed to the metadata collection's JSON: while
 * one streams, the heap gets room (core/heap-room.ts).
 */
export function isByteStreamPath(path: string): boolean {
  return path.startsWith("git/") || path.startsWith("lfs/");
}
