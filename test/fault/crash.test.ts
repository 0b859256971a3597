// Real crashes: the CLI, as a child process over a data folder, killed with SIGKILL at twenty
// points spread over backup, verify, restore and prune. The points are chosen by what the process
// has written, read or changed on disk (test/helpers/kill-after.mjs counts it and kills itself),
// as fractions of what a whole run of the same command does, never by sleeping. After each kill:
// every index record's archive exists and verifies; no lease outlives its holder; the next run
// proceeds at once, leaves no scratch or plaintext behind, and a backup's rerun makes exactly one
// new snapshot; prune collects the orphans a killed backup left. The CLI is built once
// (test/helpers/cli-bundle.ts) rather than transformed by tsx in each of its 27 runs.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupRepository } from "../../functions/core/backup.js";
import { repoPrefix } from "../../functions/core/object-keys.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { git } from "../../functions/core/git/exec.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { buildCli, type BuiltCli } from "../helpers/cli-bundle.js";

const PRELOAD = new URL("../helpers/kill-after.mjs", import.meta.url).pathname;
const REPO = "acme/app";
const actor = "crash-test";

let scratch: string;
let temp: string;
let source: string;
let ws: TestWorkspace;
let dataDir: string;
let cli: BuiltCli;
let changes = 0;

type Counts = { write: number; read: number; op: number };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI with the counting preload; `killAt` ("write:N") makes it SIGKILL itself there. */
function run(
  args: string[],
  options: { killAt?: string; countFile?: string; config?: string } = {},
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const config = options.config ?? ws.configFile;
    const child = spawn(process.execPath, ["--import", PRELOAD, cli.entry, ...args, "--config", config], {
      env: {
        ...process.env,
        TMPDIR: temp,
        ...(options.killAt ? { INFINITY_TEST_KILL_AT: options.killAt } : {}),
        ...(options.countFile ? { INFINITY_TEST_COUNT_FILE: options.countFile } : {}),
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** What one whole run of the command writes, reads and changes: the scale the kill points use. */
async function measure(args: string[], config?: string): Promise<Counts> {
  const countFile = join(scratch, `count-${randomBytes(4).toString("hex")}.json`);
  const done = await run(args, { countFile, ...(config ? { config } : {}) });
  expect(done.code, done.stderr).toBe(0);
  return JSON.parse(await readFile(countFile, "utf8")) as Counts;
}

async function kill(args: string[], at: string): Promise<void> {
  const died = await run(args, { killAt: at });
  // A point past the command's end would prove nothing: every point must land mid-run.
  expect(died.signal, `${args[0]} at ${at} ran to the end: ${died.stderr}`).toBe("SIGKILL");
  const left = await leftovers();
  if (left.length) leftBehind[`${args[0]} ${at}`] = left;
}

const point = (kind: keyof Counts, total: Counts, fraction: number) =>
  `${kind}:${Math.max(1, Math.floor(total[kind] * fraction))}`;

/** Snapshots already verified whole: an archive is never rewritten, so each is read once. */
const verified = new Set<string>();
/** What killed runs left in the temp folder and the store's upload folder, by kill point. */
const leftBehind: Record<string, string[]> = {};

/** The invariants that must hold after any crash (checked in-process, as a second process would). */
async function checkInvariants(): Promise<void> {
  const app = await ws.open();
  try {
    // No lease outlives its holder: the killed process is gone, so nothing is in force.
    expect(await app.index.leases()).toEqual([]);
    // Every record's archive exists and verifies.
    for (const s of await app.index.list(REPO)) {
      expect(await app.store.stat(s.objectKey), `archive of ${s.id}`).toBeDefined();
      if (verified.has(s.id)) continue;
      const v = await verifySnapshot(app, REPO, s.id, { level: "quick", actor });
      expect(v.verification.verdict, `${s.id}: ${v.verification.detail}`).toBe("ok");
      verified.add(s.id);
    }
  } finally {
    await app.close();
  }
}

/** Scratch a run leaves: temp folders of ours, and unpublished uploads in the store. */
async function leftovers(): Promise<string[]> {
  const inTemp = (await readdir(temp)).filter((n) => n.startsWith("infinity-"));
  const uploads = await readdir(join(dataDir, "archives", ".tmp")).catch(() => [] as string[]);
  const partial = (await readdir(scratch)).filter((n) => n.startsWith(".restore-") || n.includes(".partial"));
  return [
    ...inTemp.map((n) => `tmp/${n}`),
    ...uploads.map((n) => `archives/.tmp/${n}`),
    ...partial.map((n) => `restore target folder/${n}`),
  ];
}

/** Objects under the repository no record names (orphans). */
async function orphans(): Promise<string[]> {
  const app = await ws.open();
  try {
    const named = new Set((await app.index.list(REPO)).map((s) => s.objectKey));
    const keys: string[] = [];
    for await (const o of app.store.list(repoPrefix(REPO))) if (!named.has(o.key)) keys.push(o.key);
    return keys;
  } finally {
    await app.close();
  }
}

async function snapshotCount(): Promise<number> {
  const app = await ws.open();
  try {
    return (await app.index.list(REPO)).length;
  } finally {
    await app.close();
  }
}

/** A new commit on main with one more small file, made in the bare source itself (no clone, no push). */
async function change(): Promise<void> {
  changes += 1;
  const env = { GIT_DIR: source, GIT_INDEX_FILE: join(scratch, "change.index") };
  const who = {
    GIT_AUTHOR_NAME: "A",
    GIT_AUTHOR_EMAIL: "a@example.com",
    GIT_COMMITTER_NAME: "A",
    GIT_COMMITTER_EMAIL: "a@example.com",
  };
  const blob = (await git(["hash-object", "-w", "--stdin"], { env, input: `change ${changes}\n` })).trim();
  await git(["read-tree", "refs/heads/main"], { env });
  await git(["update-index", "--add", "--cacheinfo", `100644,${blob},crash-${changes}.txt`], { env });
  const tree = (await git(["write-tree"], { env })).trim();
  const commit = (
    await git(["commit-tree", tree, "-p", "refs/heads/main", "-m", `change ${changes}`], {
      env: { ...env, ...who },
    })
  ).trim();
  await git(["update-ref", "refs/heads/main", commit], { env });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "crash-"));
  temp = join(scratch, "tmp");
  await mkdir(temp);
  cli = await buildCli();
  source = await richRepo(scratch);
  // Incompressible data so an archive spans several 1 MiB segments and many writes.
  await pushCommit(source, "main", "noise.b64", randomBytes(1024 * 1024).toString("base64"));
  ws = await workspace({ [REPO]: source }, "snapshots:\n  incremental: false\n");
  // Prune keeps the two newest snapshots, so it has work to be killed in.
  await writeFile(join(ws.dir, "config", "retention-policy.yaml"), "last: 2\n");
  dataDir = join(ws.dir, "data");
}, 120_000);

afterAll(async () => {
  await cli?.dispose();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("SIGKILL at twenty points", () => {
  it("backup: killed at 8 points by bytes written and files changed; each rerun makes exactly one snapshot", async () => {
    // The first run also creates the folder and key (here in-process); the second, measured, is
    // what every later run does.
    const first = await ws.open();
    const firstRepo = (await first.sources.getRepo(REPO))!;
    await backupRepository(first, firstRepo, { incremental: false, verify: false }, { actor });
    await first.close();
    await change();
    const whole = await measure(["backup", "--quiet", "--no-verify"]);
    expect(whole.write).toBeGreaterThan(1024 * 1024);
    const points = [
      point("write", whole, 0.01),
      point("write", whole, 0.3),
      point("write", whole, 0.6),
      point("write", whole, 0.95),
      point("op", whole, 0.25),
      point("op", whole, 0.5),
      point("op", whole, 0.75),
      `op:${whole.op}`,
    ];
    for (const at of points) {
      await change();
      const before = await snapshotCount();
      await kill(["backup", "--quiet", "--no-verify"], at);
      await checkInvariants();
      const killedMadeOne = (await snapshotCount()) - before;
      expect(killedMadeOne, at).toBeLessThanOrEqual(1);
      // The rerun proceeds at once (no lease in the way) and makes exactly one new snapshot,
      // unless the killed run had committed already (then its snapshot is the one, unchanged now).
      const app = await ws.open();
      const repo = (await app.sources.getRepo(REPO))!;
      const rerun = await backupRepository(app, repo, { incremental: false, verify: false }, { actor });
      await app.close();
      expect(rerun.snapshot?.outcome, at).toBe(killedMadeOne ? "unchanged" : "created");
      expect(await snapshotCount(), at).toBe(before + 1);
      await checkInvariants();
    }
    // Prune collects what the killed runs left as orphans, and only that.
    const app = await ws.open();
    const left = await orphans();
    const report = await pruneRepo(app, REPO, { last: 100 }, { dryRun: false, actor, orphanGraceMs: 0 });
    await app.close();
    expect(report.orphans.map((o) => o.key).sort()).toEqual(left.sort());
    expect(report.remove).toEqual([]);
    expect(await orphans()).toEqual([]);
    await checkInvariants();
  }, 240_000);

  it("verify (deep): killed at 4 points by bytes read and files changed; the next run passes and leaves no scratch", async () => {
    const whole = await measure(["verify", "--quiet", "--level", "deep"]);
    for (const at of [
      point("read", whole, 0.1),
      point("read", whole, 0.5),
      point("read", whole, 0.9),
      point("op", whole, 0.5),
    ]) {
      await kill(["verify", "--quiet", "--level", "deep"], at);
      await checkInvariants();
      const app = await ws.open();
      const latest = (await app.index.latest(REPO))!;
      const next = await verifySnapshot(app, REPO, latest.id, { level: "deep", actor });
      await app.close();
      expect(next.verification.verdict, at).toBe("ok");
    }
  }, 240_000);

  it("restore: killed at 4 points by bytes read (folder) and written (bundle); the retry restores the source exactly", async () => {
    const target = (n: number) => join(scratch, `restored-${n}`);
    const whole = await measure(["restore", "--quiet", "--repo", REPO, "--to", target(0)]);
    const bundle = await measure([
      "restore",
      "--quiet",
      "--repo",
      REPO,
      "--bundle",
      join(scratch, "whole.bundle"),
    ]);
    const points: [string[], string][] = [
      [["--to", target(1)], point("read", whole, 0.2)],
      [["--to", target(2)], point("read", whole, 0.7)],
      [["--to", target(3)], point("read", whole, 0.9)],
      [["--bundle", join(scratch, "b.bundle")], point("write", bundle, 0.5)],
    ];
    for (const [where, at] of points) {
      await kill(["restore", "--quiet", "--repo", REPO, ...where], at);
      await checkInvariants();
      // Killed after its last step, the restore is whole (it appears at once, by a rename);
      // otherwise nothing is at the target and the retry goes to the same place.
      const to = where[1]!;
      const app = await ws.open();
      const target =
        where[0] === "--to"
          ? { kind: "path" as const, path: to }
          : { kind: "bundle-file" as const, path: to };
      if (!(await stat(to).catch(() => undefined))) await restoreRepo(app, { repo: REPO, target }, { actor });
      await app.close();
      const repo = where[0] === "--to" ? to : join(scratch, `from-bundle`);
      if (where[0] === "--bundle") await git(["clone", "--quiet", "--mirror", to, repo]);
      expect(await refsOf(repo), at).toBe(await refsOf(source));
      expect(await objectsOf(repo), at).toBe(await objectsOf(source));
    }
  }, 240_000);

  it("prune: killed at 4 points by files changed; no record ever names a missing archive and the next prune finishes", async () => {
    // The backup test left about ten snapshots; two more of one new state make prune's work long.
    await change();
    const adding = await ws.open();
    const repo = (await adding.sources.getRepo(REPO))!;
    await backupRepository(adding, repo, { incremental: false, verify: false }, { actor });
    await backupRepository(adding, repo, { incremental: false, verify: false }, { actor, full: true });
    await adding.close();
    const count = await snapshotCount();
    expect(count).toBeGreaterThan(4);
    // The scale: a whole prune of a copy of the same folder (the same snapshots to remove).
    const copy = join(scratch, "prune-copy");
    await cp(ws.dir, copy, { recursive: true });
    const whole = await measure(["prune", "--quiet"], join(copy, "config", "backup-config.yaml"));
    // Each kill lands later in what is left: a quarter, then a third, a half and all but the end.
    for (const fraction of [0.25, 0.33, 0.5, 0.8]) {
      const before = await snapshotCount();
      const left = { ...whole, op: Math.floor((whole.op * (before - 2)) / (count - 2)) };
      await kill(["prune", "--quiet"], point("op", left, fraction));
      await checkInvariants();
      expect(await snapshotCount()).toBeLessThanOrEqual(before);
    }
    const finish = await run(["prune", "--quiet"]);
    expect(finish.code, finish.stderr).toBe(0);
    expect(await snapshotCount()).toBe(2);
    await checkInvariants();
    const app = await ws.open();
    await pruneRepo(app, REPO, { last: 2 }, { dryRun: false, actor, orphanGraceMs: 0 });
    await app.close();
    expect(await orphans()).toEqual([]);
  }, 240_000);

  it("no scratch or plaintext of a killed run survives the next runs (temp folders, partial uploads)", async () => {
    // The kills must have left something, or this would prove nothing.
    expect(Object.keys(leftBehind).length).toBeGreaterThan(0);
    await change();
    const backup = await run(["backup", "--quiet", "--level", "deep"]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(await leftovers(), JSON.stringify(leftBehind, null, 1)).toEqual([]);
  }, 120_000);
});
