// The status page with 5,000 repositories, in headless Chromium over the local default: the page
// stays small (the rows travel packed, status-rows.ts), the totals equal the index, and
// pagination, the state filter and search reach the right rows. How fast it is ready is measured
// by bench/status-page.ts, not here: no timing is asserted on a shared machine.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalApp } from "../../functions/app.js";
import { startStatusServer, type StatusServer } from "../../functions/web/status-server.js";
import { seedStatusIndex, statusPlan, type PlannedRepo } from "../helpers/status-fixture.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { openStatusPage } from "../helpers/status-browser.js";

const N = 5000;
/** The page's size bound: 1.8 MB when every row was a JSON object. */
const MAX_HTML_BYTES = 400 * 1024;

let scratch: string;
let ws: TestWorkspace;
let app: LocalApp;
let server: StatusServer;
let browser: Browser;
let page: Page;
let plan: PlannedRepo[];
let htmlBytes: number;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-status-scale-"));
  plan = statusPlan(N).sort((a, b) => (a.repo < b.repo ? -1 : 1)); // the report's order: by name
  ws = await workspace(Object.fromEntries(plan.map((p) => [p.repo, join(scratch, "nowhere.git")])));
  app = await ws.open();
  await seedStatusIndex(app.index, N, new Date());
  server = await startStatusServer(app, { port: 0 });
  const opened = await openStatusPage(server.url, { readyMs: 60_000 });
  ({ browser, page } = opened);
  htmlBytes = (await opened.response.body()).length;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

const text = (selector: string) => page.locator(selector).first().innerText();
const shownRepos = () =>
  page.locator("#rows tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.repo));
const cellsOf = (repo: string) => page.locator(`#rows tr[data-repo="${repo}"] td`).allInnerTexts();
const count = (state: string) => plan.filter((p) => p.state === state).length;

describe(`the status page with ${N.toLocaleString("en")} repositories`, () => {
  it(`is under ${MAX_HTML_BYTES / 1024} KiB of HTML, and its totals equal the index`, async () => {
    console.log(`status page with ${N} repositories: ${htmlBytes} bytes of HTML`);
    expect(htmlBytes).toBeLessThan(MAX_HTML_BYTES);
    let snapshots = 0;
    for (const p of plan.slice(0, 50))
      expect((await app.index.list(p.repo)).length, p.repo).toBe(p.snapshots);
    for (const p of plan) snapshots += p.snapshots;
    expect((await app.index.repos()).length).toBe(plan.filter((p) => p.snapshots).length);
    expect(await text('[data-testid="tile-repositories"] b')).toBe(String(N));
    expect(await text('[data-testid="tile-snapshots"] b')).toBe(String(snapshots));
    for (const state of ["healthy", "stale", "failing", "unverified"])
      expect(await text(`[data-testid="tile-${state}"] b`), state).toBe(String(count(state)));
    expect(count("healthy") + count("stale") + count("failing") + count("unverified")).toBe(N);
  });

  it("shows the first 50 rows, and pagination reaches the next and the last page", async () => {
    expect(await text('[data-testid="shown"]')).toBe(`1-50 of ${N}`);
    expect(await shownRepos()).toEqual(plan.slice(0, 50).map((p) => p.repo));
    await page.click('[data-testid="next"]');
    expect(await shownRepos()).toEqual(plan.slice(50, 100).map((p) => p.repo));
    expect(await text('[data-testid="shown"]')).toBe(`51-100 of ${N}`);
    while (await page.locator('[data-testid="next"]:not([disabled])').count())
      await page.click('[data-testid="next"]');
    expect(await text('[data-testid="shown"]')).toBe(`${N - 49}-${N} of ${N}`);
    expect(await shownRepos()).toEqual(plan.slice(N - 50).map((p) => p.repo));
    // A row far from the first page shows the index's figures for it.
    const last = plan
      .slice(N - 50)
      .reverse()
      .find((p) => p.snapshots > 0)!;
    const cells = await cellsOf(last.repo);
    expect(cells[1]).toBe(last.state);
    expect(cells[6]).toBe(String((await app.index.list(last.repo)).length));
    const stored = (await app.index.list(last.repo)).reduce((n, s) => n + s.size, 0);
    expect(stored).toBe(last.storedBytes);
    expect(cells[7]).toBe(
      `${(stored / 1024 ** Math.floor(Math.log2(stored) / 10)).toFixed(1)} ${stored < 2 ** 20 ? "KiB" : "MiB"}`,
    );
  });

  it("filters by state: every failing repository, and only those, page by page", async () => {
    await page.selectOption('[data-testid="state"]', "failing");
    const failing = plan.filter((p) => p.state === "failing");
    expect(await text('[data-testid="shown"]')).toBe(`1-50 of ${failing.length}`);
    expect(await shownRepos()).toEqual(failing.slice(0, 50).map((p) => p.repo));
    await page.click('[data-testid="next"]');
    expect(await shownRepos()).toEqual(failing.slice(50, 100).map((p) => p.repo));
    const [first] = await shownRepos();
    expect((await cellsOf(first!))[4]).toMatch(/^failed deep/);
    await page.selectOption('[data-testid="state"]', "");
  });

  it("searches by name, alone and with the filter", async () => {
    const one = plan[4321]!;
    await page.fill('[data-testid="search"]', one.repo.toUpperCase());
    expect(await shownRepos()).toEqual([one.repo]);
    expect(await text('[data-testid="shown"]')).toBe("1-1 of 1");
    expect((await cellsOf(one.repo))[1]).toBe(one.state);
    await page.fill('[data-testid="search"]', "umbrella/");
    await page.selectOption('[data-testid="state"]', "failing");
    const both = plan.filter((p) => p.repo.startsWith("umbrella/") && p.state === "failing");
    expect(both.length).toBeGreaterThan(0);
    expect(await text('[data-testid="shown"]')).toBe(`1-${Math.min(50, both.length)} of ${both.length}`);
    expect(await shownRepos()).toEqual(both.slice(0, 50).map((p) => p.repo));
    await page.fill('[data-testid="search"]', "no-such-repository");
    expect(await text('[data-testid="shown"]')).toBe(`none of ${N}`);
  });
});
