// `npm run bench -- --history` (or `history`): years of one repository's life under the seed's
// retention policy, through the real local app (folder store, SQLite index, key file) on a manual
// clock: a snapshot after every push, the daily sweep at 00:00, prune at 03:00 (config/schedule.yaml).
// Prints what is kept and what it costs to store and to restore, against one bundle of the newest
// state: the baseline shared pack layers (docs/ARCHITECTURE.md) must beat.
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { git } from "../functions/core/git/exec.js";
import { readRefs } from "../functions/core/git/local-repo.js";
import type { RefMap, Snapshot } from "../functions/core/model.js";
import { layerPrefixes, repoPrefix } from "../functions/core/object-keys.js";
import { lineageKeyOf } from "../functions/core/keys/repository-keys.js";
import { pruneRepo } from "../functions/core/prune.js";
import { compactLineage } from "../functions/core/layers/compact.js";
import { snapshotRepo } from "../functions/core/snapshot.js";
import { incrementalPolicy } from "../functions/config/settings.js";
import type { LocalApp } from "../functions/app.js";
import { openApp } from "../functions/wiring.js";
import { costFigure, monthlyCostByClass } from "./history-cost.js";
import type { Push } from "./history-repo.js";
import { generatedSource, realSource } from "./history-source.js";
import {
  keepRun,
  restoreFigure,
  retimeRestores,
  timeRestore,
  yearBeforeNewest,
  type RestoreFigures,
} from "./history-restore.js";
import { median, ROOT } from "./measure.js";
import { benchLog, goalRow, goalTable, machineLine, writeResult } from "./summary.js";

const USAGE = `usage: npm run bench -- --history [--layers] [--years 3] [--pushes 1] [--files 150] [--keep DIR] [--out FILE]
       npm run bench -- --history --repo PATH [--from YYYY-MM-DD] [--per-day 4] [--layers] [--years 3] ...
       npm run bench -- --history --restore DIR [--out FILE]
  --layers  layered snapshots (snapshots.layers: true), compaction after each prune
  --repo    replay a real repository's history (a bare one, complete: not a partial clone) from its
            commit dates instead of generating one (bench/history-real.ts says how)
  --from    the window's first day (default: --years before the day of its newest commit)
  --per-day most pushes replayed on one day (one per hour that has commits)
  --keep    run in DIR (a new folder) and keep it: the store, the index and each snapshot's refs
  --restore time the restores of a run kept with --keep again (oldest, a year old, newest), with
            the code as it is now; nothing is simulated
  --years   years of history (365 days each; at least 3 for the issue's goal)
  --pushes  mean pushes per weekday (weekends: one push on about one day in six)
  --files   text files at the start (about 4 KiB each; about one more every 8 commits)
  --out     JSON figures (default bench/results/history.json, history-layers.json with --layers)`;

const log = benchLog("history");
const REPO = "acme/history";
const DAY = 86_400_000;
const HOUR = 3_600_000;
const MiB = 2 ** 20;

/** Wall seconds spent in each kind of step of the simulation, and how many ran. */
const spent = { push: [0, 0], sweep: [0, 0], prune: [0, 0] } as Record<
  "push" | "sweep" | "prune",
  [number, number]
>;
const timeStep = async (kind: keyof typeof spent, work: () => Promise<void>) => {
  const started = performance.now();
  await work();
  spent[kind][0] += (performance.now() - started) / 1000;
  spent[kind][1]++;
};

interface Taken {
  snapshot: Snapshot;
  seconds: number;
  /** The source's refs when it was taken: what a restore must give back. */
  refs: RefMap;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== "--history"),
    options: {
      years: { type: "string", default: "3" },
      pushes: { type: "string", default: "1" },
      files: { type: "string", default: "150" },
      out: { type: "string" },
      layers: { type: "boolean", default: false },
      keep: { type: "string" },
      restore: { type: "string" },
      repo: { type: "string" },
      from: { type: "string" },
      "per-day": { type: "string", default: "4" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [years, pushesPerDay, files] = [Number(values.years), Number(values.pushes), Number(values.files)];
  const perDay = Number(values["per-day"]);
  const from = values.from === undefined ? undefined : Date.parse(`${values.from}T00:00:00.000Z`);
  if (
    values.help ||
    !(years > 0) ||
    !(pushesPerDay > 0) ||
    !(files >= 1) ||
    !(perDay >= 1) ||
    Number.isNaN(from)
  ) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.restore)
    return retimeRestores(values.restore, values.out ?? "bench/results/history-restore.json");
  const work = values.keep ?? (await mkdtemp(join(tmpdir(), "infinity-bench-history-")));
  if (values.keep) await mkdir(work);
  try {
    const source = join(work, "source.git");
    const days = Math.round(years * 365);
    const { history, start } = values.repo
      ? await realSource(values.repo, source, { from, days, perDay })
      : await generatedSource(source, { days, years, pushesPerDay, files });
    const configDir = join(work, "config");
    await mkdir(configDir);
    const configFile = join(configDir, "backup-config.yaml");
    const sources = `sources:\n  - name: ${REPO}\n    url: ${JSON.stringify(source)}\n`;
    const layered = values.layers ? "snapshots:\n  layers: true\n" : "";
    await writeFile(
      configFile,
      `version: 1\nbackend: local\nlocal:\n  dataDir: ${join(work, "data")}\n${sources}${layered}`,
    );
    await copyFile(join(ROOT, "config", "retention-policy.yaml"), join(configDir, "retention-policy.yaml"));
    let now = start;
    const clock = { now: () => new Date(now) };
    const app = await openApp(configFile, { clock, env: {} });
    try {
      const taken = await simulate(app, (at) => (now = at), source, history.pushes, { start, days });
      if (values.keep) await keepRun(work, REPO, taken, app.clock.now());
      return await report(app, work, source, taken, {
        years,
        days,
        pushesPerDay,
        files,
        commits: history.commits,
        ...(values.repo
          ? { repo: values.repo, from: new Date(start).toISOString().slice(0, 10), perDay }
          : {}),
        layers: values.layers,
        out:
          values.out ?? (values.layers ? "bench/results/history-layers.json" : "bench/results/history.json"),
      });
    } finally {
      await app.close();
    }
  } finally {
    if (!values.keep) await rm(work, { recursive: true, force: true });
  }
}

/** Replays the pushes with the sweep and prune on their clocks; returns every snapshot taken. */
async function simulate(
  app: LocalApp,
  setClock: (at: number) => void,
  source: string,
  pushes: Push[],
  { start, days }: { start: number; days: number },
): Promise<Map<string, Taken>> {
  const incremental = incrementalPolicy(app.settings);
  const layers = app.settings.backup.snapshots.layers;
  const taken = new Map<string, Taken>();
  let refs = await readRefs(source);
  const snapshot = async (at: number, next: RefMap) => {
    if (next !== refs) await setRefs(source, refs, next);
    refs = next;
    setClock(at);
    const started = performance.now();
    const outcome = await snapshotRepo(app, REPO, { url: source }, { actor: "bench", incremental, layers });
    const seconds = (performance.now() - started) / 1000;
    if (outcome.outcome === "created")
      taken.set(outcome.snapshot.id, { snapshot: outcome.snapshot, seconds, refs });
  };
  const events: { at: number; run: () => Promise<void> }[] = [
    ...pushes.map((push) => ({
      at: push.at,
      run: () => timeStep("push", () => snapshot(push.at, push.refs)),
    })),
  ];
  for (let day = 1; day <= days; day++) {
    const midnight = start + day * DAY;
    events.push({ at: midnight, run: () => timeStep("sweep", () => snapshot(midnight, refs)) });
    const pruneAt = midnight + 3 * HOUR;
    events.push({ at: pruneAt, run: () => timeStep("prune", () => prune(app, setClock, pruneAt)) });
  }
  events.sort((a, b) => a.at - b.at);
  const t0 = performance.now();
  let lastDay = 0;
  for (const event of events) {
    await event.run();
    const day = Math.floor((event.at - start) / DAY);
    if (day - lastDay >= 90) {
      lastDay = day;
      const kept = await app.index.list(REPO);
      // Layers still stored count too (a layered snapshot's own archive is small).
      const layers = ((await app.layers?.layers(REPO)) ?? []).filter((l) => !l.objectDeleted);
      const stored = sum(kept.map((s) => s.size)) + sum(layers.map((l) => l.size + l.oidsSize));
      log(
        `day ${day}: ${taken.size} snapshots taken, ${kept.length} kept, ${(stored / MiB).toFixed(1)} MiB stored (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
  }
  // The last push is the "snapshot after one push"; prune once more so the kept set is the policy's.
  await prune(app, setClock, events.at(-1)!.at + HOUR);
  return taken;
}

async function prune(app: LocalApp, setClock: (at: number) => void, at: number): Promise<void> {
  setClock(at);
  await pruneRepo(app, REPO, app.settings.retention, { dryRun: false, actor: "bench" });
  // Compaction on the prune clock (the job's, once it has a caller): full levels merge.
  if (app.settings.backup.snapshots.layers) await compactLineage(app, REPO, { actor: "bench" });
}

/** Moves the source's refs from `from` to `to` in one transaction (deletions included). */
async function setRefs(source: string, from: RefMap, to: RefMap): Promise<void> {
  const lines = Object.keys(from)
    .filter((ref) => to[ref] === undefined)
    .map((ref) => `delete ${ref}\n`);
  for (const [ref, oid] of Object.entries(to)) if (from[ref] !== oid) lines.push(`update ${ref} ${oid}\n`);
  if (lines.length) await git(["update-ref", "--stdin"], { env: { GIT_DIR: source }, input: lines.join("") });
}

async function report(
  app: LocalApp,
  work: string,
  source: string,
  taken: Map<string, Taken>,
  run: {
    years: number;
    days: number;
    pushesPerDay: number;
    files: number;
    commits: number;
    repo?: string;
    from?: string;
    perDay?: number;
    layers: boolean;
    out: string;
  },
): Promise<number> {
  const kept = (await app.index.list(REPO)).sort((a, b) => a.takenAt.localeCompare(b.takenAt));
  let storedBytes = 0;
  let storedObjects = 0;
  // The repository's archives and its lineage's layers (under layers/<lineage>/ since caec033).
  const listed = new Set<string>();
  for (const prefix of [repoPrefix(REPO), ...layerPrefixes(await lineageKeyOf(app.index, REPO))])
    for await (const object of app.store.list(prefix)) {
      if (listed.has(object.key)) continue; // repos/<lineage>/layers/ is under both prefixes
      listed.add(object.key);
      storedBytes += object.size;
      storedObjects++;
    }
  const newestBundle = join(work, "newest.bundle");
  await git(["bundle", "create", "--quiet", newestBundle, "--all"], { env: { GIT_DIR: source } });
  const bundleBytes = (await stat(newestBundle)).size;
  const expected = (s: Snapshot) => {
    const t = taken.get(s.id);
    if (!t) throw new Error(`kept snapshot ${s.id} was not taken by this run`);
    return t.refs;
  };
  log("restoring the oldest and the newest kept snapshot");
  const oldest = await timeRestore(app, work, kept[0]!, expected(kept[0]!));
  const newest = await timeRestore(app, work, kept.at(-1)!, expected(kept.at(-1)!));
  // The kept snapshot nearest one year before the newest.
  const yearOld = yearBeforeNewest(kept);
  log("restoring the kept snapshot of about a year before the newest");
  const year = await timeRestore(app, work, yearOld, expected(yearOld));
  const last = taken.get(kept.at(-1)!.id)!;
  const all = [...taken.values()];
  const incrementals = all.filter((t) => t.snapshot.kind === "incremental");
  const layeredTaken = all.filter((t) => t.snapshot.kind === "layered");
  const fulls = all.filter((t) => t.snapshot.kind === "full");
  const ratio = storedBytes / bundleBytes;
  const restoreRatio = (r: RestoreFigures) => r.ourSeconds / r.cloneSeconds;
  const goals = [
    goalRow(
      "stored bytes / one bundle of the newest state",
      `${ratio.toFixed(1)}x (${mib(storedBytes)} / ${mib(bundleBytes)})`,
      "<= 2x",
      ratio <= 2,
    ),
    goalRow(
      `restore of the oldest kept (${oldest.takenAt.slice(0, 10)}, ${oldest.archivesRead} archives) / git clone --mirror of a bundle`,
      restoreFigure(oldest),
      "<= 1.5x",
      restoreRatio(oldest) <= 1.5,
    ),
    goalRow(
      `restore of the kept one nearest a year before the newest (${year.takenAt.slice(0, 10)}, ${year.archivesRead} archives) / git clone --mirror of a bundle`,
      restoreFigure(year),
      "<= 1.5x",
      restoreRatio(year) <= 1.5,
    ),
    goalRow(
      `restore of the newest kept (${newest.archivesRead} archives) / git clone --mirror of a bundle`,
      restoreFigure(newest),
      "<= 1.5x",
      restoreRatio(newest) <= 1.5,
    ),
    goalRow(
      `snapshot after one push (${last.snapshot.kind})`,
      `${last.seconds.toFixed(2)} s, ${kib(last.snapshot.size)} (${kib(last.snapshot.bundleBytes)} of git data)`,
      "<= 2 s, about the new objects",
      last.seconds <= 2,
    ),
  ];
  const cost = await monthlyCostByClass(app, REPO, app.clock.now());
  goals.push(
    goalRow(
      "cost per month in a bucket (classes daily prunes set; reads: verifications, drills)",
      costFigure(cost),
      "",
    ),
  );
  const byKind = (kind: string) => kept.filter((s) => s.kind === kind).length;
  const layerRecords = (await app.layers?.layers(REPO)) ?? [];
  const liveLayers = layerRecords.filter((l) => l.state === "live");
  const layerLine = layerRecords.length
    ? `; layers: ${liveLayers.length} live (${liveLayers.map((l) => l.objects).join(", ")} objects), ${layerRecords.length - liveLayers.length} retired or dead`
    : "";
  console.log(
    [
      "",
      `infinity-backup bench --history: ${machineLine()}`,
      `${run.days} days (${run.years} years) of ${REPO}: ${run.commits} commits, ${all.length} snapshots taken (${fulls.length} full, ${incrementals.length} incremental, ${layeredTaken.length} layered), daily sweep 00:00, prune 03:00${run.layers ? " then compaction" : ""}, policy config/retention-policy.yaml`,
      `kept ${kept.length} snapshots (${byKind("full")} full, ${byKind("incremental")} incremental, ${byKind("layered")} layered); ${storedObjects} objects in the store${layerLine}`,
      ...(layeredTaken.length
        ? [
            `layered snapshot seconds, median ${median(layeredTaken.map((t) => t.seconds)).toFixed(2)}; median own archive ${kib(median(layeredTaken.map((t) => t.snapshot.size)))}, median git data ${kib(median(layeredTaken.map((t) => t.snapshot.bundleBytes)))}`,
          ]
        : []),
      ...(fulls.length
        ? [
            `snapshot seconds, median: full ${median(fulls.map((t) => t.seconds)).toFixed(2)}, incremental ${median(incrementals.map((t) => t.seconds)).toFixed(2)}; median archive: full ${kib(median(fulls.map((t) => t.snapshot.size)))}, incremental ${kib(median(incrementals.map((t) => t.snapshot.size)))}`,
          ]
        : []),
      `simulation: ${Object.entries(spent)
        .map(([kind, [seconds, n]]) => `${kind} ${n} x ${(seconds / Math.max(n, 1)).toFixed(2)} s`)
        .join(", ")}; peak RSS of this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
      "",
      goalTable(
        ["what", "figure", "goal", "met?"],
        goals.map((g) => [g.what, g.figure, g.goal, g.met]),
      ),
    ].join("\n"),
  );
  await writeResult(run.out, {
    run,
    spent,
    kept: kept.length,
    keptFull: byKind("full"),
    keptIncremental: byKind("incremental"),
    taken: { full: fulls.length, incremental: incrementals.length },
    storedBytes,
    storedObjects,
    bundleBytes,
    restore: { oldest, year, newest },
    cost,
    layers: { live: liveLayers.length, records: layerRecords.length },
    layeredMedianSeconds: layeredTaken.length ? median(layeredTaken.map((t) => t.seconds)) : undefined,
    lastPush: {
      seconds: last.seconds,
      size: last.snapshot.size,
      bundleBytes: last.snapshot.bundleBytes,
      kind: last.snapshot.kind,
    },
    keptSnapshots: kept.map((s) => ({ id: s.id, takenAt: s.takenAt, kind: s.kind, size: s.size })),
  });
  return 0;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
