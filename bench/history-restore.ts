// The history bench's restore figure: a kept snapshot restored through restoreRepo, its refs checked
// against the source's at that time, and `git clone --mirror` of a bundle of the same state timed.
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { LocalApp } from "../functions/app.js";
import { snapshotChain } from "../functions/core/chain.js";
import { layersOfSnapshot } from "../functions/core/layers/read.js";
import { git } from "../functions/core/git/exec.js";
import { diffRefs, readRefs } from "../functions/core/git/local-repo.js";
import type { RefMap, Snapshot } from "../functions/core/model.js";
import { restoreRepo } from "../functions/core/restore.js";
import { openApp } from "../functions/wiring.js";
import { costFigure, monthlyCostByClass } from "./history-cost.js";
import { timedGit } from "./measure.js";
import { writeResult } from "./summary.js";

export interface RestoreFigures {
  id: string;
  takenAt: string;
  kind: string;
  archivesRead: number;
  ourSeconds: number;
  cloneSeconds: number;
  /** CPU seconds (user + system) of this process and the git processes it ran, and of the clone. */
  ourCpuSeconds?: number;
  cloneCpuSeconds?: number;
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
    const cpuBefore = cpuSeconds();
    const started = performance.now();
    await restoreRepo(
      app,
      { repo: kept.repo, snapshotId: kept.id, target: { kind: "path", path: ours } },
      { actor: "bench" },
    );
    const ourSeconds = (performance.now() - started) / 1000;
    const cpuAfter = cpuSeconds();
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
      ...(cpuBefore !== undefined && cpuAfter !== undefined ? { ourCpuSeconds: cpuAfter - cpuBefore } : {}),
      ...(cloned.treeCpuSeconds !== undefined ? { cloneCpuSeconds: cloned.treeCpuSeconds } : {}),
      bundleBytes: (await stat(bundle)).size,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const DAY = 86_400_000;

/** "1.23x (0.40 s / 0.33 s; CPU 1.10x)": wall time against the clone's, then CPU time. */
export function restoreFigure(r: RestoreFigures): string {
  const cpu =
    r.ourCpuSeconds !== undefined && r.cloneCpuSeconds
      ? `; CPU ${(r.ourCpuSeconds / r.cloneCpuSeconds).toFixed(2)}x, ${r.ourCpuSeconds.toFixed(2)} s / ${r.cloneCpuSeconds.toFixed(2)} s`
      : "";
  return `${(r.ourSeconds / r.cloneSeconds).toFixed(2)}x (${r.ourSeconds.toFixed(2)} s / ${r.cloneSeconds.toFixed(2)} s${cpu})`;
}

/**
 * CPU seconds so far of this process (every thread) and of the children it has reaped (Linux's
 * /proc/self/stat cutime and cstime, in clock ticks of 1/100 s); undefined elsewhere.
 */
function cpuSeconds(): number | undefined {
  const stat = (() => {
    try {
      return readFileSync("/proc/self/stat", "utf8");
    } catch {
      return undefined;
    }
  })();
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + (Number(fields[13]) + Number(fields[14])) / 100;
}

/** The kept snapshot nearest one year before the newest (`kept` oldest first). */
export function yearBeforeNewest(kept: Snapshot[]): Snapshot {
  const yearBefore = Date.parse(kept.at(-1)!.takenAt) - 365 * DAY;
  return kept.reduce((best, s) =>
    Math.abs(Date.parse(s.takenAt) - yearBefore) < Math.abs(Date.parse(best.takenAt) - yearBefore) ? s : best,
  );
}

/**
 * What `--restore` needs of a kept run: the repository's name, the source's refs at each snapshot,
 * and when the simulation's clock stopped.
 */
export async function keepRun(
  work: string,
  repo: string,
  taken: Map<string, { refs: RefMap }>,
  ended: Date,
): Promise<void> {
  const refs = Object.fromEntries([...taken].map(([id, t]) => [id, t.refs]));
  await writeFile(join(work, KEPT_FILE), JSON.stringify({ repo, refs, ended: ended.getTime() }));
}

const KEPT_FILE = "taken.json";

/**
 * `--history --restore DIR`: the oldest, the year-old and the newest kept snapshot of a run kept
 * with `--keep`, restored again with the code as it is now, each checked against the source's refs
 * at the time it was taken and timed against `git clone --mirror` of a bundle of its state.
 */
export async function retimeRestores(work: string, out: string): Promise<number> {
  const { repo, refs, ended } = JSON.parse(await readFile(join(work, KEPT_FILE), "utf8")) as {
    repo: string;
    refs: Record<string, RefMap>;
    ended?: number;
  };
  const app = await openApp(join(work, "config", "backup-config.yaml"), { env: {} });
  try {
    const kept = (await app.index.list(repo)).sort((a, b) => a.takenAt.localeCompare(b.takenAt));
    const restores: Record<string, RestoreFigures> = {};
    const chosen = { oldest: kept[0]!, year: yearBeforeNewest(kept), newest: kept.at(-1)! };
    for (const [which, snapshot] of Object.entries(chosen)) {
      const expected = refs[snapshot.id];
      if (!expected) throw new Error(`kept snapshot ${snapshot.id} is not one the kept run took`);
      const figures = await timeRestore(app, work, snapshot, expected);
      restores[which] = figures;
      console.log(
        `${which} (${figures.takenAt.slice(0, 10)}, ${figures.archivesRead} archives) / git clone --mirror of a bundle: ${restoreFigure(figures)} (load ${loadavg()[0]!.toFixed(1)})`,
      );
    }
    // The cost per month as the run left it: at its clock's end (older kept runs: the newest snapshot's).
    const end = ended ?? Date.parse(kept.at(-1)!.takenAt);
    const cost = await monthlyCostByClass(app, repo, new Date(end));
    console.log(`cost per month in a bucket at ${new Date(end).toISOString()}: ${costFigure(cost)}`);
    await writeResult(out, { work, restores, cost });
    return 0;
  } finally {
    await app.close();
  }
}
