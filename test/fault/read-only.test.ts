// Recovery from a read-only copy of the data folder (a backup disk mounted read-only): list,
// status, verify and restore work and change nothing in it; backup and prune are refused by
// name. As root chmod stops no write, so there the product's explicit read-only mode is used,
// and in both cases every byte and name under the folder is compared before and after.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objectsOf, refsOf, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const BIN = new URL("../../bin/infinity-backup.mjs", import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;

let scratch: string;
let source: string;
let ws: TestWorkspace;
let copyConfig: string;
let copyData: string;
let env: NodeJS.ProcessEnv;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, uid?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...env, ...extraEnv },
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file and folder under `dir`, with its mode, size and content hash. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const file = join(dir, name);
    const s = await stat(file);
    out[name] = s.isDirectory()
      ? `dir ${s.mode.toString(8)}`
      : `${s.mode.toString(8)} ${s.size} ${createHash("sha256")
          .update(await readFile(file))
          .digest("hex")} ${s.mtimeMs}`;
  }
  return out;
}

/** `chmod -R`: each mode changed by `change` (a-w: `m & ~0o222`). */
async function chmodTree(dir: string, change: (mode: number) => number): Promise<void> {
  for (const name of await readdir(dir, { recursive: true })) {
    const file = join(dir, name);
    await chmod(file, change((await stat(file)).mode & 0o7777));
  }
  await chmod(dir, change((await stat(dir)).mode & 0o7777));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-readonly-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source });
  env = { ...process.env, TMPDIR: scratch };
  const made = await cli(["backup", "--config", ws.configFile, "--quiet", "--level", "deep"]);
  expect(made.code, made.stderr).toBe(0);
  // The copy: the whole workspace (config and data), then its data folder made read-only.
  const copy = join(scratch, "copy");
  await cp(ws.dir, copy, { recursive: true });
  copyConfig = join(copy, "config", "backup-config.yaml");
  copyData = join(copy, "data");
  await chmodTree(copyData, (mode) => mode & ~0o222); // chmod -R a-w
  // As root the folder is still writable, so the test asks for read-only mode explicitly.
  if (isRoot) env.INFINITY_BACKUP_READ_ONLY = "1";
}, 120_000);

afterAll(async () => {
  if (copyData) await chmodTree(copyData, (mode) => mode | 0o200).catch(() => undefined);
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe(`a read-only copy of the data folder (${isRoot ? "root: explicit read-only mode" : "chmod a-w"})`, () => {
  it("list, status, verify (deep) and restore (folder and bundle) work and change nothing in it", async () => {
    const before = await fingerprint(copyData);
    const list = await cli(["list", "--config", copyConfig, "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const snapshots = JSON.parse(list.stdout) as { snapshots?: { repo: string; id: string }[] } | unknown[];
    expect(JSON.stringify(snapshots)).toMatch(/acme\/app/);

    const status = await cli(["status", "--config", copyConfig, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/acme\/app/);

    const verify = await cli(["verify", "--config", copyConfig, "--level", "deep", "--json"]);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/"verdict":\s*"ok"/);
    // What verify would write (its verdict, its audit entry) is said on stderr instead.
    expect(verify.stderr).toMatch(/recordVerification of acme\/app not recorded|audit entry not written/);
    expect(verify.stderr).toMatch(/verify\.passed/);

    const target = join(scratch, "restored.git");
    const restore = await cli([
      "restore",
      "--config",
      copyConfig,
      "--repo",
      "acme/app",
      "--to",
      target,
      "--quiet",
    ]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await refsOf(target)).toBe(await refsOf(source));
    expect(await objectsOf(target)).toBe(await objectsOf(source));
    expect(restore.stderr).toMatch(/restore\.completed/);

    const bundle = join(scratch, "restored.bundle");
    const viaBundle = await cli([
      "restore",
      "--config",
      copyConfig,
      "--repo",
      "acme/app",
      "--bundle",
      bundle,
      "--quiet",
    ]);
    expect(viaBundle.code, viaBundle.stderr).toBe(0);
    expect((await stat(bundle)).size).toBeGreaterThan(0);

    expect(await fingerprint(copyData)).toEqual(before);
    // No private copy of the index is left behind in the temp folder.
    expect((await readdir(scratch)).filter((n) => n.startsWith("infinity-scratch-index"))).toEqual([]);
  }, 120_000);

  it("backup and prune are refused, naming the read-only folder; nothing in it changes", async () => {
    const before = await fingerprint(copyData);
    const backup = await cli(["backup", "--config", copyConfig, "--quiet", "--no-verify"]);
    expect(backup.code).not.toBe(0);
    expect(backup.stdout + backup.stderr).toMatch(/read-only/);
    const prune = await cli(["prune", "--config", copyConfig, "--quiet"]);
    expect(prune.code).not.toBe(0);
    expect(prune.stdout + prune.stderr).toMatch(/read-only/);
    expect(await fingerprint(copyData)).toEqual(before);
  }, 120_000);

  it("the writable original still records what the copy could not", async () => {
    const verify = await cli(["verify", "--config", ws.configFile, "--json"], {
      INFINITY_BACKUP_READ_ONLY: "",
    });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/not recorded|not written/);
    const audit = await readFile(join(ws.dir, "data", "audit.jsonl"), "utf8");
    expect(audit).toMatch(/verify\.passed/);
  }, 120_000);

  // As root, the same from an unprivileged user's side, where chmod a-w is enforced: read-only is
  // found without being asked (INFINITY_BACKUP_READ_ONLY unset) and nothing can be written anyway.
  it.runIf(isRoot)(
    "as an unprivileged user on a chmod a-w copy, read-only is detected without being asked",
    async () => {
      const NOBODY = 65534;
      const home = join(scratch, "nobody");
      await mkdir(home);
      await chmod(scratch, 0o755);
      const copy = join(home, "copy");
      await cp(ws.dir, copy, { recursive: true });
      for (const name of ["", ...(await readdir(home, { recursive: true }))])
        await chown(join(home, name), NOBODY, NOBODY);
      const data = join(copy, "data");
      await chmodTree(data, (mode) => mode & ~0o222);
      const before = await fingerprint(data);
      const asNobody = (args: string[]) =>
        cli(
          [...args, "--config", join(copy, "config", "backup-config.yaml")],
          { INFINITY_BACKUP_READ_ONLY: "", TMPDIR: home },
          NOBODY,
        );
      const verify = await asNobody(["verify", "--level", "deep", "--json"]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/"verdict":\s*"ok"/);
      expect(verify.stderr).toMatch(/read-only data folder/);
      const target = join(home, "restored.git");
      const restore = await asNobody(["restore", "--repo", "acme/app", "--to", target, "--quiet"]);
      expect(restore.code, restore.stderr).toBe(0);
      expect(await refsOf(target)).toBe(await refsOf(source));
      expect(await fingerprint(data)).toEqual(before);
      await chmodTree(data, (mode) => mode | 0o200);
    },
    120_000,
  );
});
