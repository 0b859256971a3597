// The status page in a real headless Chromium (playwright-core driving the browser that the
// @sparticuz/chromium package ships; nothing is downloaded at run time), over the local default:
// the numbers shown equal the index, search and the state filter work, the charts are drawn, and
// a screenshot is kept in test-artifacts/.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JsonlAuditLog } from "../../functions/adapters/local/jsonl-audit-log.js";
import type { LocalApp } from "../../functions/app.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import type { AuditReader } from "../../functions/core/ports.js";
import { main } from "../../functions/cli/main.js";
import { startStatusServer, type StatusServer } from "../../functions/web/status-server.js";
import { ManualClock } from "../contract/snapshot-index.js";
import { richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { openStatusPage } from "../helpers/status-browser.js";

const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
const cli = (...argv: string[]) => main(argv, { stdout: quiet, stderr: quiet });

let scratch: string;
let ws: TestWorkspace;
let app: LocalApp;
let server: StatusServer;
let browser: Browser;
let page: Page;
/** What the page asked of the audit trail: whole reads, and window reads with what they answered. */
const asked = { stored: 0, windows: [] as { since: string; entries: AuditEntry[] }[] };

/** The app's trail, counting what the status page reads of it. */
function counting(trail: AuditReader): AuditReader {
  return {
    stored: () => {
      asked.stored += 1;
      return trail.stored();
    },
    entriesSince: async (actions, since) => {
      const entries = await trail.entriesSince(actions, since);
      asked.windows.push({ since, entries });
      return entries;
    },
  };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-status-page-"));
  const app1 = await richRepo(join(scratch, "a"));
  const lib = await richRepo(join(scratch, "b"));
  ws = await workspace({ "acme/app": app1, "acme/lib": lib, "acme/missing": join(scratch, "nowhere.git") });
  const config = ["--config", ws.configFile];
  // Entries older than the page's 60 days: failures and a restore 90 days ago, which the page
  // must neither show nor read.
  const old = new JsonlAuditLog({
    path: join(ws.dir, "data", "audit.jsonl"),
    clock: new ManualClock(new Date(Date.now() - 90 * 86_400_000)),
  });
  for (const action of ["snapshot.failed", "verify.failed", "drill.failed"])
    await old.record({ action, repo: "acme/lib", actor: "test", outcome: "failure" });
  await old.record({
    action: "restore.completed",
    repo: "acme/lib",
    actor: "cli:test",
    outcome: "success",
    details: { seconds: 7 },
  });
  await cli("backup", ...config, "--repo", "acme/app");
  await cli("backup", ...config, "--repo", "acme/app"); // unchanged: a confirmation, no new snapshot
  await cli("backup", ...config, "--repo", "acme/lib", "--no-verify");
  await cli("backup", ...config, "--repo", "acme/missing");
  await cli("restore", ...config, "--repo", "acme/app", "--to", join(scratch, "restored.git"));
  app = await ws.open();
  // A failed verification and a failed drill, as verify and drill record them, for the failures chart.
  await app.audit.record({ action: "verify.failed", repo: "acme/lib", actor: "test", outcome: "failure" });
  await app.audit.record({ action: "drill.failed", repo: "acme/app", actor: "test", outcome: "failure" });
  await app.audit.record({ action: "drill.failed", repo: "acme/lib", actor: "test", outcome: "failure" });
  server = await startStatusServer({ ...app, auditTrail: counting(app.auditTrail) }, { port: 0 });
  ({ browser, page } = await openStatusPage(server.url, { readyMs: 20_000, consoleErrors: true }));
}, 180_000);

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

describe("the status page in Chromium", () => {
  it("shows the index's numbers: repositories, snapshots, states", async () => {
    const repos = ["acme/app", "acme/lib", "acme/missing"];
    const snapshots = await Promise.all(repos.map((r) => app.index.list(r)));
    const total = snapshots.reduce((n, list) => n + list.length, 0);
    expect(total).toBe(2);
    expect(await text('[data-testid="tile-repositories"] b')).toBe("3");
    expect(await text('[data-testid="tile-snapshots"] b')).toBe(String(total));
    expect(await text('[data-testid="tile-healthy"] b')).toBe("1");
    expect(await text('[data-testid="tile-unverified"] b')).toBe("1");
    expect(await text('[data-testid="tile-failing"] b')).toBe("1");
    expect(await text('[data-testid="verdict"]')).toBe("NEEDS ATTENTION");
    // The named checks as badges: the local parts work; acme/missing was never backed up.
    expect(await text('[data-testid="check-storage"]')).toBe("storage ok");
    expect(await text('[data-testid="check-key"]')).toBe("key ok");
    expect(await text('[data-testid="check-stale"]')).toBe("stale failed");
    expect(await shownRepos()).toEqual(repos);
    for (const [i, repo] of repos.entries()) {
      const cells = await page.locator(`#rows tr[data-repo="${repo}"] td`).allInnerTexts();
      expect(cells[6], repo).toBe(String(snapshots[i]!.length));
    }
    const appRow = await page.locator('#rows tr[data-repo="acme/app"] td').allInnerTexts();
    expect(appRow[1]).toBe("healthy");
    expect(appRow[4]).toMatch(/^ok deep/);
    expect(appRow[10]).toMatch(/^\d+ s, /); // the restore, from the audit trail
    const missing = await page.locator('#rows tr[data-repo="acme/missing"] td').allInnerTexts();
    expect(missing[12]).toMatch(/last backup attempt failed/);
  });

  it("filters by state and searches by name", async () => {
    await page.selectOption('[data-testid="state"]', "failing");
    expect(await shownRepos()).toEqual(["acme/missing"]);
    await page.selectOption('[data-testid="state"]', "");
    await page.fill('[data-testid="search"]', "LIB");
    expect(await shownRepos()).toEqual(["acme/lib"]);
    expect(await text('[data-testid="shown"]')).toBe("1-1 of 1");
    await page.fill('[data-testid="search"]', "nothing-like-this");
    expect(await shownRepos()).toEqual([]);
    expect(await text('[data-testid="shown"]')).toBe("none of 3");
    await page.fill('[data-testid="search"]', "");
  });

  it("counts the failures the audit trail records, per kind and per day", async () => {
    const entries: AuditEntry[] = [];
    for await (const stored of app.auditTrail.stored()) entries.push(stored.value as AuditEntry);
    const view = await page.evaluate(
      () => JSON.parse(document.getElementById("status-data")!.textContent!) as unknown,
    );
    const { audit, failures, series, restores } = view as {
      audit: { since: string; chainVerified: boolean };
      failures: Record<string, number[]>;
      series: { day: string[] };
      restores: { at: string; repo: string; seconds: number; drill?: boolean }[];
    };
    expect(audit).toEqual({ since: `${series.day[0]}T00:00:00.000Z`, chainVerified: false });
    expect(await text('[data-testid="audit-window"]')).toContain(`from ${series.day[0]} on`);
    const windowed = entries.filter((e) => e.at >= audit.since);
    const count = (action: string) => windowed.filter((e) => e.action === action).length;
    // acme/missing's backup failed (its source does not exist), the two drills and the verification above.
    expect([count("snapshot.failed"), count("verify.failed"), count("drill.failed")]).toEqual([1, 1, 2]);
    // The old calculation, over the whole trail: failures per day of the series, and the timed restores.
    const perDay = (action: string) =>
      series.day.map((day) => entries.filter((e) => e.action === action && e.at.startsWith(day)).length);
    expect(failures).toEqual({
      backup: perDay("snapshot.failed"),
      verification: perDay("verify.failed"),
      drill: perDay("drill.failed"),
    });
    const timedRestores = entries.filter((e) => e.action === "restore.completed" && e.at >= audit.since);
    expect(restores.map((r) => [r.repo, r.at])).toEqual(timedRestores.map((e) => [e.repo, e.at]));
    // What the page read: one window, from its first day on; nothing before it, and never the whole trail.
    const older = entries.filter((e) => e.at < audit.since);
    expect(older.map((e) => e.action).sort()).toEqual(
      ["drill.failed", "restore.completed", "snapshot.failed", "verify.failed"].sort(),
    );
    expect(asked.stored).toBe(0);
    expect(asked.windows.length).toBeGreaterThan(0);
    for (const w of asked.windows) {
      expect(w.since >= audit.since.slice(0, 10)).toBe(true);
      expect(w.entries.filter((e) => e.at < audit.since)).toEqual([]);
    }
    expect(await text('[data-testid="failures-backup"]')).toBe("1");
    expect(await text('[data-testid="failures-verification"]')).toBe("1");
    expect(await text('[data-testid="failures-drill"]')).toBe("2");
    // Today's bars, as the chart holds them: the last point of each series.
    const today = await page.evaluate(() => {
      const view = JSON.parse(document.getElementById("status-data")!.textContent!) as {
        failures: Record<string, number[]>;
        series: { day: string[] };
      };
      return {
        day: view.series.day.at(-1),
        ...Object.fromEntries(Object.entries(view.failures).map(([k, v]) => [k, v.at(-1)])),
      };
    });
    expect(today).toEqual({
      day: new Date().toISOString().slice(0, 10),
      backup: 1,
      verification: 1,
      drill: 2,
    });
  });

  it("draws the charts with the chart library bundled in the page, and keeps a screenshot", async () => {
    for (const id of ["chart-snapshots", "chart-bytes", "chart-restores", "chart-failures"])
      expect(await page.locator(`#${id} canvas`).count(), id).toBe(1);
    const external = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((e) => e.name)
        .filter((n) => !n.startsWith(location.origin)),
    );
    expect(external).toEqual([]);
    await mkdir("test-artifacts", { recursive: true });
    await page.screenshot({ path: "test-artifacts/status-page.png", fullPage: true });
  });

  it("answers JSON at /health.json and refuses other methods", async () => {
    const json = await (await fetch(new URL("health.json", server.url))).json();
    expect(json.repos.map((r: { repo: string }) => r.repo)).toEqual(["acme/app", "acme/lib", "acme/missing"]);
    const post = await fetch(server.url, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});
