// `bench/status-page.ts --profile`: where the status page's server time goes. Each read and step
// the page's answer is made of, timed alone on the app the page is served from (the median of a
// few runs), so the bench can say which of them dominates.
import { healthOptions } from "../functions/app.js";
import { healthReport, repoHealth } from "../functions/core/health.js";
import { storageReport } from "../functions/core/storage-report.js";
import type { Deps } from "../functions/core/deps.js";
import type { AuditReader } from "../functions/core/ports.js";
import { auditWindowStart, statusView, VIEW_ACTIONS } from "../functions/core/status-view.js";
import type { Settings } from "../functions/config/settings.js";
import { statusData } from "../functions/web/status-data.js";
import { renderStatusPage } from "../functions/web/status-page.js";

type ProfiledApp = Pick<Deps, "index" | "clock"> & { settings: Settings; auditTrail?: AuditReader };

const RUNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await work();
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

/** Each part's median milliseconds, in the order the page's answer needs them. */
export async function profileStatus(
  app: ProfiledApp,
  extra: [string, () => Promise<unknown>][] = [],
): Promise<[string, number][]> {
  const options = healthOptions(app.settings, [], { projectedRepos: 0 });
  const repos = await app.index.repos();
  const report = await healthReport(app, options);
  const lists = await app.index.listMany(repos);
  const now = app.clock.now();
  const { view } = await statusData(app, [], { projectedRepos: 0 });
  const parts: [string, () => Promise<unknown>][] = [
    ["index.attempts", () => app.index.attempts()],
    ["index.leases", () => app.index.leases()],
    ["index.repositories", () => app.index.repositories()],
    ["index.repos", () => app.index.repos()],
    [`index.listMany (${repos.length} repositories)`, () => app.index.listMany(repos)],
    ["index.listAll (repos and listMany in one)", () => app.index.listAll()],
    [
      "storageReport (CPU, over listMany's answer)",
      async () => storageReport({ ...options, repos: lists, now, projectedRepos: 0 }),
    ],
    ["repoHealth of each (CPU)", async () => repos.map((r, i) => repoHealth(r, lists[i]!, now))],
    ["healthReport (all of the above)", () => healthReport(app, options)],
    ["audit trail read whole (before the window read)", () => readAll(app.auditTrail)],
    [
      "audit trail's window (entriesSince)",
      async () => app.auditTrail?.entriesSince(VIEW_ACTIONS, auditWindowStart(now.toISOString())),
    ],
    ["statusView", async () => statusView(report)],
    ["renderStatusPage", async () => renderStatusPage(view)],
    ["statusData (report, audit, view)", () => statusData(app, [], { projectedRepos: 0 })],
    ...extra,
  ];
  const figures: [string, number][] = [];
  for (const [name, work] of parts) figures.push([name, await timed(work)]);
  return figures;
}

async function readAll(trail: AuditReader | undefined): Promise<number> {
  let n = 0;
  if (trail) for await (const _ of trail.stored()) n++;
  return n;
}
