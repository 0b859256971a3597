// restoreOrg (HTTP, IAM-protected and caller-checked for the restorer role) and restoreOrgRepo
// (Pub/Sub, topic restore-requests): a whole organization as it was at one moment T.
//
// POST restoreOrg {"at": T, "toOrg": ORG | "prefix": P, "dryRun"?, "include"?, "from"?} plans
// every repository's snapshot at or before T (core/restore-org.ts, the planner of `restore --all`)
// and answers the plan; unless it is a dry run, it publishes one message per repository first.
// GET restoreOrg?at=T&toOrg=ORG (the same fields) answers the report afterwards: each repository's
// snapshot, how far behind T, and what its restore's journal says became of it.
//
// restoreOrgRepo runs one repository's restore (restoreToGitHub, as restoreRepo's github target
// does) with the journal. Past its deadline (cloud.restoreDeadlineSeconds) it stops at a step
// boundary and publishes the same request again; the next run continues from the journal.
import type { CloudEvent, Request, Response } from "@google-cloud/functions-framework";
import type { AppProvider, CloudApp } from "../app.js";
import {
  githubRestoreMessageSchema,
  parseMessage,
  restoreOrgRequestSchema,
  type GitHubRestoreMessage,
  type RestoreOrgRequestBody,
} from "../core/messages.js";
import { readOutcome } from "../core/restore-github/outcome.js";
import { restoreIdOf } from "../core/restore-github/restore-to-github.js";
import { runRestore } from "../core/restore-github/run.js";
import { logRestoreRun } from "../restore-log.js";
import {
  ORG_RESTORES_AT_ONCE,
  orgRestoreStatus,
  restoreOrg,
  type OrgRestoreRequest,
} from "../core/restore-org.js";
import { log } from "../log.js";
import { requireRole } from "./authz.js";
import { answer, requestInput } from "./http.js";
import { consume } from "./pubsub.js";

function orgRequest(body: RestoreOrgRequestBody): OrgRestoreRequest {
  return {
    at: body.at,
    ...(body.toOrg ? { toOrg: body.toOrg } : {}),
    ...(body.prefix ? { prefix: body.prefix } : {}),
    ...(body.from ? { from: body.from } : {}),
    ...(body.include ? { include: body.include } : {}),
    dryRun: body.dryRun,
  };
}

export function restoreOrgHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("restoreOrg", res, async () => {
      if (req.method !== "POST" && req.method !== "GET") {
        res.set("Allow", "GET, POST");
        throw Object.assign(new Error(`use POST (restore) or GET (report), not ${req.method}`), {
          status: 405,
        });
      }
      const app = await getApp();
      // Only the restorer role restores or reads the report; anyone else gets 401/403 and an audit entry.
      const caller = await requireRole(req, app, "restorer", { operation: "restoreOrg" });
      if (req.method === "GET") {
        const body = requestInput(req, restoreOrgRequestSchema, "restoreOrg query");
        const status = await orgRestoreStatus(app, orgRequest(body), (item) =>
          readOutcome(app.restoreJournal, restoreIdOf(item.target, item.snapshotId)),
        );
        return { body: { ok: !status.counts.failed && !status.counts.conflict, ...status } };
      }
      const body = requestInput(req, restoreOrgRequestSchema, "restoreOrg request");
      const report = await restoreOrg(app, orgRequest(body), {
        kind: "publish",
        publish: async (items) => {
          const messages: GitHubRestoreMessage[] = items.map((item) => ({
            v: 1,
            repo: item.repo,
            snapshotId: item.snapshotId,
            target: item.target,
            private: body.private,
            requestedBy: caller.actor,
            at: body.at,
            handoffs: 0,
          }));
          await app.publisher.publish("restore-requests", messages);
        },
      });
      log("NOTICE", `restoreOrg as of ${report.at}: ${JSON.stringify(report.counts)}`, {
        event: report.dryRun ? "restore_org_planned" : "restore_org_queued",
      });
      return { body: { ok: !report.counts.conflict, ...report } };
    });
}

/** One repository of an organization's restore, run until done or handed on past the deadline. */
export function restoreOrgRepoHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("restoreOrgRepo", event as CloudEvent<never>, async ({ data, messageId }) => {
      const message = parseMessage(githubRestoreMessageSchema, data, "restore request");
      const app = await getApp();
      await runQueuedRestore(app, message, messageId);
    });
}

async function runQueuedRestore(app: CloudApp, message: GitHubRestoreMessage, messageId: string) {
  const { cloud } = app.settings.backup;
  // Everything so far is journaled: past the deadline the next run (a new message, a new time
  // limit) continues; a code push too long for any function run goes to the job (run.ts).
  const result = await runRestore({ ...app, github: app.githubRestore }, message, {
    runSeconds: cloud.restoreDeadlineSeconds,
    continueOn: "restore-requests",
    pushBytesPerSecond: cloud.restorePushBytesPerSecond,
    pacingShare: ORG_RESTORES_AT_ONCE,
  });
  logRestoreRun(message, result, messageId);
}
