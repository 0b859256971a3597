// `npx tsx bench/status-page.ts`: how fast the status page is ready with many repositories, on the
// local default and on the emulated deployment. For an empty index, 500 and 5,000 repositories
// (test/helpers/status-fixture.ts: index records in a fixed mix of states), headless Chromium (the
// @sparticuz/chromium browser, as in the tests) navigates to the page until it marks itself ready
// (body[data-ready]): over the local default, `infinity-backup serve`'s server on a SQLite index; over
// the emulated deployment, backupHealth served by the Functions Framework on the Firestore emulator
// (test/helpers/cloud-stack.ts, with the Pub/Sub emulator and fake-gcs-server, as the e2e tests run
// it). Each size is loaded --rounds times after a first, unmeasured load (it compiles the page's
// script and opens the incidents the fixture's stale repositories raise); the medians are printed
// with their ratio to the empty page's of the same backend, measured in the same run, and the HTML's
// size; the server's part (navigation to the first byte: the health report) apart from the page's
// (first byte to ready). It asserts no timing; it fails only when a page is not ready or shows
// another repository count than the plan.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import chromium from "@sparticuz/chromium";
import { chromium as playwright, type Page } from "playwright-core";
import { newObjectClass, type Deps } from "../functions/app.js";
import type { Settings } from "../functions/config/settings.js";
import { keepRepoReplay } from "../functions/core/class-checkpoints.js";
import { forgetReplays } from "../functions/core/expected-classes.js";
import type { SnapshotIndex } from "../functions/core/ports.js";
import { setLogWriter } from "../functions/log.js";
import { startStatusServer } from "../functions/web/status-server.js";
import { startCloudStack } from "../test/helpers/cloud-stack.js";
import { seedStatusIndex, statusPlan } from "../test/helpers/status-fixture.js";
import { workspace } from "../test/helpers/local-app.js";
import { startServices } from "./services.js";
import { profileStatus } from "./status-profile.js";
import { benchLog, goalRow, goalTable, machineLine } from "./summary.js";

const BACKENDS = ["local", "emulated"] as const;
type Backend = (typeof BACKENDS)[number];

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "0,500,5000" },
    rounds: { type: "string", default: "5" },
    backends: { type: "string", default: BACKENDS.join(",") },
    profile: { type: "boolean", default: false },
    "skip-sweep": { type: "boolean", default: false },
    history: { type: "string", default: "0" },
    // Leave out the nightly prune's kept storage-class replays: each first load replays every
    // repository from its first snapshot, as before core/class-checkpoints.ts.
    "no-kept-replays": { type: "boolean", default: false },
  },
});
// Ascending: the emulated deployment's index grows from one size to the next.
const sizes = values.sizes
  .split(",")
  .map(Number)
  .sort((a, b) => a - b);
const rounds = Number(values.rounds);
/** Older snapshots per backed-up repository (test/helpers/status-fixture.ts historyAges). */
const history = Number(values.history);
const backends = values.backends.split(",").map((b) => {
  if (!BACKENDS.includes(b as Backend))
    throw new Error(`--backends: ${b} is not one of ${BACKENDS.join(", ")}`);
  return b as Backend;
});
const say = benchLog("status-page");

interface Figure {
  backend: Backend;
  repos: number;
  /** A variant's label (measure()): what changed before each load. */
  variant?: string;
  htmlBytes: number;
  /** Navigation start to body[data-ready] as the driver sees it (a round trip to the page after it), median ms. */
  readyMs: number;
  /**
   * The page's own marks, median ms from navigation start: the last byte received, the page's
   * script starting (the HTML and the chart library parsed), done (ready), and the first frame
   * painted after it (the page rendered).
   */
  marks: { responseEnd: number; script: number; ready: number; painted: number };
  /** Navigation start to the response's first byte (the server's part), median ms. */
  firstByteMs: number;
  /** The same for the first load (nothing remembered yet: a fresh `serve` or backupHealth instance). */
  firstLoadFirstByteMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What a measure() of an already warm server does differently. */
interface Variant {
  /** Said after the size: what changed before each load. */
  label: string;
  /** Loads measured; there is no warm-up load. */
  loads: number;
  /** Before each load. */
  before: () => Promise<void>;
}

/**
 * Loads `url` rounds + 1 times (the first unmeasured); the medians. With `variant`: its loads,
 * each after its change, all measured.
 */
async function measure(
  page: Page,
  url: string,
  backend: Backend,
  n: number,
  shows: number,
  variant?: Variant,
): Promise<Figure> {
  const ready: number[] = [];
  const firstByte: number[] = [];
  const marks: Figure["marks"][] = [];
  let htmlBytes = 0;
  let firstLoad = 0;
  for (let round = variant ? 1 : 0; round <= (variant?.loads ?? rounds); round++) {
    await variant?.before();
    const response = await page.goto(url, { timeout: 600_000 });
    await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
    // Measured by the page itself: navigation start is time 0.
    const [readyAt, responseStart] = await page.evaluate(() => [
      performance.now(),
      (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseStart,
    ]);
    await page.waitForFunction(() => performance.getEntriesByName("status-painted").length > 0);
    // No named function inside: tsx would wrap it in a helper the page does not have.
    const marked = await page.evaluate(() => ({
      responseEnd: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseEnd,
      script: performance.getEntriesByName("status-script")[0]?.startTime ?? NaN,
      ready: performance.getEntriesByName("status-ready")[0]?.startTime ?? NaN,
      painted: performance.getEntriesByName("status-painted")[0]?.startTime ?? NaN,
    }));
    htmlBytes = (await response!.body()).length;
    const shown = await page.locator('[data-testid="tile-repositories"] b').innerText();
    if (shown !== String(shows))
      throw new Error(`${backend}: the page shows ${shown} repositories, not ${shows}`);
    if (round === 0) {
      firstLoad = responseStart;
      continue; // a warm-up: the first load compiles the page's script
    }
    ready.push(readyAt);
    firstByte.push(responseStart);
    marks.push(marked);
  }
  const markMedian = (key: keyof Figure["marks"]) => median(marks.map((m) => m[key]));
  const figure: Figure = {
    backend,
    repos: n,
    ...(variant ? { variant: variant.label } : {}),
    htmlBytes,
    readyMs: median(ready),
    firstByteMs: median(firstByte),
    firstLoadFirstByteMs: firstLoad,
    marks: {
      responseEnd: markMedian("responseEnd"),
      script: markMedian("script"),
      ready: markMedian("ready"),
      painted: markMedian("painted"),
    },
  };
  const m = figure.marks;
  say(
    `${backend}, ${n} repositories${variant ? `, ${variant.label}` : ""}: server ${figure.firstByteMs.toFixed(0)} ms, ready ${figure.readyMs.toFixed(0)} ms` +
      ` (page's marks: last byte ${m.responseEnd.toFixed(0)}, script ${m.script.toFixed(0)},` +
      ` done ${m.ready.toFixed(0)}, painted ${m.painted.toFixed(0)} ms)`,
  );
  return figure;
}

/** `infinity-backup serve` over a local index per size; every repository is in the config's sources. */
async function local(page: Page, scratch: string): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const n of sizes) {
    const ws = await workspace(Object.fromEntries(statusPlan(n).map((p) => [p.repo, join(scratch, "none")])));
    const app = await ws.open();
    const t0 = performance.now();
    await seedStatusIndex(app.index, n, new Date(), { history });
    say(`local: ${n} repositories seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await asAfterPrune("local", app, app.settings);
    const server = await startStatusServer(app, { port: 0 });
    try {
      figures.push(await measure(page, server.url, "local", n, n));
      if (values.profile) printProfile("local", n, await profileStatus(app));
    } finally {
      await server.close();
      await app.close();
      await ws.cleanup();
    }
  }
  return figures;
}

/**
 * backupHealth's page over the emulated deployment, one index growing from size to size. It knows
 * the repositories with a snapshot or an attempt (the config lists none), so the plan's never
 * backed-up tenth is not on it.
 */
async function emulated(page: Page): Promise<Figure[]> {
  const services = await startServices(["pubsub", "firestore", "gcs"], say);
  const quiet = setLogWriter(() => {}); // backupHealth logs a line per stale repository
  const figures: Figure[] = [];
  try {
    const stack = await startCloudStack();
    try {
      const index = (await stack.app()).index;
      let seeded = 0;
      for (const n of sizes) {
        const t0 = performance.now();
        await seedStatusIndex(index, n, new Date(), { from: seeded, lanes: 16, history });
        seeded = n;
        say(`emulated: ${n} repositories seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        const app = await stack.app("pruneSnapshots");
        await asAfterPrune("emulated", app, app.settings);
        const shows = statusPlan(n).filter((p) => p.snapshots > 0).length;
        figures.push(await measure(page, stack.url("backupHealth"), "emulated", n, shows));
        // backupHealth keeps its last read and reads only what changed since (the index's warm
        // read): the loads above changed nothing. A sweep confirms every repository and records
        // its attempt, so the first load after one reads every document again.
        if (n > 0 && n === sizes.at(-1) && !values["skip-sweep"])
          figures.push(
            await measure(page, stack.url("backupHealth"), "emulated", n, shows, {
              label: "every repository confirmed since the last load, as after a sweep",
              loads: 1,
              before: () => sweepLike(index),
            }),
          );
        if (values.profile) {
          const app = await stack.app("backupHealth");
          const deadLetters = app.deadLetters;
          printProfile(
            "emulated",
            n,
            await profileStatus(
              app,
              deadLetters ? [["dead-letter count", () => deadLetters.count(100)]] : [],
            ),
          );
        }
      }
    } finally {
      await stack.close();
    }
  } finally {
    setLogWriter(quiet);
    await services.stop();
  }
  return figures;
}

/**
 * What the nightly prune leaves beside the index: each repository's storage-class replay, kept
 * (core/class-checkpoints.ts), unless --no-kept-replays. Then every replay this process remembers
 * is forgotten, so the first load is a process just started (serve, a new backupHealth instance).
 */
async function asAfterPrune(backend: Backend, deps: Deps, settings: Settings): Promise<void> {
  if (!values["no-kept-replays"]) {
    const t0 = performance.now();
    const setting = { policy: settings.retention, now: new Date(), newObjectClass: newObjectClass(settings) };
    const repos = await deps.index.repos();
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < repos.length; i = next++) await keepRepoReplay(deps, repos[i]!, setting);
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    const s = (performance.now() - t0) / 1000;
    say(`${backend}: ${repos.length} storage-class replays kept, as prune keeps them, in ${s.toFixed(1)} s`);
  }
  forgetReplays();
}

/** What a sweep writes for every repository with nothing new: a confirmation and an attempt. */
async function sweepLike(index: SnapshotIndex): Promise<void> {
  const at = new Date().toISOString();
  const latest = [...(await index.listAll())].flatMap(([repo, list]) =>
    list[0] ? [[repo, list[0].id]] : [],
  );
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < latest.length; i = next++) {
      const [repo, id] = latest[i]!;
      await index.confirm(repo!, id!, at);
      await index.recordAttempt(repo!, { at, outcome: "unchanged", snapshotId: id! });
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

/** --profile: each part of the server's answer timed alone (bench/status-profile.ts). */
function printProfile(backend: Backend, n: number, parts: [string, number][]): void {
  for (const [name, ms] of parts) say(`profile ${backend}, ${n} repositories: ${name} ${ms.toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "infinity-bench-status-"));
  const browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    headless: true,
  });
  // One page for the whole run: the @sparticuz/chromium browser is single-process, and closing its
  // last page closes it.
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: "en-US" });
  const figures: Figure[] = [];
  try {
    if (backends.includes("local")) figures.push(...(await local(page, scratch)));
    if (backends.includes("emulated")) figures.push(...(await emulated(page)));
  } finally {
    await browser.close();
    await rm(scratch, { recursive: true, force: true });
  }
  // The page's own part (first byte to ready) apart from the server's (the health report).
  const pageMs = (f: Figure) => f.readyMs - f.firstByteMs;
  const rows = figures.map((f) => {
    const empty = figures.find((e) => e.backend === f.backend && e.repos === 0);
    const against = empty && f !== empty;
    return goalRow(
      `${f.backend}, ${f.repos} repositories${f.variant ? `, ${f.variant}` : ""} (${(f.htmlBytes / 1024).toFixed(0)} KiB of HTML)`,
      `server ${f.firstByteMs.toFixed(0)} ms` +
        (against ? ` (${(f.firstByteMs / empty.firstByteMs).toFixed(2)}x empty)` : "") +
        `; page ${pageMs(f).toFixed(0)} ms` +
        (against ? ` (${(pageMs(f) / pageMs(empty)).toFixed(2)}x)` : "") +
        `; ready ${f.readyMs.toFixed(0)} ms` +
        (against ? ` (${(f.readyMs / empty.readyMs).toFixed(2)}x)` : "") +
        `; painted (page's mark) ${f.marks.painted.toFixed(0)} ms` +
        `, script ${(f.marks.ready - f.marks.script).toFixed(0)} ms` +
        (f.variant ? "" : `; first load's server ${f.firstLoadFirstByteMs.toFixed(0)} ms`),
      f.repos >= 5000 ? "server < 1 s" : "",
      f.repos >= 5000 ? f.firstByteMs < 1000 : undefined,
    );
  });
  console.log(
    goalTable(
      ["what", "figure", "goal", "met"],
      rows.map((r) => [r.what, r.figure, r.goal, r.met]),
    ),
  );
  console.log(machineLine());
}

await main();
