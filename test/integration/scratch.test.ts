// Scratch data is ours to clean: a backup and a deep verification killed (SIGKILL) while their
// scratch folders exist leave them behind, and the next run sweeps them (their pid is gone); a
// finished run leaves none; a restore's partial bundle is unique to its run, and a dead run's
// partial beside the target is swept by the next restore there.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signalGroup, sleep } from "../setup/process.js";
import { refsOf } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "bin/infinity-backup.mjs");

/** A bare repository with ~12 MB of incompressible blobs, so each step takes long enough to kill. */
async function bigRepo(dir: string): Promise<string> {
  const work = join(dir, "work");
  execFileSync("git", ["init", "--quiet", "-b", "main", work]);
  for (let i = 0; i < 6; i++) await writeFile(join(work, `blob-${i}.bin`), randomBytes(2 * 1024 * 1024));
  // Says it uses LFS, so that a backup scans its pack for pointers (the scratch this test kills in).
  await writeFile(join(work, ".gitattributes"), "*.lfs filter=lfs diff=lfs merge=lfs -text\n");
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "A",
    GIT_AUTHOR_EMAIL: "a@example.com",
    GIT_COMMITTER_NAME: "A",
    GIT_COMMITTER_EMAIL: "a@example.com",
  };
  execFileSync("git", ["add", "."], { cwd: work, env });
  execFileSync("git", ["commit", "--quiet", "-m", "big"], { cwd: work, env });
  const bare = join(dir, "big.git");
  execFileSync("git", ["clone", "--quiet", "--bare", work, bare]);
  return bare;
}

let scratch: string;
let tmp: string;
let ws: TestWorkspace;
let source: string;

const scratchIn = async (folder: string) =>
  (await readdir(folder)).filter((n) => /infinity-scratch-|\.partial$/.test(n)).sort();

/** The CLI in its own process group, with this test's temp folder. */
function start(args: string[]) {
  return spawn(process.execPath, [CLI, ...args, "--config", ws.configFile, "--quiet"], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function finish(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = start(args);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  return { code, stderr };
}

/**
 * Starts the CLI, waits until a scratch folder of `kind` exists (holding `inside`, when given),
 * then kills the whole group.
 */
async function killWhile(args: string[], kind: string, inside?: string): Promise<string[]> {
  const child = start(args);
  child.stdout.resume();
  child.stderr.resume();
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const deadline = Date.now() + 60_000;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = (await scratchIn(tmp)).filter((n) => n.startsWith(`infinity-scratch-${kind}.`));
    const ready =
      !inside ||
      (seen[0] && (await readdir(join(tmp, seen[0])).catch(() => [] as string[])).includes(inside));
    if (seen.length && ready) break;
    await sleep(10);
  }
  signalGroup(child.pid!, "SIGKILL");
  await exited;
  return seen;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ib-scratch-"));
  tmp = join(scratch, "tmp");
  await mkdir(tmp);
  source = await bigRepo(scratch);
  ws = await workspace({ "acme/big": source });
}, 60_000);
afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("scratch data", () => {
  it("a killed backup's and a killed deep verification's scratch is swept by the next run", async () => {
    const leftFromBackup = await killWhile(["backup", "--no-verify"], "lfs-scan");
    expect(leftFromBackup).toHaveLength(1);
    expect(await scratchIn(tmp)).toEqual(leftFromBackup); // a dead run's leftover, as in the issue

    const done = await finish(["backup", "--no-verify"]);
    expect(done.code, done.stderr).toBe(0);
    expect(await scratchIn(tmp)).toEqual([]);

    const leftFromVerify = await killWhile(["verify", "--level", "deep"], "verify", "repo.git");
    expect(leftFromVerify).toHaveLength(1);
    // It holds the decrypted repository: exactly what must not stay behind.
    expect(await readdir(join(tmp, leftFromVerify[0]!))).toContain("repo.git");

    const verified = await finish(["verify", "--level", "deep"]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(await scratchIn(tmp)).toEqual([]);
  }, 240_000);

  it("a dead run's partial bundle beside the target is swept; the restore writes its own and leaves none", async () => {
    const out = join(scratch, "out");
    await mkdir(out);
    const target = join(out, "big.bundle");
    // What a killed restore left: a partial named with a pid no process has, and another's live one.
    const dead = `big.bundle.${2 ** 22 + 12345}.0badc0de.partial`;
    const live = `big.bundle.${process.pid}.00c0ffee.partial`;
    await writeFile(join(out, dead), "half a bundle");
    await writeFile(join(out, live), "a live run's");
    const restored = await finish(["restore", "--repo", "acme/big", "--bundle", target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["big.bundle", live]);
    const clone = join(scratch, "from-bundle.git");
    execFileSync("git", ["clone", "--quiet", "--bare", target, clone]);
    expect(await refsOf(clone)).toBe(await refsOf(source));
    // A second restore to the same file is refused, and leaves no partial of its own.
    const again = await finish(["restore", "--repo", "acme/big", "--bundle", target]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("already exists");
    expect((await readdir(out)).sort()).toEqual(["big.bundle", live]);
    expect(await scratchIn(tmp)).toEqual([]);
  }, 120_000);
});
