// backupHealth (HTTP, IAM-protected): the health report `infinity-backup status` prints, as JSON:
// per repository freshness, last verification and problems, and what the archives take up and cost
// (from the index alone: this function may not read the bucket), and the named checks its parts
// allow (index, capacity against the budget, stale repositories, verification failures). A browser (Accept: text/html)
// gets the status page instead: the same figures with charts, search and filters. Each stale
// repository is also logged as event "stale_repo" for the alert.
import type { Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { checkAlerts, checksChecked, eitherChecked, healthAlerts, healthChecked } from "../core/alerts.js";
import { describeProblem, healthJson, isStale } from "../core/health.js";
import { log } from "../log.js";
import { statusData } from "../web/status-data.js";
import { renderStatusPage } from "../web/status-page.js";
import { answer } from "./http.js";

/** A browser asks for HTML first; curl, scripts and the monitoring check ask for JSON or anything. */
function wantsHtml(req: Request): boolean {
  const accept = String(req.headers?.accept ?? "");
  return /text\/html/i.test(accept) && !/^\s*application\/json/i.test(accept);
}

export function healthHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("backupHealth", res, async () => {
      const app = await getApp();
      // The checks this workload can run: it holds the index only (no bucket, no keys, no GitHub).
      const { report, view } = await statusData(app, [], {
        checks: { index: app.index, ...(app.deadLetters ? { deadLetters: app.deadLetters } : {}) },
      });
      for (const h of report.repos.filter((h) => h.problems.some(isStale))) {
        log("WARNING", `stale repository ${h.repo}: ${h.problems.map(describeProblem).join("; ")}`, {
          event: "stale_repo",
          repo: h.repo,
        });
      }
      // Stale repositories, capacity and dead letters open incidents (email, webhooks) and clear
      // them; failed backups and verifications are told by the functions that see them.
      const stale = healthAlerts(report.repos, report.at).filter((a) => a.kind === "repository-stale");
      await app.notifier.report(
        [...stale, ...checkAlerts(report.checks ?? [], report.at)],
        eitherChecked(healthChecked(report.repos, ["repository-stale"]), checksChecked(report.checks ?? [])),
        report.at,
      );
      if ("error" in report.storage)
        log("ERROR", `backupHealth storage report failed: ${report.storage.error}`, {
          event: "storage_report_failed",
        });
      const status = report.ok ? 200 : 503;
      if (wantsHtml(req)) return { status, html: renderStatusPage(view) };
      return { status, body: healthJson(report) };
    });
}
