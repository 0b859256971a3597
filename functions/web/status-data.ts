// The status page's data, the same for backupHealth and `infinity-backup serve`: the health
// report, and the restores the audit trail records (for the restore-time chart); with check ports,
// the named health checks those ports allow (core/health-checks.ts).
import { healthOptions } from "../app.js";
import type { AuditEntry } from "../core/audit-chain.js";
import { healthReport, type HealthReport } from "../core/health.js";
import { runHealthChecks, withChecks, type CheckPorts } from "../core/health-checks.js";
import type { Deps } from "../core/deps.js";
import { bytesFreedSince } from "../core/capacity.js";
import type { AuditReader } from "../core/ports.js";
import { SERIES_DAYS, statusView, withDrillRecords, type StatusView } from "../core/status-view.js";
import type { Settings } from "../config/settings.js";

export async function statusData(
  app: Pick<Deps, "index" | "clock" | "drills"> & { settings: Settings; auditTrail?: AuditReader },
  expected: readonly string[],
  extra: { projectedRepos?: number; checks?: CheckPorts } = {},
): Promise<{ report: HealthReport; view: StatusView }> {
  const { checks, ...options } = extra;
  // The checks' probes (a dead-letter count takes a second) run while the report is made.
  const reported = healthReport(app, healthOptions(app.settings, expected, options));
  const checked = checks && runChecksOf(app.settings, checks, reported, app.auditTrail);
  checked?.catch(() => undefined); // when the report fails, its error is the one told
  let report = await reported;
  if (checked) report = withChecks(report, await checked);
  const view = statusView(report, await restoresOf(app.auditTrail));
  if (!app.drills) return { report, view };
  // Drill results from the index's records (the trail's drill entries only for older drills).
  const since = new Date(Date.parse(report.at) - SERIES_DAYS * 86_400_000).toISOString();
  const [last, recent] = await Promise.all([app.drills.lastDrills(), app.drills.drillsSince(since)]);
  return { report, view: withDrillRecords(view, last, recent) };
}

/**
 * The named checks the ports allow, with the config's capacity rules; the growth rule subtracts
 * what the prunes in the audit trail freed.
 */
export function runChecksOf(
  settings: Settings,
  ports: CheckPorts,
  report: HealthReport | Promise<HealthReport>,
  trail?: AuditReader,
) {
  const capacity = settings.backup.capacity;
  const since = async () => new Date(Date.parse((await report).at) - capacity.growthWindowDays * 86_400_000);
  return runHealthChecks(
    { freedBytes: async () => bytesFreedSince(trail, await since()), ...ports },
    report,
    {
      capacity,
    },
  );
}

/** restore.completed and drill entries of the trail, when the app keeps one it can read back. */
async function restoresOf(trail: AuditReader | undefined): Promise<AuditEntry[]> {
  if (!trail) return [];
  const restores: AuditEntry[] = [];
  for await (const stored of trail.stored()) {
    const entry = stored.value as AuditEntry | undefined;
    if (
      entry &&
      typeof entry === "object" &&
      /^(restore\.completed|drill\.(passed|failed))$/.test(entry.action)
    )
      restores.push(entry);
  }
  return restores;
}
