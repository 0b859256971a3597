// restoreDrill (HTTP, IAM-protected; called by Cloud Scheduler on the `restoreDrill` clock of
// config/schedule.yaml, or `gcloud functions call restoreDrill --data '{"v":1,"repos":["o/r"]}'`):
// the same drill as `infinity-backup drill` (core/drill.ts): a sample restored into scratch space,
// checked against the index, timed against the RTO, recorded in the audit trail. A failed drill
// opens the repository's incident (email, webhooks); a passed one closes it. A picked repository
// whose latest archive is larger than cloud.largeRepoBytes (a function's scratch is memory, its
// time 540 s) is handed to the Cloud Run job on snapshot-large, as a big snapshot is; the job runs
// the same drill and records it. The answer names them.
import type { Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider } from "../app.js";
import { runDrill } from "../core/drill.js";
import { drillRequestSchema } from "../core/messages.js";
import { reportDrills } from "../drill-log.js";
import { log } from "../log.js";
import { answer, requestInput, requirePost } from "./http.js";

export function drillHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("restoreDrill", res, async () => {
      requirePost(req, res);
      const request = requestInput(req, drillRequestSchema, "drill request");
      const app = await getApp();
      const handedToJob: { repo: string; bytes: number }[] = [];
      const results = await runDrill(app, {
        actor: "scheduler",
        ...(request.repos
          ? { repos: request.repos }
          : { sample: request.sample ?? app.settings.backup.drill.sample }),
        ...(app.auditTrail ? { trail: app.auditTrail } : {}),
        maxBytes: app.settings.backup.cloud.largeRepoBytes,
        onSkipped: (repo, bytes) => handedToJob.push({ repo, bytes }),
      });
      if (handedToJob.length) {
        const repos = handedToJob.map((r) => r.repo);
        await app.publisher.publish("snapshot-large", [
          { v: 1, kind: "drill", repos, requestedAt: app.clock.now().toISOString() },
        ]);
        log("INFO", `drill of ${repos.join(", ")} handed to the snapshot job (too large for a function)`, {
          event: "drill_handed_over",
          repos,
        });
      }
      await reportDrills(app, results);
      return {
        body: { ok: results.every((r) => r.verdict === "passed"), results, handedToJob },
      };
    });
}
