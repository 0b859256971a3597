// Measuring: wall time of a command, the peak RSS of its process tree (GNU time, when present),
// and our use cases run in a child process so that their own peak RSS is exact.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gitEnv } from "../functions/core/git/exec.js";
import type { WorkerRequest, WorkerResult } from "./worker.js";

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const GNU_TIME = "/usr/bin/time";
/** GNU time reports the largest ru_maxrss among all descendants a process reaped (children too). */
export const HAS_TREE_RSS = existsSync(GNU_TIME);

export interface Timed {
  seconds: number;
  /** Peak RSS (KiB) of the largest process in the tree, when GNU time is available. */
  treeMaxRssKiB?: number;
  /** User + system CPU seconds of the process and every descendant it reaped (GNU time). */
  treeCpuSeconds?: number;
}

let counter = 0;

/** Runs a command to completion (no shell), timing it; rejects with its stderr on failure. */
export async function timed(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Timed & { stdout: string }> {
  const rssFile = join(tmpdir(), `infinity-bench-rss-${process.pid}-${++counter}`);
  const [file, argv] = HAS_TREE_RSS
    ? [GNU_TIME, ["-f", "%M %U %S", "-o", rssFile, cmd, ...args]]
    : [cmd, args];
  const started = performance.now();
  const child = spawn(file, argv, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  const tree: Partial<Timed> = {};
  if (HAS_TREE_RSS) {
    const text = await readFile(rssFile, "utf8").catch(() => "");
    await rm(rssFile, { force: true });
    const match = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(text.trim().split("\n").at(-1) ?? "");
    if (match)
      Object.assign(tree, {
        treeMaxRssKiB: Number(match[1]),
        treeCpuSeconds: Number(match[2]) + Number(match[3]),
      });
  }
  if (code !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${code}: ${stderr.trim().split("\n").slice(-5).join(" / ")}`,
    );
  return { seconds, stdout, ...tree };
}

/** git with the same clean environment our code uses (no user config), timed. */
export function timedGit(
  args: string[],
  env: Record<string, string> = {},
): Promise<Timed & { stdout: string }> {
  return timed("git", args, { env: gitEnv(env) });
}

export interface WorkerRun extends Timed {
  result: WorkerResult;
  /** Wall time of the child process, including node + tsx start-up. */
  wallSeconds: number;
}

/** Runs one use case in a fresh `node --import tsx bench/worker.ts` and returns what it reports. */
export async function runWorker(request: WorkerRequest): Promise<WorkerRun> {
  const env = { ...process.env };
  delete env.BACKUP_LOCATION;
  delete env.VERIFY_BACKUPS;
  const run = await timed(
    process.execPath,
    ["--import", "tsx", join(ROOT, "bench", "worker.ts"), JSON.stringify(request)],
    { env },
  );
  const line = run.stdout.trim().split("\n").at(-1) ?? "";
  let result: WorkerResult;
  try {
    result = JSON.parse(line) as WorkerResult;
  } catch {
    throw new Error(`bench worker (${request.op}) printed no result: ${run.stdout.slice(-500)}`);
  }
  const tree: Partial<Timed> = {};
  if (run.treeMaxRssKiB !== undefined) tree.treeMaxRssKiB = run.treeMaxRssKiB;
  // Start-up (node, tsx, imports, openApp) is not the use case: take its CPU off the tree's.
  if (run.treeCpuSeconds !== undefined)
    tree.treeCpuSeconds = Math.max(0, run.treeCpuSeconds - result.bootCpuSeconds);
  return { result, wallSeconds: run.seconds, seconds: result.seconds, ...tree };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Flushes dirty pages (from the previous step's writes) so that the next step does not pay for them. */
export async function settle(): Promise<void> {
  await timed("sync", []);
}

/** Reads every file under `dir` once, so the first timed round does not pay for a cold page cache. */
export async function warm(dir: string): Promise<void> {
  await timed("sh", ["-c", 'find "$1" -type f -exec cat {} + > /dev/null', "sh", dir]);
}
