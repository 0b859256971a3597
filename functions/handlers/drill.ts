// restoreDrill (HTTP, IAM-protected; called by Cloud Scheduler on the `restoreDrill` clock of
// config/schedule.yaml, or `gcloud functions call restoreDrill --data '{"v":1,"repos":["o/r"]}'`):
// the same drill as `infinity-backup drill` (core/drill.ts): a sample restored into scratch space,
// checked against the index, timed against the RTO, recorded in the audit trail. A failed drill
// opens the repository's incident (email, webhooks); a passed one closes it. Repositories whose
// latest archive is larger than cloud.largeRepoBytes are left out (a function's scratch is memory)
// and named in the answer.
import type { Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { drillAlerts, drillChecked } from "../core/alerts.js";
import { runDrill } from "../core/drill.js";
import { drillRequestSchema, parseMessage } from "../core/messages.js";
import { log } from "../log.js";
import { answer, requirePost } from "./http.js";

/** `gcloud functions call` wraps the body as {"data": ...}; Scheduler and plain POSTs send it bare. */
function unwrap(body: unknown): unknown {
  return body && typeof body === "object" && "data" in body && Object.keys(body).length === 1
    ? (body as { data: unknown }).data
    : body;
}

export function drillHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("restoreDrill", res, async () => {
      requirePost(req, res);
      const request = parseMessage(drillRequestSchema, unwrap(req.body ?? {}), "drill request");
      const app = await getApp();
      const skipped: { repo: string; bytes: number }[] = [];
      const results = await runDrill(app, {
        actor: "scheduler",
        ...(request.repos
          ? { repos: request.repos }
          : { sample: request.sample ?? app.settings.backup.drill.sample }),
        ...(app.auditTrail ? { trail: app.auditTrail } : {}),
        maxBytes: app.settings.backup.cloud.largeRepoBytes,
        onSkipped: (repo, bytes) => skipped.push({ repo, bytes }),
      });
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
      return {
        body: { ok: results.every((r) => r.verdict === "passed"), results, skipped },
      };
    });
}
