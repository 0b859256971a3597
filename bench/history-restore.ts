// The history bench's restore figure: a kept snapshot restored through restoreRepo, its refs checked
// against the source's at that time, and `git clone --mirror` of a bundle of the same state timed.
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { LocalApp } from "../functions/app.js";
import { snapshotChain } from "../functions/core/chain.js";
import { layersOfSnapshot } from "../functions/core/layers/read.js";
import { git } from "../functions/core/git/exec.js";
import { diffRefs, readRefs } from "../functions/core/git/local-repo.js";
import type { RefMap, Snapshot } from "../functions/core/model.js";
import { restoreRepo } from "../functions/core/restore.js";
import { timedGit } from "./measure.js";

export interface RestoreFigures {
  id: string;
  takenAt: string;
  kind: string;
  archivesRead: number;
  ourSeconds: number;
  cloneSeconds: number;
  bundleBytes: number;
}

/** Restores a kept snapshot, checks its refs, and times `git clone --mirror` of a bundle of that state. */
export async function timeRestore(
  app: LocalApp,
  work: string,
  kept: Snapshot,
  expected: RefMap,
): Promise<RestoreFigures> {
  const dir = join(work, `restore-${kept.id}`);
  const ours = join(dir, "ours.git");
  const bundle = join(dir, "state.bundle");
  const clone = join(dir, "clone.git");
  await mkdir(dir);
  try {
    const started = performance.now();
    await restoreRepo(
      app,
      { repo: kept.repo, snapshotId: kept.id, target: { kind: "path", path: ours } },
      { actor: "bench" },
    );
    const ourSeconds = (performance.now() - started) / 1000;
    const diff = diffRefs(expected, await readRefs(ours));
    if (diff) throw new Error(`restore of ${kept.id}: refs differ from the source's then: ${diff}`);
    await git(["bundle", "create", "--quiet", bundle, "--all"], { env: { GIT_DIR: ours } });
    const cloned = await timedGit(["clone", "--mirror", "--quiet", bundle, clone]);
    const cloneDiff = diffRefs(expected, await readRefs(clone));
    if (cloneDiff) throw new Error(`git clone of ${kept.id}'s bundle: refs differ: ${cloneDiff}`);
    return {
      id: kept.id,
      takenAt: kept.takenAt,
      kind: kept.kind,
      // A layered snapshot reads each live layer it resolves to and its own archive.
      archivesRead:
        kept.kind === "layered"
          ? (await layersOfSnapshot(app, kept)).length + 1
          : (await snapshotChain(app.index, kept)).length,
      ourSeconds,
      cloneSeconds: cloned.seconds,
      bundleBytes: (await stat(bundle)).size,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
