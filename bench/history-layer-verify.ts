// `npm run bench -- layer-verify --repo PATH`: what verifying a one-push snapshot costs with layers
// (issue 13: "deep verification of a one-push snapshot of git/git in at most 2 s"). A layered full
// snapshot of the repository, its per-layer verification (the first one checks the whole layer),
// then one push on top (a new commit with one new file) and its snapshot and per-layer
// verification, which checks only the new layer against the oids of the others. `--deep` also
// times the push snapshot's full-restore deep verification, the scheduled one, for comparison.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { git } from "../functions/core/git/exec.js";
import type { Snapshot, VerifyLevel } from "../functions/core/model.js";
import { snapshotRepo } from "../functions/core/snapshot.js";
import { verifySnapshot } from "../functions/core/verify.js";
import type { LocalApp } from "../functions/app.js";
import { openApp } from "../functions/wiring.js";
import { benchLog, goalRow, goalTable, machineLine, writeResult } from "./summary.js";

const USAGE = `usage: npm run bench -- layer-verify --repo PATH [--deep] [--out FILE]
  --repo  a bare repository (e.g. a clone of git/git), copied with \`git clone --mirror\`
  --deep  also time the push snapshot's full-restore deep verification
  --out   JSON figures (default bench/results/layer-verify.json)`;

const log = benchLog("layer-verify");
const NAME = "bench/layer-verify";
const IDENTITY = {
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.invalid",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.invalid",
};

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      repo: { type: "string" },
      deep: { type: "boolean", default: false },
      out: { type: "string", default: "bench/results/layer-verify.json" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !values.repo) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const work = await mkdtemp(join(tmpdir(), "infinity-bench-layer-verify-"));
  try {
    const source = join(work, "source.git");
    await git(["clone", "--mirror", "--quiet", values.repo, source]);
    const configDir = join(work, "config");
    await mkdir(configDir);
    const configFile = join(configDir, "backup-config.yaml");
    await writeFile(
      configFile,
      `version: 1\nbackend: local\nlocal:\n  dataDir: ${join(work, "data")}\nsources:\n  - name: ${NAME}\n    url: ${JSON.stringify(source)}\nsnapshots:\n  layers: true\n`,
    );
    let now = Date.now();
    const app = await openApp(configFile, { clock: { now: () => new Date(now) }, env: {} });
    try {
      const take = async (what: string) => {
        now += 3_600_000;
        const started = performance.now();
        const outcome = await snapshotRepo(app, NAME, { url: source }, { actor: "bench", layers: true });
        const seconds = (performance.now() - started) / 1000;
        log(`${what} snapshot: ${seconds.toFixed(2)} s, ${mib(outcome.snapshot.bundleBytes)} of git data`);
        return { snapshot: outcome.snapshot, seconds };
      };
      const full = await take("full");
      const fullVerify = await verify(app, full.snapshot, "layer", "full");
      const commit = await pushOneCommit(source);
      const push = await take(`push (${commit.slice(0, 12)})`);
      const pushVerify = await verify(app, push.snapshot, "layer", "push");
      const deep = values.deep ? await verify(app, push.snapshot, "deep", "push") : undefined;
      const layers = (await app.layers!.layers(NAME)).filter((l) => l.state === "live");
      const newLayer = layers.find((l) => l.id === push.snapshot.layers![0]);
      console.log(
        [
          "",
          `infinity-backup bench layer-verify: ${machineLine()}`,
          `${values.repo}: full layered snapshot ${full.seconds.toFixed(2)} s (${full.snapshot.layers!.length} layer, ${layers.find((l) => l.id === full.snapshot.layers![0])?.objects} objects); one push: a layer of ${newLayer?.objects ?? 0} objects, ${kib(newLayer?.size ?? 0)}`,
          `peak RSS of this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
          "",
          goalTable(
            ["what", "figure", "goal", "met?"],
            [
              goalRow(
                "per-layer verification of the full snapshot (the whole layer)",
                figure(fullVerify),
                "",
              ),
              goalRow(
                "per-layer verification of the one-push snapshot",
                figure(pushVerify),
                "<= 2 s",
                pushVerify.seconds <= 2,
              ),
              ...(deep
                ? [goalRow("deep (full-restore) verification of the one-push snapshot", figure(deep), "")]
                : []),
              goalRow(
                "snapshot after the push",
                `${push.seconds.toFixed(2)} s, ${kib(push.snapshot.bundleBytes)} of git data`,
                "<= 2 s",
                push.seconds <= 2,
              ),
            ].map((g) => [g.what, g.figure, g.goal, g.met]),
          ),
        ].join("\n"),
      );
      await writeResult(values.out, {
        repo: values.repo,
        full: { seconds: full.seconds, bundleBytes: full.snapshot.bundleBytes, verify: fullVerify },
        push: { seconds: push.seconds, bundleBytes: push.snapshot.bundleBytes, verify: pushVerify, deep },
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
        load: loadavg()[0],
      });
      return 0;
    } finally {
      await app.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface Timing {
  seconds: number;
  bytes: number;
}

async function verify(app: LocalApp, snapshot: Snapshot, level: VerifyLevel, what: string): Promise<Timing> {
  const started = performance.now();
  const outcome = await verifySnapshot(app, snapshot.repo, snapshot.id, { level, actor: "bench" });
  const seconds = (performance.now() - started) / 1000;
  if (outcome.verification.verdict !== "ok")
    throw new Error(`${level} verification of the ${what} snapshot failed: ${outcome.verification.detail}`);
  log(`${level} verification of the ${what} snapshot: ${seconds.toFixed(2)} s, ${mib(outcome.bytes)} read`);
  return { seconds, bytes: outcome.bytes };
}

/** A new commit on the default branch with one new file, as a push would bring; returns its id. */
async function pushOneCommit(source: string): Promise<string> {
  const env = { GIT_DIR: source };
  const head = (await git(["symbolic-ref", "HEAD"], { env })).trim();
  const parent = (await git(["rev-parse", head], { env })).trim();
  const blob = (
    await git(["hash-object", "-w", "--stdin"], { env, input: `one push at ${new Date().toISOString()}\n` })
  ).trim();
  const index = { ...env, GIT_INDEX_FILE: join(source, "bench-index") };
  await git(["read-tree", parent], { env: index });
  await git(["update-index", "--add", "--cacheinfo", `100644,${blob},BENCH-PUSH.txt`], { env: index });
  const tree = (await git(["write-tree"], { env: index })).trim();
  const commit = (
    await git(["commit-tree", tree, "-p", parent, "-m", "One push"], { env: { ...env, ...IDENTITY } })
  ).trim();
  await git(["update-ref", head, commit, parent], { env });
  return commit;
}

const figure = (t: Timing) => `${t.seconds.toFixed(2)} s, ${mib(t.bytes)} read`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
