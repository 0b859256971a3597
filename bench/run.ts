// `npm run bench`: snapshot, verify and restore timed against plain git on generated repositories
// of two sizes (or given ones), with our process's peak RSS. Prints figures; asserts no timings.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { basename, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { BundleCheck } from "../functions/core/git/bundle.js";
import { diffRefs, initBare, readRefs } from "../functions/core/git/local-repo.js";
import { git } from "../functions/core/git/exec.js";
import { CACHE_DIR, ensureRepo } from "./make-repo.js";
import {
  buildPackage,
  HAS_TREE_RSS,
  helpTimes,
  PACKAGE,
  ROOT,
  runWorker,
  settle,
  timedGit,
  warm,
  type WorkerRun,
} from "./measure.js";
import {
  emptyOps,
  sizeTable,
  summary,
  writeJson,
  type OpKey,
  type Sample,
  type SizeResult,
} from "./report.js";

const USAGE = `usage: npm run bench -- [--sizes 60,300] [--rounds 5] [--repo PATH ...] [--out FILE]
  --sizes   MiB of pack data for each generated repository (cached in ${CACHE_DIR})
  --rounds  rounds per size (each runs baseline and ours, order alternated); medians are reported
  --repo    bench an existing repository instead (repeatable); --sizes is then ignored
  --out     where to write the figures as JSON (default bench/results/latest.json)
  --only snapshot   time only the snapshot against its floor (\`git bundle create --all\`), a few
            minutes on git/git: for a quiet moment on a shared machine
  --only restore    time only the unverified restore against its floors (\`git index-pack --stdin\`
            of the same pack, without and with the link check); one untimed snapshot first`;

const t0 = performance.now();
const loadBefore = loadavg()[0]!;
/** 1-minute load averages seen at the start of each round (they include the bench's own work). */
const loads: number[] = [];
const log = (line: string) =>
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "60,300" },
      rounds: { type: "string", default: "5" },
      repo: { type: "string", multiple: true },
      out: { type: "string", default: join(ROOT, "bench", "results", "latest.json") },
      only: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rounds = Number(values.rounds);
  const sizes = values.sizes.split(",").map(Number);
  const only = values.only as "snapshot" | "restore" | undefined;
  if (!(rounds >= 1) || sizes.some((s) => !(s > 0)) || (only && only !== "snapshot" && only !== "restore")) {
    console.error(USAGE);
    return 2;
  }

  log(`compiling the package into ${PACKAGE} (ours runs as production runs it: compiled, no tsx)`);
  await buildPackage();
  const repos: { label: string; path: string; packBytes: number }[] = [];
  if (values.repo?.length) {
    for (const p of values.repo) {
      const gitDir = (await git(["-C", resolve(p), "rev-parse", "--absolute-git-dir"])).trim();
      repos.push({ label: basename(resolve(p)), path: gitDir, packBytes: await objectBytes(gitDir) });
    }
  } else {
    for (const size of sizes) {
      log(`repository of ${size} MiB: looking in the cache`);
      const info = await ensureRepo(size, log);
      repos.push({ label: `${size} MiB`, path: info.path, packBytes: info.packBytes });
    }
  }
  const results: SizeResult[] = [];
  for (const repo of repos) results.push(await benchRepo(repo, rounds, only));
  log("timing infinity-backup --help");
  const help = await helpTimes();

  console.log(
    `\ninfinity-backup bench: ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, ${(await git(["--version"])).trim()}`,
  );
  for (const r of results) console.log(`\n${sizeTable(r)}`);
  console.log(`\n${summary(results, help)}`);
  const busy = loadBefore > cpus().length / 2;
  console.log(
    `  1-min load average: ${loadBefore.toFixed(1)} before the bench, up to ${Math.max(...loads).toFixed(1)} during it (incl. its own work; ${cpus().length} CPUs)` +
      (busy
        ? "\n  WARNING: the machine was busy before the bench started; wall times are noisy (CPU seconds less so)."
        : ""),
  );
  if (!HAS_TREE_RSS) console.log("  (/usr/bin/time not found: the largest-process columns are empty)");
  const meta = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    node: process.version,
    rounds,
    loadBefore,
    loads,
    totalSeconds: (performance.now() - t0) / 1000,
    help,
  };
  await writeJson(values.out, meta, results);
  console.log(
    `\nFigures written to ${values.out} (total ${((performance.now() - t0) / 1000 / 60).toFixed(1)} min)`,
  );
  return 0;
}

const ours = (run: WorkerRun): Sample => ({
  seconds: run.seconds,
  rssKiB: run.result.maxRssKiB,
  wallSeconds: run.wallSeconds,
  nodeCpuSeconds: run.result.cpuSeconds,
  ...(run.treeMaxRssKiB !== undefined ? { treeRssKiB: run.treeMaxRssKiB } : {}),
  ...(run.treeCpuSeconds !== undefined
    ? {
        cpuSeconds: run.treeCpuSeconds,
        processCpuSeconds: run.treeCpuSeconds + run.result.bootCpuSeconds,
      }
    : {}),
});

/** Sequential git steps as one sample: times and CPU add, the peak is the larger. */
function steps(...runs: { seconds: number; treeMaxRssKiB?: number; treeCpuSeconds?: number }[]): Sample {
  const peaks = runs.map((r) => r.treeMaxRssKiB).filter((v): v is number => v !== undefined);
  const cpu = runs.map((r) => r.treeCpuSeconds).filter((v): v is number => v !== undefined);
  return {
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
    ...(peaks.length ? { treeRssKiB: Math.max(...peaks) } : {}),
    ...(cpu.length === runs.length ? { cpuSeconds: cpu.reduce((a, b) => a + b, 0) } : {}),
  };
}

async function benchRepo(
  repo: { label: string; path: string; packBytes: number },
  rounds: number,
  only?: "snapshot" | "restore",
): Promise<SizeResult> {
  const snapshotOnly = only === "snapshot";
  const sourceRefs = await readRefs(repo.path);
  const name = `bench/${repo.label.replace(/[^A-Za-z0-9._-]+/g, "-").toLowerCase()}`;
  const result: SizeResult = {
    label: repo.label,
    repo: repo.path,
    packBytes: repo.packBytes,
    refs: Object.keys(sourceRefs).length,
    rounds,
    archiveBytes: 0,
    bundleBytes: 0,
    ops: emptyOps(),
  };
  log(`${repo.label}: warming the page cache for ${repo.path}`);
  await warm(repo.path);
  const add = (key: OpKey, side: "ours" | "baseline" | "floor", sample: Sample, run?: WorkerRun) => {
    result.ops[key][side].push(sample);
    if (run)
      Object.assign(result.ops[key], {
        timeline: run.result.timeline,
        bootRssKiB: run.result.bootRssKiB,
        atPeak: run.result.atPeak,
      });
    log(
      `${repo.label}: ${key} ${side} ${sample.seconds.toFixed(2)} s${sample.rssKiB ? `, peak RSS ${(sample.rssKiB / 1024).toFixed(0)} MiB` : ""}`,
    );
  };
  // --only restore: one snapshot (and the floor's pack) for every round, made untimed.
  const shared = only === "restore" ? await mkdtemp(join(tmpdir(), "infinity-bench-shared-")) : undefined;
  let sharedSnapshot: string | undefined;
  try {
    if (shared) {
      log(`${repo.label}: --only restore: an untimed snapshot, and the floor's pack`);
      await mkdir(join(shared, "ours"));
      const run = await runWorker({
        op: "snapshot",
        dataDir: join(shared, "ours"),
        repo: name,
        source: repo.path,
      });
      sharedSnapshot = run.result.snapshotId!;
      result.archiveBytes = run.result.archiveBytes!;
      await packOf(repo.path, join(shared, "floor.pack"), join(shared, "floor.bundle"));
    }
    for (let round = 1; round <= rounds; round++) await benchRound(round);
  } finally {
    if (shared) await rm(shared, { recursive: true, force: true });
  }
  return result;

  async function benchRound(round: number): Promise<void> {
    loads.push(loadavg()[0]!);
    log(`${repo.label}: round ${round}/${rounds} (load average ${loads.at(-1)!.toFixed(1)})`);
    const work = await mkdtemp(join(tmpdir(), "infinity-bench-run-"));
    try {
      const dataDir = shared ? join(shared, "ours") : join(work, "ours");
      if (!shared) await mkdir(dataDir);
      const bundle = join(work, "out.bundle");
      const floorBundle = join(work, "floor.bundle");
      const floorPack = shared ? join(shared, "floor.pack") : join(work, "floor.pack");
      let snapshotId = sharedSnapshot ?? "";
      /** A git-based backup: mirror-clone the source, then write one bundle of every ref. */
      const gitBackup = async (key: OpKey, cloneFlag: string, out: string) => {
        const mirror = join(work, `mirror${cloneFlag}.git`);
        await settle();
        const clone = await timedGit(["clone", "--mirror", cloneFlag, "--quiet", repo.path, mirror]);
        const create = await timedGit(["-C", mirror, "bundle", "create", "--quiet", out, "--all"]);
        add(key, "baseline", steps(clone, create));
        await rm(mirror, { recursive: true, force: true });
      };
      /** The floor: git writing the same bundle straight from the source, with no transfer. */
      const floorSnapshot = async () => {
        await settle();
        add(
          "snapshot",
          "floor",
          steps(await timedGit(["-C", repo.path, "bundle", "create", "--quiet", floorBundle, "--all"])),
        );
        await stripBundle(floorBundle, floorPack); // untimed: what the restore floor indexes
      };
      const baselineSnapshot = async () => {
        await floorSnapshot();
        if (snapshotOnly) return;
        await gitBackup("snapshot", "--no-local", bundle);
        await gitBackup("snapshotVsLocal", "--local", join(work, "local.bundle"));
        await rm(join(work, "local.bundle"), { force: true });
      };
      const oursSnapshot = async () => {
        await settle();
        const run = await runWorker({ op: "snapshot", dataDir, repo: name, source: repo.path });
        snapshotId = run.result.snapshotId!;
        result.archiveBytes = run.result.archiveBytes!;
        add("snapshot", "ours", ours(run), run);
        result.ops.snapshotVsLocal.ours.push(ours(run));
      };
      if (!shared)
        for (const step of round % 2 ? [baselineSnapshot, oursSnapshot] : [oursSnapshot, baselineSnapshot])
          await step();
      if (snapshotOnly) return;

      /**
       * The floor of a restore: index-pack of the same pack into an empty repository, nothing else
       * (`checkLinks`: with the link check an unverified restore makes).
       */
      const floorRestore = async (checkLinks: boolean, ...keys: OpKey[]) => {
        const target = join(work, "floor.git");
        await initBare(target);
        await settle();
        const args = [
          "index-pack",
          "--stdin",
          ...(checkLinks ? ["--check-self-contained-and-connected"] : []),
        ];
        const run = steps(await timedGit(args, { GIT_DIR: target }, floorPack));
        for (const key of keys) add(key, "floor", run);
        await rm(target, { recursive: true, force: true });
      };
      // Before any verification: the restore proves connectivity itself, as index-pack indexes.
      const unverifiedTarget = join(work, "restored-unverified.git");
      const oursUnverified = async () => {
        await settle();
        const run = await runWorker({
          op: "restore",
          dataDir,
          repo: name,
          snapshotId,
          target: unverifiedTarget,
        });
        add("restoreUnverified", "ours", ours(run), run);
        add("restoreUnverifiedVsLinks", "ours", ours(run), run);
        await expectRefs("our restore (unverified)", sourceRefs, unverifiedTarget);
        await rm(unverifiedTarget, { recursive: true, force: true });
      };
      const floors = async () => {
        await floorRestore(false, "restoreUnverified");
        await floorRestore(true, "restoreUnverifiedVsLinks");
      };
      for (const step of round % 2 ? [floors, oursUnverified] : [oursUnverified, floors]) await step();
      if (only === "restore") return;
      result.bundleBytes = (await stat(bundle)).size;

      for (const level of ["quick", "deep"] as const) {
        await settle();
        const run = await runWorker({ op: "verify", dataDir, repo: name, snapshotId, level });
        if (run.result.verdict !== "ok") throw new Error(`verify ${level} failed: ${run.result.detail}`);
        add(level === "quick" ? "verifyQuick" : "verifyDeep", "ours", ours(run), run);
      }

      const baseTarget = join(work, "restored-git.git");
      const ourTarget = join(work, "restored-ours.git");
      const baselineRestore = async () => {
        await floorRestore(false, "restore");
        await settle();
        const clone = await timedGit(["clone", "--mirror", "--quiet", bundle, baseTarget]);
        add("restore", "baseline", steps(clone));
        add("restoreUnverified", "baseline", steps(clone));
        const fsck = await timedGit(["fsck", "--full", "--strict", "--no-dangling"], { GIT_DIR: baseTarget });
        add("verifyDeep", "baseline", steps(clone, fsck));
        await expectRefs("git clone of the bundle", sourceRefs, baseTarget);
      };
      const oursRestore = async () => {
        await settle();
        const run = await runWorker({ op: "restore", dataDir, repo: name, snapshotId, target: ourTarget });
        add("restore", "ours", ours(run), run);
        await expectRefs("our restore", sourceRefs, ourTarget);
        const [head, sourceHead] = await Promise.all([symbolicHead(ourTarget), symbolicHead(repo.path)]);
        if (sourceHead && head !== sourceHead)
          throw new Error(`our restore: HEAD is ${head}, the source's is ${sourceHead}`);
      };
      for (const step of round % 2 ? [baselineRestore, oursRestore] : [oursRestore, baselineRestore])
        await step();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** The pack of `git bundle create --all` on `repo`, bundle header stripped, written to `pack`. */
async function packOf(repo: string, pack: string, scratchBundle: string): Promise<void> {
  await git(["-C", repo, "bundle", "create", "--quiet", scratchBundle, "--all"]);
  await stripBundle(scratchBundle, pack);
}

/** Writes the pack inside `bundle` to `pack` (header stripped, trailer checked), then removes the bundle. */
async function stripBundle(bundle: string, pack: string): Promise<void> {
  await pipeline(createReadStream(bundle), new BundleCheck("floor", false, false), createWriteStream(pack));
  await rm(bundle, { force: true });
}

async function expectRefs(what: string, expected: Record<string, string>, repo: string): Promise<void> {
  const diff = diffRefs(expected, await readRefs(repo));
  if (diff) throw new Error(`${what}: refs differ from the source's: ${diff}`);
}

/** The branch HEAD names, or "" when HEAD is detached. */
async function symbolicHead(repo: string): Promise<string> {
  return (await git(["symbolic-ref", "-q", "HEAD"], { env: { GIT_DIR: repo } }).catch(() => "")).trim();
}

/** Bytes of a given repository's objects, packed and loose (`git count-objects -v`, in KiB). */
async function objectBytes(repo: string): Promise<number> {
  const out = await git(["-C", repo, "count-objects", "-v"]);
  const kib = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, "m").exec(out)?.[1] ?? 0);
  return (kib("size") + kib("size-pack")) * 1024;
}

// Named benches (bench/README.md): `npm run bench -- sweep|metadata|rpo|--history [options]`.
const NAMED: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  sweep: () => import("./sweep.js"),
  metadata: () => import("./metadata.js"),
  rpo: () => import("./rpo.js"),
  history: () => import("./history.js"),
  "--history": () => import("./history.js"),
  "layer-verify": () => import("./history-layer-verify.js"),
};
const named = NAMED[process.argv[2] ?? ""];

(named ? named().then((m) => m.main(process.argv.slice(3))) : main()).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    log(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
