// A disk that fills mid-backup: the CLI, run as its own process, prints the real error (ENOSPC),
// exits, and leaves no git process behind (checked by PID); a second failure while cleaning up
// (releaseLease on the same full disk) is told after the first, never in its place.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** A bare repository with ~12 MB of incompressible blobs: more than every pipe and buffer holds. */
async function bigRepo(dir: string): Promise<string> {
  const work = join(dir, "work");
  execFileSync("git", ["init", "--quiet", "-b", "main", work]);
  for (let i = 0; i < 6; i++) await writeFile(join(work, `blob-${i}.bin`), randomBytes(2 * 1024 * 1024));
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface Run {
  code: number | null;
  stderr: string;
  pids: number[];
  ms: number;
}

/** The CLI with a full disk; killed (and the test failed) if it has not exited in 60 s. */
async function runFull(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const pidsFile = join(scratch, `pids-${Date.now()}`);
  await writeFile(pidsFile, "");
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "test/helpers/enospc-cli.ts"), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ENOSPC_AFTER: String(1024 * 1024), ENOSPC_PIDS: pidsFile, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolveExit) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolveExit(-1);
    }, 60_000);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolveExit(c);
    });
  });
  const pids = (await readFile(pidsFile, "utf8")).split("\n").filter(Boolean).map(Number);
  return { code, stderr, pids, ms: Date.now() - started };
}

let scratch: string;
let ws: TestWorkspace;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ib-enospc-"));
  ws = await workspace({ "acme/big": await bigRepo(scratch) });
}, 60_000);
afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("a disk that fills during a backup", () => {
  it("ends the CLI with the ENOSPC error and no git process left", async () => {
    const run = await runFull(["backup", "--config", ws.configFile, "--no-verify"]);
    console.log(`exited ${run.code} after ${run.ms} ms; git PIDs ${run.pids.join(", ")}`);
    expect(run.code).toBe(1); // not -1: it exited by itself
    expect(run.stderr).toMatch(/ENOSPC: no space left on device/);
    expect(run.pids.length).toBeGreaterThan(0); // upload-pack at least
    expect(run.pids.filter(alive)).toEqual([]);
    // Nothing was committed, and the lease is gone: the index lists no snapshot and no lease.
    const app = await ws.open();
    try {
      expect(await app.index.list("acme/big")).toEqual([]);
      expect(await app.index.leases()).toEqual([]);
    } finally {
      await app.close();
    }
  }, 90_000);

  it("tells the first error first when releasing the lease fails too", async () => {
    const run = await runFull(["backup", "--config", ws.configFile, "--no-verify"], { ENOSPC_INDEX: "1" });
    expect(run.code).toBe(1);
    const first = run.stderr.indexOf("ENOSPC: no space left on device");
    const then = run.stderr.indexOf("releaseLease failed too: database or disk is full");
    expect(first).toBeGreaterThanOrEqual(0);
    expect(then).toBeGreaterThan(first);
    expect(run.pids.filter(alive)).toEqual([]);
  }, 90_000);
});
