// Where LFS objects live: in an archive (one logical file per object, named by its oid) and in a
// restored repository (git-lfs's own store, so `git lfs` finds them there).
import { join } from "node:path";

export const LFS_DIR = "lfs/objects";
const OBJECT_PATH = /^lfs\/objects\/([0-9a-f]{64})$/;

/** An LFS object's bytes inside an archive: `lfs/objects/<oid>` (see docs/FORMAT.md). */
export function lfsObjectPath(oid: string): string {
  return `${LFS_DIR}/${oid}`;
}

/** The oid an archive path holds, or undefined when the path is not an LFS object. */
export function lfsOidOf(path: string): string | undefined {
  return OBJECT_PATH.exec(path)?.[1];
}

/** git-lfs's object folder in a repository's git dir. */
export function lfsObjectsDir(gitDir: string): string {
  return join(gitDir, "lfs", "objects");
}

/** Where an object goes in a folder laid out as git-lfs's: `<dir>/<aa>/<bb>/<oid>`. */
export function lfsObjectFile(objectsDir: string, oid: string): string {
  return join(objectsDir, oid.slice(0, 2), oid.slice(2, 4), oid);
}

/** Where git-lfs keeps an object in a repository's git dir: `lfs/objects/<aa>/<bb>/<oid>`. */
export function lfsStoreFile(gitDir: string, oid: string): string {
  return lfsObjectFile(lfsObjectsDir(gitDir), oid);
}
