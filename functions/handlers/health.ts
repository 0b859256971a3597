// backupHealth (HTTP, IAM-protected): the health report `infinity-backup status` prints, as JSON:
// per repository freshness, last verification and problems, and what the archives take up and cost
// (from the index alone: this function may not read the bucket). Each stale repository is also
// logged as event "stale_repo" for the alert.
import type { Request, Response } from "@google-cloud/functions-framework";
import { healthOptions, type AppProvider } from "../app.js";
import { describeProblem, healthJson, healthReport, isStale } from "../core/health.js";
import { log } from "../log.js";
import { answer } from "./http.js";

export function healthHandler(getApp: AppProvider) {
  return (_req: Request, res: Response) =>
    answer("backupHealth", res, async () => {
      const app = await getApp();
      const report = await healthReport(app, healthOptions(app.settings, []));
      for (const h of report.repos.filter((h) => h.problems.some(isStale))) {
        log("WARNING", `stale repository ${h.repo}: ${h.problems.map(describeProblem).join("; ")}`, {
          event: "stale_repo",
          repo: h.repo,
        });
      }
      if ("error" in report.storage)
        log("ERROR", `backupHealth storage report failed: ${report.storage.error}`, {
          event: "storage_report_failed",
        });
      return {
        status: report.ok ? 200 : 503,
        body: healthJson(report),
      };
    });
}
