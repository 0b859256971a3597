// Whether the compiled JavaScript in dist/ may run: `npm run build` writes dist/.build-stamp last,
// so a stamp means a whole build; it is "fresh" unless a source it was built from is newer.
// Shared by the CLI entry (bin/infinity-backup.mjs) and the build (scripts/build.mjs).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const STAMP = join("dist", ".build-stamp");
/** What the build reads besides functions/**.ts: a change to either changes the output. */
const CONFIGS = ["tsconfig.json", "tsconfig.build.json"];

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

/** Newest modification time (ms) of a .ts file under `dir`, or undefined when there is none. */
function newestSource(dir) {
  let newest;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const t = entry.isDirectory() ? newestSource(path) : entry.name.endsWith(".ts") ? mtime(path) : undefined;
    if (t !== undefined && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

/**
 * "fresh": dist/ is a whole build and no source is newer (or there are no sources: an installed
 * package or the job image ship dist/ alone); "stale": a source changed since; "missing": no
 * whole build.
 * @param {string} root the package folder (holding dist/, and functions/ in a checkout)
 * @returns {"fresh" | "stale" | "missing"}
 */
export function distState(root) {
  const built = mtime(join(root, STAMP));
  if (built === undefined) return "missing";
  const sources = [newestSource(join(root, "functions")), ...CONFIGS.map((c) => mtime(join(root, c)))];
  return sources.some((t) => t !== undefined && t > built) ? "stale" : "fresh";
}
