// The CLI built once for tests that start it many times (the crash suite: 27 runs). The sources
// are bundled by esbuild (tsx's own transformer) into one entry and lazy chunks, the dynamic
// imports kept dynamic as in dist/; a start then costs about half of one through tsx, which
// transforms every module again in each process. Same code, same entry (`main`), same exit code.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export interface BuiltCli {
  /** The file to run: `node [--import …] <entry> <args>`, as bin/infinity-backup.mjs is run. */
  entry: string;
  dispose(): Promise<void>;
}

export async function buildCli(): Promise<BuiltCli> {
  // esbuild is tsx's dependency (tsx is ours); taken through tsx so that no package is added.
  const esbuild = createRequire(createRequire(import.meta.url).resolve("tsx/package.json"))(
    "esbuild",
  ) as typeof import("esbuild");
  // Inside node_modules, so the bundle's imports of packages resolve to the project's.
  const dir = join(
    ROOT,
    "node_modules",
    ".cache",
    `infinity-cli-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  await mkdir(dir, { recursive: true });
  const source = join(dir, "cli.ts");
  await writeFile(
    source,
    `import { main } from ${JSON.stringify(join(ROOT, "functions", "cli", "main.ts"))};\n` +
      "process.exitCode = await main(process.argv.slice(2));\n",
  );
  await esbuild.build({
    entryPoints: [source],
    outdir: join(dir, "out"),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  return {
    entry: join(dir, "out", "cli.js"),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
