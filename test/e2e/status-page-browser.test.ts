// The status page over the emulated deployment, in headless Chromium: snapshots made through the
// real functions (a sweep, snapshotRepo and verifySnapshot served by the Functions Framework, on
// the Firestore emulator, fake-gcs-server and the KMS stand-in: test/helpers/cloud-stack.ts), then
// the browser loads backupHealth's HTML. The numbers shown equal the Firestore index, the state
// filter and search work, and a screenshot is kept in test-artifacts/. (The local default's page
// is test/browser/status-page.test.ts; this one lives with the e2e tests, which get the emulators
// from the suite's global setup.)
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { setLogWriter } from "../../functions/log.js";
import { startCloudStack, type CloudStack } from "../helpers/cloud-stack.js";
import { pushCommit } from "../helpers/git-repos.js";
import { openStatusPage } from "../helpers/status-browser.js";

const REPOS = ["acme/api", "acme/docs", "acme/web"];
let stack: CloudStack;
let browser: Browser;
let page: Page;
let status: number;
const previousWriter = setLogWriter(() => {});

beforeAll(async () => {
  stack = await startCloudStack();
  for (const [i, name] of REPOS.entries()) {
    stack.github.addRepo(name);
    await createDemoRepo(join(stack.root, `${name}.git`));
    await pushCommit(join(stack.root, `${name}.git`), "main", `only-${i}.txt`, `${name}\n`);
  }
  // Through the functions: the sweep publishes, snapshotRepo snapshots, verifySnapshot verifies.
  expect((await stack.push("sweep", { v: 1, reason: "schedule" })).status).toBe(204);
  expect(await stack.pump("snapshot-requests", "snapshotRepo")).toEqual([204, 204, 204]);
  expect(await stack.pump("verify-requests", "verifySnapshot")).toEqual([204, 204, 204]);
  // A second snapshot of one repository, after a push.
  await pushCommit(join(stack.root, "acme/web.git"), "main", "more.txt", "more\n");
  const request = { v: 1, repo: "acme/web", reason: "push", requestedAt: new Date().toISOString() };
  expect((await stack.push("snapshotRepo", request)).status).toBe(204);
  // A repository GitHub lists whose git data cannot be read: its backup fails.
  stack.github.addRepo("acme/ghost");
  const ghost = { v: 1, repo: "acme/ghost", reason: "schedule", requestedAt: new Date().toISOString() };
  expect((await stack.push("snapshotRepo", ghost)).status).toBe(204);

  const opened = await openStatusPage(stack.url("backupHealth"), { readyMs: 30_000 });
  ({ browser, page } = opened);
  status = opened.response.status();
  expect(opened.response.headers()["content-type"]).toMatch(/^text\/html/);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  setLogWriter(previousWriter);
});

const text = (selector: string) => page.locator(selector).first().innerText();
const shownRepos = () =>
  page.locator("#rows tr").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.repo));

describe("backupHealth's status page over the emulated deployment, in Chromium", () => {
  it("shows the Firestore index's numbers: repositories, snapshots, states, verification", async () => {
    expect(status).toBe(503); // acme/ghost failed
    const app = await stack.app();
    expect(await app.index.repos()).toEqual(REPOS);
    const lists = await Promise.all(REPOS.map((r) => app.index.list(r)));
    const total = lists.reduce((n, l) => n + l.length, 0);
    expect(total).toBe(4);
    expect(await text('[data-testid="tile-repositories"] b')).toBe("4");
    expect(await text('[data-testid="tile-snapshots"] b')).toBe(String(total));
    expect(await text('[data-testid="tile-failing"] b')).toBe("1");
    expect(await text('[data-testid="verdict"]')).toBe("NEEDS ATTENTION");
    expect(await shownRepos()).toEqual(["acme/api", "acme/docs", "acme/ghost", "acme/web"]);
    for (const [i, repo] of REPOS.entries()) {
      const cells = await page.locator(`#rows tr[data-repo="${repo}"] td`).allInnerTexts();
      expect(cells[6], repo).toBe(String(lists[i]!.length));
      const latest = (await app.index.latest(repo))!;
      expect(cells[4], repo).toMatch(latest.verification ? /^ok deep, / : /^not verified$/);
    }
    // The first sweep's snapshots were verified: healthy. acme/web's second one is not yet.
    expect(await text('[data-testid="tile-healthy"] b')).toBe("2");
    expect(await text('[data-testid="tile-unverified"] b')).toBe("1");
    const ghost = await page.locator('#rows tr[data-repo="acme/ghost"] td').allInnerTexts();
    expect(ghost[1]).toBe("failing");
    expect(ghost[12]).toMatch(/last backup attempt failed/);
    // backupHealth's checks: the index answers, the dead-letter subscriptions are empty.
    expect(await text('[data-testid="check-index"]')).toBe("index ok");
    expect(await text('[data-testid="check-dead-letters"]')).toMatch(/^dead-letters ok/);
  });

  it("filters by state and searches by name", async () => {
    await page.selectOption('[data-testid="state"]', "failing");
    expect(await shownRepos()).toEqual(["acme/ghost"]);
    await page.selectOption('[data-testid="state"]', "unverified");
    expect(await shownRepos()).toEqual(["acme/web"]);
    await page.selectOption('[data-testid="state"]', "");
    await page.fill('[data-testid="search"]', "DOC");
    expect(await shownRepos()).toEqual(["acme/docs"]);
    expect(await text('[data-testid="shown"]')).toBe("1-1 of 1");
    await page.fill('[data-testid="search"]', "");
    expect(await text('[data-testid="shown"]')).toBe("1-4 of 4");
  });

  it("draws the charts with nothing fetched from elsewhere, and keeps a screenshot", async () => {
    for (const id of ["chart-snapshots", "chart-bytes", "chart-restores"])
      expect(await page.locator(`#${id} canvas`).count(), id).toBe(1);
    const external = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((e) => e.name)
        .filter((n) => !n.startsWith(location.origin)),
    );
    expect(external).toEqual([]);
    await mkdir("test-artifacts", { recursive: true });
    await page.screenshot({ path: "test-artifacts/status-page-cloud.png", fullPage: true });
  });
});
