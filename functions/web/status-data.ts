// The status page's data, the same for backupHealth and `infinity-backup serve`: the health
// report, and the restores and failures of the audit trail's recent window (the charts); with check ports,
// the named health checks those ports allow (core/health-checks.ts).
import { healthOptions } from "../app.js";
import type { AuditEntry } from "../core/audit-chain.js";
import { healthReport, type HealthReport } from "../core/health.js";
import { runHealthChecks, withChecks, type CheckPorts } from "../core/health-checks.js";
import type { Deps } from "../core/deps.js";
import { bytesFreedSince } from "../core/capacity.js";
import type { AuditReader } from "../core/ports.js";
import {
  auditWindowStart,
  statusView,
  VIEW_ACTIONS,
  withDrillRecords,
  type StatusView,
} from "../core/status-view.js";
import type { Settings } from "../config/settings.js";

export async function statusData(
  app: Pick<Deps, "index" | "clock" | "drills"> & { settings: Settings; auditTrail?: AuditReader },
  expected: readonly string[],
  extra: { projectedRepos?: number; checks?: CheckPorts } = {},
): Promise<{ report: HealthReport; view: StatusView }> {
  const { checks, ...options } = extra;
  // The checks' probes (a dead-letter count takes a second), the audit trail's window and the
  // drill records are read while the report is made. The window starts from the clock before the
  // report's time, so it holds the report's window (statusView keeps only that).
  const since = auditWindowStart(app.clock.now().toISOString());
  const reported = healthReport(app, healthOptions(app.settings, expected, options));
  const checked = checks && runChecksOf(app.settings, checks, reported, app.auditTrail);
  const audit = app.auditTrail ? app.auditTrail.entriesSince(VIEW_ACTIONS, since) : Promise.resolve([]);
  const drills = app.drills && Promise.all([app.drills.lastDrills(), app.drills.drillsSince(since)]);
  // When the report fails, its error is the one told.
  for (const side of [checked, audit, drills]) side?.catch(() => undefined);
  let report = await reported;
  if (checked) report = withChecks(report, await checked);
  const view = statusView(report, oldestFirst(await audit));
  if (!drills) return { report, view };
  // Drill results from the index's records (the trail's drill entries only for older drills).
  const [last, recent] = await drills;
  return { report, view: withDrillRecords(view, last, recent) };
}

/** By time, in the order read among equals (a chain's entries are in order). */
function oldestFirst(entries: AuditEntry[]): AuditEntry[] {
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
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
