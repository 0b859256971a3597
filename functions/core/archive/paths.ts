// Every path inside an archive's tar, in one module (docs/FORMAT.md specifies them): the git data,
// the wiki, and the manifest that comes last. Writers and readers both take them from here.
export { MANIFEST_PATH } from "./manifest.js";

/** The repository's git bundle (stored as `.part-NNNNNN` entries; see tar-parts.ts). */
export const BUNDLE_PATH = "git/repo.bundle";

/** The wiki's git bundle, whole in every snapshot of a repository that has a wiki. */
export const WIKI_PATH = "git/wiki.bundle";
