// Measuring: wall time of a command, the peak RSS of its process tree (GNU time, when present),
// and our use cases run in a child process, compiled as production runs them, so that their own
// start-up and peak RSS are exact.
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { cp, readFile, rm } from "node:fs/promises";
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
  /** `stdin`: a file the command reads as its standard input. */
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {},
): Promise<Timed & { stdout: string }> {
  const rssFile = join(tmpdir(), `infinity-bench-rss-${process.pid}-${++counter}`);
  const [file, argv] = HAS_TREE_RSS
    ? [GNU_TIME, ["-f", "%M %U %S", "-o", rssFile, cmd, ...args]]
    : [cmd, args];
  const input = options.stdin === undefined ? "ignore" : openSync(options.stdin, "r");
  const started = performance.now();
  const child = spawn(file, argv, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: [input, "pipe", "pipe"],
  });
  if (typeof input === "number") closeSync(input); // the child has its own copy
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
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
  stdin?: string,
): Promise<Timed & { stdout: string }> {
  return timed("git", args, { env: gitEnv(env), ...(stdin ? { stdin } : {}) });
}

/**
 * The package as it is installed: `npm run build`'s output plus the compiled bench worker
 * (tsconfig.bench.json), and bin/. The worker and the CLI run from here, without tsx.
 */
export const PACKAGE = join(ROOT, "bench", "results", "package");

/** Compiles the package into PACKAGE (about 20 CPU seconds); rejects when the build fails. */
export async function buildPackage(): Promise<void> {
  await timed(process.execPath, [
    join(ROOT, "scripts", "build.mjs"),
    "--project",
    "tsconfig.bench.json",
    "--out",
    join(PACKAGE, "dist"),
  ]);
  await rm(join(PACKAGE, "bin"), { recursive: true, force: true });
  await cp(join(ROOT, "bin"), join(PACKAGE, "bin"), { recursive: true });
}

export interface WorkerRun extends Timed {
  result: WorkerResult;
  /** Wall time of the child process: node start-up and imports included. */
  wallSeconds: number;
}

/** Runs one use case in a fresh `node PACKAGE/dist/bench/worker.js` and returns what it reports. */
export async function runWorker(request: WorkerRequest): Promise<WorkerRun> {
  const env = { ...process.env };
  delete env.BACKUP_LOCATION;
  delete env.VERIFY_BACKUPS;
  const run = await timed(
    process.execPath,
    [join(PACKAGE, "dist", "bench", "worker.js"), JSON.stringify(request)],
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
  // Start-up (node, imports, openApp) is not the use case: take its CPU off the tree's.
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

export interface HelpTimes {
  /** Median wall seconds of `node PACKAGE/bin/infinity-backup.mjs --help`. */
  seconds: number;
  cpuSeconds?: number;
  /** The same for `node -e 0`: node's own start-up, the floor of any CLI run. */
  nodeSeconds: number;
  nodeCpuSeconds?: number;
  rounds: number;
}

/** Times `infinity-backup --help` as installed (compiled, no tsx), alternating with bare node. */
export async function helpTimes(rounds = 11): Promise<HelpTimes> {
  const cli: Timed[] = [];
  const bare: Timed[] = [];
  for (let i = 0; i < rounds; i++) {
    cli.push(await timed(process.execPath, [join(PACKAGE, "bin", "infinity-backup.mjs"), "--help"]));
    bare.push(await timed(process.execPath, ["-e", "0"]));
  }
  const cpu = (runs: Timed[]) =>
    runs.every((r) => r.treeCpuSeconds !== undefined)
      ? { value: median(runs.map((r) => r.treeCpuSeconds!)) }
      : undefined;
  return {
    seconds: median(cli.map((r) => r.seconds)),
    ...(cpu(cli) ? { cpuSeconds: cpu(cli)!.value } : {}),
    nodeSeconds: median(bare.map((r) => r.seconds)),
    ...(cpu(bare) ? { nodeCpuSeconds: cpu(bare)!.value } : {}),
    rounds,
  };
}
