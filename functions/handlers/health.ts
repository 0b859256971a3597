// backupHealth (HTTP, IAM-protected): the health report `infinity-backup status` prints, as JSON:
// per repository freshness, last verification and problems, and what the archives take up and cost
// (from the index alone: this function may not read the bucket), and the named checks its parts
// allow (index, capacity against the budget, stale repositories, verification failures). A browser (Accept: text/html)
// gets the status page instead: the same figures with charts, search and filters. Each stale
// repository is also logged as event "stale_repo" for the alert. `?audit` answers the audit trail
// instead, filtered like `infinity-backup audit` (repo, since, action) and capped by `limit`.
import type { Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { selectAudit, type AuditFilter } from "../core/audit-chain.js";
import { UserInputError } from "../core/errors.js";
import { checkAlerts, checksChecked, eitherChecked, healthAlerts, healthChecked } from "../core/alerts.js";
import { capacityNeedsProjection } from "../core/capacity.js";
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

/** The newest entries `?audit` answers at most, unless `limit` says fewer (or more, up to MAX). */
const AUDIT_LIMIT = 1000;
const AUDIT_LIMIT_MAX = 10_000;

/** `?audit&repo=&since=&action=&limit=` as a filter and a cap; a bad value is a 400 naming it. */
function auditQuery(query: Request["query"]): { filter: AuditFilter; limit: number } {
  const one = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.length > 200)
      throw new UserInputError(
        `audit query: "${name}" must be given once, as text of at most 200 characters`,
      );
    return value;
  };
  const repo = one("repo");
  const action = one("action");
  const since = one("since");
  const limitText = one("limit");
  const sinceMs = since === undefined ? undefined : Date.parse(since);
  if (sinceMs !== undefined && Number.isNaN(sinceMs))
    throw new UserInputError(
      `audit query: "since" is not a date or time (ISO-8601): ${JSON.stringify(since)}`,
    );
  const limit = limitText === undefined ? AUDIT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIMIT_MAX)
    throw new UserInputError(`audit query: "limit" must be a whole number from 1 to ${AUDIT_LIMIT_MAX}`);
  const filter: AuditFilter = {
    ...(repo ? { repo } : {}),
    ...(action ? { action } : {}),
    ...(sinceMs !== undefined ? { since: new Date(sinceMs).toISOString() } : {}),
  };
  return { filter, limit };
}

export function healthHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("backupHealth", res, async () => {
      const query = req.query ?? {};
      if ("audit" in query) {
        const { filter, limit } = auditQuery(query);
        const app = await getApp();
        if (!app.auditTrail)
          throw new Error("backupHealth has no audit trail wired (it needs the index part)");
        const selected = await selectAudit(app.auditTrail.stored(), filter, limit);
        return { status: 200, body: { filter, limit, ...selected } };
      }
      const app = await getApp();
      // The checks this workload can run: it holds the index only (no bucket, no keys, no GitHub).
      // The page shows no projection: the year is replayed for it only when a capacity rule looks
      // ahead; the JSON carries it.
      const page = wantsHtml(req) && !capacityNeedsProjection(app.settings.backup.capacity);
      const { report, view } = await statusData(app, [], {
        ...(page ? { projectedRepos: 0 } : {}),
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
