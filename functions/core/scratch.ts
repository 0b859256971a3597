// Scratch folders and partial files, named so that a later run can tell a dead run's leftovers
// from a live one's: "infinity-scratch-<kind>.<pid>.<random>" (a partial file:
// "<target>.<pid>.<random>.partial"). Each is removed by its own run on success and on error; what
// a killed run (SIGKILL, out of memory, power) left behind is swept by the next run that looks in
// the same folder, once no process has the pid in its name.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

const SCRATCH = /^\.?infinity-scratch-[a-z-]+\.(\d+)\.[A-Za-z0-9]+$/;
const PARTIAL = /^.+\.(\d+)\.[0-9a-f]{8}\.partial$/;

/** Whether a process with this pid exists (one of another user's counts: it is not ours to judge). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what dead runs left in `folder` (default: the system temp folder): scratch folders and
 * partial files whose pid is gone. Never touches anything else. Resolves with the removed paths.
 */
export async function sweepScratch(folder: string = tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return []; // a folder that is not there (yet) holds no leftovers
  }
  const dead = names.filter((name) => {
    const pid = SCRATCH.exec(name)?.[1] ?? PARTIAL.exec(name)?.[1];
    return pid !== undefined && !processAlive(Number(pid));
  });
  const removed: string[] = [];
  for (const name of dead) {
    const path = join(folder, name);
    // A leftover that cannot be removed now (permissions) is tried again next time; never fatal.
    if (
      await rm(path, { recursive: true, force: true }).then(
        () => true,
        () => false,
      )
    )
      removed.push(path);
  }
  return removed;
}

/**
 * A new scratch folder for `kind` ("verify", "restore", "bundle", "lfs-scan") in `parent` (default:
 * the system temp folder), after sweeping the dead runs' leftovers there. `hidden` names it with a
 * leading dot (beside a person's restore target).
 */
export async function makeScratch(kind: string, parent: string = tmpdir(), hidden = false): Promise<string> {
  await sweepScratch(parent);
  return mkdtemp(join(parent, `${hidden ? "." : ""}infinity-scratch-${kind}.${process.pid}.`));
}

/** A partial file for `target`, unique to this run: two runs writing one target never share it. */
export function partialPath(target: string): string {
  return join(
    dirname(target),
    `${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.partial`,
  );
}
