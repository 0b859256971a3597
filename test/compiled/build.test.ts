// The build (`npm run build`): the compiled JavaScript runs on its own, as production runs it. A
// package folder with dist/ and bin/ only (no sources, so no tsx fallback is possible) must answer
// `infinity-backup --help`, and its functions entry must register the seven functions.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_NAMES } from "../../functions/register.js";

const run = promisify(execFile);
const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

describe("the compiled package", () => {
  let pkg: string;

  beforeAll(async () => {
    pkg = await mkdtemp(join(tmpdir(), "infinity-build-"));
    // The build script itself, into the test's folder (dist/ of the checkout is left alone).
    await run(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--out", join(pkg, "dist")], {
      cwd: ROOT,
    });
    await cp(join(ROOT, "bin"), join(pkg, "bin"), { recursive: true });
    await cp(join(ROOT, "config"), join(pkg, "config"), { recursive: true });
    await cp(join(ROOT, "package.json"), join(pkg, "package.json"));
    await symlink(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
  }, 300_000);

  afterAll(async () => {
    if (pkg) await rm(pkg, { recursive: true, force: true });
  });

  it("package.json's main is the compiled functions entry", async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      main: string;
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(manifest.main).toBe("dist/functions/index.js");
    expect(manifest.scripts["gcp-build"]).toBeTruthy();
    expect(manifest.dependencies["tsx"], "tsx is a development tool").toBeUndefined();
    await expect(readFile(join(pkg, manifest.main), "utf8")).resolves.toContain("registerFunctions");
  });

  it("the CLI answers --help from dist/", async () => {
    const { stdout } = await run(process.execPath, [join(pkg, "bin", "infinity-backup.mjs"), "--help"], {
      cwd: pkg,
    });
    expect(stdout).toMatch(/^Usage: infinity-backup <command>/);
  });

  it("the CLI runs a command from dist/ (wiring, SQLite, commands load on use)", async () => {
    const config = join(pkg, "test-config.yaml");
    const data = join(pkg, "data");
    await writeFile(config, `version: 1\nbackend: local\nlocal:\n  dataDir: ${data}\nsources: []\n`);
    const bin = join(pkg, "bin", "infinity-backup.mjs");
    const { stdout } = await run(process.execPath, [bin, "list", "--json", "--config", config], { cwd: pkg });
    expect(JSON.parse(stdout)).toEqual(expect.anything());
    const unknown = await run(process.execPath, [bin, "nosuch"], { cwd: pkg }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "nosuch"') });
  });

  it("the job image's command reaches the job (here: refused, no cloud environment)", async () => {
    const bin = join(pkg, "bin", "infinity-backup.mjs");
    const result = await run(process.execPath, [bin, "job", "snapshot"], {
      cwd: pkg,
      env: { PATH: process.env.PATH },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(result).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^infinity-backup job snapshot: /),
    });
  });

  it("importing dist/functions/index.js registers the twelve functions", async () => {
    const script = `
      await import(${JSON.stringify(pathToFileURL(join(pkg, "dist", "functions", "index.js")).href)});
      const { getFunction } = await import("@google-cloud/functions-framework/testing");
      const names = ${JSON.stringify(FUNCTION_NAMES)};
      console.log(JSON.stringify(names.filter((n) => typeof getFunction(n) === "function")));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: pkg });
    expect(JSON.parse(stdout)).toEqual([...FUNCTION_NAMES]);
    expect(FUNCTION_NAMES).toHaveLength(12);
  });
});

describe("bin/dist-state.mjs: when the CLI runs dist/", () => {
  let dir: string;
  const distState = async (root: string): Promise<string> =>
    (
      (await import(pathToFileURL(join(ROOT, "bin", "dist-state.mjs")).href)) as {
        distState(root: string): string;
      }
    ).distState(root);
  const at = (path: string, seconds: number) => utimes(path, seconds, seconds);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "infinity-dist-state-"));
    await mkdir(join(dir, "functions", "core"), { recursive: true });
    await writeFile(join(dir, "functions", "core", "a.ts"), "");
    await at(join(dir, "functions", "core", "a.ts"), 1000);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("missing without a stamp, fresh after it, stale once a source is newer", async () => {
    expect(await distState(dir)).toBe("missing");
    await mkdir(join(dir, "dist"));
    await writeFile(join(dir, "dist", ".build-stamp"), "");
    await at(join(dir, "dist", ".build-stamp"), 2000);
    expect(await distState(dir)).toBe("fresh");
    await at(join(dir, "functions", "core", "a.ts"), 3000);
    expect(await distState(dir)).toBe("stale");
    await writeFile(join(dir, "tsconfig.build.json"), "{}");
    await at(join(dir, "functions", "core", "a.ts"), 1000);
    await at(join(dir, "tsconfig.build.json"), 3000);
    expect(await distState(dir), "a changed compiler config").toBe("stale");
  });

  it("fresh with dist/ alone (an installed package, the job image)", async () => {
    await rm(join(dir, "functions"), { recursive: true });
    await rm(join(dir, "tsconfig.build.json"));
    expect(await distState(dir)).toBe("fresh");
  });
});
