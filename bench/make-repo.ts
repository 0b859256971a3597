// Builds the benchmark's test repositories: mostly incompressible seeded random content over many
// files, commits, branches and tags, streamed into `git fast-import`, cached by size in tmpdir.
import { spawn } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "../functions/core/git/exec.js";

/** Bump when the generator changes, so stale cached repositories are not reused. */
const GENERATOR_VERSION = 1;
export const CACHE_DIR = join(tmpdir(), "infinity-bench-cache");
const MiB = 1024 * 1024;

/** Deterministic bytes: the AES-256-CTR keystream of a seed (GB/s, unlike a JS PRNG). */
export class SeededRandom {
  private readonly cipher;
  private readonly zeros = Buffer.alloc(MiB);
  private pool: Buffer = Buffer.alloc(0);

  constructor(seed: string) {
    const key = createHash("sha256").update(seed).digest();
    this.cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  }

  bytes(n: number): Buffer {
    const out: Buffer[] = [];
    for (let left = n; left > 0; left -= MiB)
      out.push(this.cipher.update(this.zeros.subarray(0, Math.min(left, MiB))));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Uniform in [0, 1). */
  next(): number {
    if (this.pool.length < 4) this.pool = this.bytes(4096);
    const value = this.pool.readUInt32LE(0);
    this.pool = this.pool.subarray(4);
    return value / 2 ** 32;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }
}

export interface RepoInfo {
  path: string;
  /** Bytes of git pack files (what a clone transfers, roughly). */
  packBytes: number;
  cached: boolean;
}

export async function packBytes(repo: string): Promise<number> {
  const dir = join(repo, "objects", "pack");
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(".pack")) total += (await stat(join(dir, name))).size;
  }
  return total;
}

/** The cached repository of about `sizeMiB` of pack data, generated on first use. */
export async function ensureRepo(sizeMiB: number, log: (line: string) => void): Promise<RepoInfo> {
  const path = join(CACHE_DIR, `repo-${sizeMiB}MiB-v${GENERATOR_VERSION}.git`);
  if (await stat(join(path, "HEAD")).catch(() => undefined))
    return { path, packBytes: await packBytes(path), cached: true };
  await mkdir(CACHE_DIR, { recursive: true });
  const partial = `${path}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  const started = Date.now();
  try {
    await git(["-c", "init.defaultBranch=main", "init", "--bare", "--quiet", partial]);
    const stats = await fastImport(partial, sizeMiB * MiB, (done) =>
      log(`  generating ${sizeMiB} MiB repository: ${Math.round((done / (sizeMiB * MiB)) * 100)}%`),
    );
    await git(["symbolic-ref", "HEAD", "refs/heads/main"], { env: { GIT_DIR: partial } });
    await git(["pack-refs", "--all"], { env: { GIT_DIR: partial } });
    await rename(partial, path);
    const bytes = await packBytes(path);
    log(
      `  generated ${path}: ${stats.commits} commits, ${stats.files} file versions, ${stats.refs} refs, ` +
        `${(bytes / MiB).toFixed(1)} MiB of pack in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return { path, packBytes: bytes, cached: false };
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
}

interface ImportStats {
  commits: number;
  files: number;
  refs: number;
}

/**
 * Streams commits into `git fast-import` until `targetBytes` of random file content are written.
 * Main is linear with a feature branch merged every 120 commits, a release branch every 200,
 * an annotated tag every 50 commits and a lightweight one every 30. Each commit adds or rewrites
 * 1 to 8 random files (1 KiB to 512 KiB, log-uniform) and appends to a text CHANGELOG.
 */
async function fastImport(
  repo: string,
  targetBytes: number,
  progress: (done: number) => void,
): Promise<ImportStats> {
  const child = spawn("git", ["fast-import", "--quiet"], {
    env: { ...process.env, GIT_DIR: repo, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${stderr.trim()}`)),
    );
  });
  const write = async (chunk: Buffer | string): Promise<void> => {
    if (!child.stdin.write(chunk)) await Promise.race([once(child.stdin, "drain"), exited]);
  };
  const rnd = new SeededRandom(`infinity-bench-${targetBytes}`);
  const stats: ImportStats = { commits: 0, files: 0, refs: 1 };
  let mark = 0;
  let time = 1_600_000_000;
  let written = 0;
  let reported = 0;
  let changelog = "# Changelog\n";
  const paths: string[] = [];

  const blob = async (data: Buffer | string): Promise<number> => {
    const m = ++mark;
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    await write(`blob\nmark :${m}\ndata ${bytes.length}\n`);
    await write(bytes);
    await write("\n");
    return m;
  };
  const commit = async (
    ref: string,
    message: string,
    opts: { from?: number; merge?: number } = {},
  ): Promise<number> => {
    const changes: string[] = [];
    for (let i = 1 + rnd.int(8); i > 0; i--) {
      const reuse = paths.length > 20 && rnd.next() < 0.25;
      const path = reuse
        ? paths[rnd.int(paths.length)]!
        : `data/d${String(rnd.int(64)).padStart(2, "0")}/f${paths.length}.bin`;
      if (!reuse) paths.push(path);
      const size = Math.round(Math.exp(Math.log(1024) + rnd.next() * Math.log(512)));
      changes.push(`M 100644 :${await blob(rnd.bytes(size))} ${path}\n`);
      written += size;
      stats.files++;
    }
    changelog += `- ${message} (${changes.length} files)\n`;
    changes.push(`M 100644 :${await blob(changelog)} CHANGELOG.md\n`);
    const m = ++mark;
    time += 600 + rnd.int(3600);
    const who = `Bench Bot <bench@infinity-backup.invalid> ${time} +0000`;
    await write(
      `commit ${ref}\nmark :${m}\nauthor ${who}\ncommitter ${who}\ndata ${Buffer.byteLength(message)}\n${message}\n`,
    );
    if (opts.from) await write(`from :${opts.from}\n`);
    if (opts.merge) await write(`merge :${opts.merge}\n`);
    await write(changes.join("") + "\n");
    stats.commits++;
    if (written - reported > targetBytes / 10) progress((reported = written));
    return m;
  };
  const tag = async (name: string, target: number, annotated: boolean): Promise<void> => {
    stats.refs++;
    if (!annotated) return write(`reset refs/tags/${name}\nfrom :${target}\n\n`);
    const msg = `Release ${name}`;
    await write(
      `tag ${name}\nfrom :${target}\ntagger Bench Bot <bench@infinity-backup.invalid> ${time} +0000\ndata ${msg.length}\n${msg}\n`,
    );
  };

  try {
    let tip = 0;
    for (let n = 1; written < targetBytes; n++) {
      tip = await commit("refs/heads/main", `Commit ${n} on main`);
      if (n % 50 === 0) await tag(`v${n / 50}.0`, tip, true);
      if (n % 30 === 0) await tag(`build-${n}`, tip, false);
      if (n % 200 === 0) {
        stats.refs++;
        let rel = await commit(`refs/heads/release/${n / 200}`, `Release prep ${n / 200}`, { from: tip });
        rel = await commit(`refs/heads/release/${n / 200}`, `Release fix ${n / 200}`);
        await tag(`v${n / 200}.0.1`, rel, true);
      }
      if (n % 120 === 0) {
        stats.refs++;
        const branch = `refs/heads/feature/f${n / 120}`;
        let feature = await commit(branch, `Feature ${n / 120} start`, { from: tip });
        for (let i = 0; i < 3; i++) feature = await commit(branch, `Feature ${n / 120} step ${i}`);
        tip = await commit("refs/heads/main", `Merge feature ${n / 120}`, { from: tip, merge: feature });
      }
    }
    await write("done\n");
    child.stdin.end();
  } catch (err) {
    child.kill();
    await exited.catch(() => undefined);
    throw err;
  }
  await exited;
  return stats;
}
