#!/usr/bin/env node
// Compiles functions/ to JavaScript in dist/ (`npm run build`, `gcp-build`, and `prepare`, which
// `npm ci` runs). dist/functions is emptied first, so no output of a deleted source survives;
// dist/.build-stamp is written only once the compiler succeeded (see bin/dist-state.mjs).
//
//   --if-stale   do nothing when dist/ is already a build of the current sources
//   --lenient    (prepare) a failed or impossible build warns and exits 0: `npm ci` still
//                succeeds and the CLI runs the sources through tsx until a build succeeds
//   --project F  another tsconfig (the bench compiles its worker with tsconfig.bench.json)
//   --out DIR    compile into DIR instead of dist/ (the build test; --if-stale is then ignored)
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { distState, STAMP } from "../bin/dist-state.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const ifStale = args.includes("--if-stale");
const lenient = args.includes("--lenient");
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const project = option("--project", "tsconfig.build.json");
const out = resolve(root, option("--out", "dist"));

function fail(message) {
  process.stderr.write(`build: ${message}\n`);
  if (!lenient) process.exit(1);
  process.stderr.write(
    "build: continuing without compiled code; bin/infinity-backup.mjs runs the sources through tsx\n",
  );
  process.exit(0);
}

if (ifStale && out === join(root, "dist") && distState(root) === "fresh") process.exit(0);
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  fail("typescript is not installed (a production-only install: `npm ci --omit=dev`?)");
}
const stamp = join(out, basename(STAMP));
rmSync(stamp, { force: true });
rmSync(join(out, "functions"), { recursive: true, force: true });
const run = spawnSync(process.execPath, [tsc, "-p", project, "--outDir", out], {
  cwd: root,
  stdio: "inherit",
});
if (run.status !== 0) fail(`tsc -p ${project} failed (exit ${run.status ?? run.signal})`);
mkdirSync(out, { recursive: true });
writeFileSync(stamp, `${new Date().toISOString()} ${project}\n`);
