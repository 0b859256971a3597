// `npx tsx bench/status-page.ts`: how fast the status page is ready with many repositories. For an
// empty index, 500 and 5,000 repositories (test/helpers/status-fixture.ts: index records in a fixed
// mix of states), `infinity-backup serve`'s server answers over the local default, and headless
// Chromium (the @sparticuz/chromium browser, as in the tests) navigates to it until the page marks
// itself ready (body[data-ready]). Each size is loaded --rounds times; the medians are printed with
// their ratio to the empty page's, measured in the same run, and the HTML's size; the server's part
// (navigation to the first byte: the health report) apart from the page's (first byte to ready).
// It asserts no timing; it fails only when a page is not ready or shows another repository count
// than the plan.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import chromium from "@sparticuz/chromium";
import { chromium as playwright } from "playwright-core";
import { startStatusServer } from "../functions/web/status-server.js";
import { seedStatusIndex, statusPlan } from "../test/helpers/status-fixture.js";
import { workspace } from "../test/helpers/local-app.js";
import { benchLog, goalRow, goalTable, machineLine } from "./summary.js";

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "0,500,5000" }, rounds: { type: "string", default: "5" } },
});
const sizes = values.sizes.split(",").map(Number);
const rounds = Number(values.rounds);
const say = benchLog("status-page");

interface Figure {
  repos: number;
  htmlBytes: number;
  /** Navigation start to body[data-ready], median ms. */
  readyMs: number;
  /** Navigation start to the response's first byte (the server's part), median ms. */
  firstByteMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
    for (const n of sizes) {
      // Every repository is in the config's sources (the page lists what is expected), none on disk.
      const ws = await workspace(
        Object.fromEntries(statusPlan(n).map((p) => [p.repo, join(scratch, "none")])),
      );
      const app = await ws.open();
      const t0 = performance.now();
      await seedStatusIndex(app.index, n, new Date());
      say(`${n} repositories seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const server = await startStatusServer(app, { port: 0 });
      const ready: number[] = [];
      const firstByte: number[] = [];
      let htmlBytes = 0;
      try {
        for (let round = 0; round <= rounds; round++) {
          const response = await page.goto(server.url, { timeout: 600_000 });
          await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
          // Measured by the page itself: navigation start is time 0.
          const [readyAt, responseStart] = await page.evaluate(() => [
            performance.now(),
            (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseStart,
          ]);
          htmlBytes = (await response!.body()).length;
          const shown = await page.locator('[data-testid="tile-repositories"] b').innerText();
          if (shown !== String(n)) throw new Error(`the page shows ${shown} repositories, not ${n}`);
          if (round === 0) continue; // a warm-up: the first load compiles the page's script
          ready.push(readyAt);
          firstByte.push(responseStart);
        }
      } finally {
        await server.close();
        await app.close();
        await ws.cleanup();
      }
      figures.push({ repos: n, htmlBytes, readyMs: median(ready), firstByteMs: median(firstByte) });
      say(`${n} repositories: ready in ${median(ready).toFixed(0)} ms (median of ${rounds})`);
    }
  } finally {
    await browser.close();
    await rm(scratch, { recursive: true, force: true });
  }
  const empty = figures.find((f) => f.repos === 0);
  // The page's own part (first byte to ready) apart from the server's (the health report).
  const pageMs = (f: Figure) => f.readyMs - f.firstByteMs;
  const rows = figures.map((f) =>
    goalRow(
      `${f.repos} repositories (${(f.htmlBytes / 1024).toFixed(0)} KiB of HTML)`,
      `page ${pageMs(f).toFixed(0)} ms` +
        (empty && f !== empty ? ` (${(pageMs(f) / pageMs(empty)).toFixed(2)}x the empty page)` : "") +
        `; server ${f.firstByteMs.toFixed(0)} ms; ready ${f.readyMs.toFixed(0)} ms` +
        (empty && f !== empty ? ` (${(f.readyMs / empty.readyMs).toFixed(2)}x)` : ""),
      f.repos >= 5000 ? "page < 1 s" : "",
      f.repos >= 5000 ? pageMs(f) < 1000 : undefined,
    ),
  );
  console.log(
    goalTable(
      ["what", "figure", "goal", "met"],
      rows.map((r) => [r.what, r.figure, r.goal, r.met]),
    ),
  );
  console.log(machineLine());
}

await main();
