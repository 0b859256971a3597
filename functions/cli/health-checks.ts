// The named health checks in local mode: every part is here (the data folder's store and key, the
// index, GitHub when the config has an App), and the free space of the data folder's disk.
import { statfs } from "node:fs/promises";
import type { LocalApp } from "../app.js";
import type { HealthReport } from "../core/health.js";
import { withChecks, type CheckPorts, type HealthCheck } from "../core/health-checks.js";
import { runChecksOf } from "../web/status-data.js";

export function localCheckPorts(app: LocalApp): CheckPorts {
  const sources = app.sources;
  return {
    index: app.index,
    store: app.store,
    storeReadOnly: app.readOnly,
    keys: app.keys,
    ...(sources.rateLimit ? { rateLimit: () => sources.rateLimit!() } : {}),
    diskSpace: async () => {
      const fs = await statfs(app.dataDir);
      return { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
    },
  };
}

/** The report with the local checks run. */
export async function withLocalChecks(app: LocalApp, report: HealthReport): Promise<HealthReport> {
  return withChecks(report, await runChecksOf(app.settings, localCheckPorts(app), report, app.auditTrail));
}

const MARK = { ok: "ok  ", warning: "WARN", failed: "FAIL" } as const;

/** "checks" lines: one per check, its status and reason. */
export function checkLines(checks: readonly HealthCheck[]): string[] {
  return checks.map((c) => `  ${MARK[c.status]}  ${c.name.padEnd(12)} ${c.reason}`);
}
