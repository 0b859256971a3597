// What follows a drill in the cloud, the same from restoreDrill and the snapshot job: a log line
// per repository (drill_failed feeds the alert policy), and the repositories' incidents opened or
// closed (email, webhooks).
import type { CloudApp } from "./app.js";
import { drillAlerts, drillChecked } from "./core/alerts.js";
import type { DrillResult } from "./core/drill.js";
import { log } from "./log.js";

export async function reportDrills(
  app: Pick<CloudApp, "clock" | "notifier">,
  results: DrillResult[],
): Promise<void> {
  for (const r of results)
    log(r.verdict === "passed" ? "INFO" : "ERROR", `drill ${r.verdict}: ${r.repo} in ${r.seconds} s`, {
      event: r.verdict === "passed" ? "drill_passed" : "drill_failed",
      repo: r.repo,
      snapshotId: r.snapshotId,
      seconds: r.seconds,
      withinRto: r.withinRto,
    });
  const when = app.clock.now().toISOString();
  await app.notifier.report(drillAlerts(results, when), drillChecked(results), when);
}
