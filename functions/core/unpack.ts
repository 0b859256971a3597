// Turns a snapshot's bundle stream into a bare repository with exactly the snapshot's refs.
// Shared by deep verification (into a scratch folder) and restore (into the target).
import type { Readable } from "node:stream";
import { BUNDLE_PATH, WIKI_PATH } from "./archive/paths.js";
import { ArchiveCorruptError } from "./errors.js";
import { BundleCheck } from "./git/bundle.js";
import { diffRefs, fsck, indexPack, initBare, readRefs, setRefs, type FsckReport } from "./git/local-repo.js";
import type { Snapshot } from "./model.js";

/**
 * Adds a bundle's objects to the bare repository `repo`, checking the bundle's refs on the way.
 * `checkLinks`: index-pack also proves every link of the new objects resolves (see indexPack).
 */
export async function unpackBundle(
  repo: string,
  bundle: Readable,
  snapshot: Snapshot,
  checkLinks = false,
): Promise<void> {
  const check = new BundleCheck(BUNDLE_PATH, false, false); // index-pack checks the pack trailer
  bundle.on("error", (err) => check.destroy(err));
  await indexPack(repo, bundle.pipe(check), { checkLinks });
  const headerDiff = diffRefs(snapshot.refs, check.info.refs);
  if (headerDiff) throw new ArchiveCorruptError(`bundle refs differ from the snapshot's: ${headerDiff}`);
}

/**
 * After unpacking: set exactly the snapshot's refs (update-ref refuses a ref to a missing object)
 * and read them back. "full" also runs `git fsck --full` (deep verification; its warnings are
 * returned, its damage rejects); "refs"
 * leaves connectivity to what unpacking proved (restore: index-pack's link check, or a deep
 * verification of the same archive bytes).
 */
export async function finishRepository(
  repo: string,
  snapshot: Snapshot,
  level: "full" | "refs",
): Promise<FsckReport> {
  await setRefs(repo, snapshot.refs, snapshot.head);
  const report = level === "full" ? await fsck(repo, "full") : { warnings: [] };
  const restored = diffRefs(snapshot.refs, await readRefs(repo));
  if (restored) throw new ArchiveCorruptError(`restored refs differ from the snapshot's: ${restored}`);
  return report;
}

/** Unbundles a snapshot's wiki into a new bare repository at `repo`, with exactly its refs, checked. */
export async function unpackWiki(
  repo: string,
  bundle: Readable,
  snapshot: Snapshot,
  level: "full" | "connectivity",
): Promise<FsckReport> {
  const expected = snapshot.wikiRefs ?? {};
  await initBare(repo);
  const check = new BundleCheck(WIKI_PATH, false, false);
  bundle.on("error", (err) => check.destroy(err));
  await indexPack(repo, bundle.pipe(check));
  const headerDiff = diffRefs(expected, check.info.refs);
  if (headerDiff) throw new ArchiveCorruptError(`wiki bundle refs differ from the snapshot's: ${headerDiff}`);
  await setRefs(repo, expected, snapshot.wikiHead);
  const report = await fsck(repo, level);
  const restored = diffRefs(expected, await readRefs(repo));
  if (restored) throw new ArchiveCorruptError(`restored wiki refs differ from the snapshot's: ${restored}`);
  return report;
}

/** Where a restored repository's wiki goes: beside it, "<name>.wiki.git" (GitHub's naming). */
export function wikiLocation(target: string): string {
  return target.replace(/(\.git)?\/?$/, ".wiki.git");
}
