// restoreRepo (HTTP, IAM-protected and caller-checked for the restorer role;
// `gcloud functions call restoreRepo --data '{...}'`):
// validates the body (or query), restores into a new GitHub repository or a bundle in the restore
// bucket, and answers with a report: snapshot used, refs restored, bytes, seconds. A restore to
// GitHub past the deadline answers 202 and goes on in the Cloud Run job; GET with the same fields
// (target.kind=github) reports how it stands.
import type { Request, Response } from "@google-cloud/functions-framework";
import { UserInputError } from "../core/errors.js";
import { restoreBundleKey } from "../core/object-keys.js";
import { restoreRequestSchema } from "../core/messages.js";
import { restoreRepo, type RestoreTarget } from "../core/restore.js";
import { log } from "../log.js";
import type { AppProvider, CloudApp } from "../app.js";
import { requireRole } from "./authz.js";
import { answer, repoNamed, requestInput } from "./http.js";
import { restoreToGitHubAnswer, restoreToGitHubStatus } from "./restore-github.js";

async function targetFor(
  app: CloudApp,
  request: ReturnType<typeof parseRestore>,
  snapshotHint: string,
): Promise<RestoreTarget> {
  if (request.target.kind === "bucket") {
    const key = request.target.key ?? restoreBundleKey(request.repo, snapshotHint);
    return { kind: "bundle-store", store: app.restoreStore, key };
  }
  return { kind: "push", remote: await app.createRepository(request.target.name, request.target.private) };
}

function parseRestore(req: Request) {
  return requestInput(req, restoreRequestSchema, "restore request");
}

export function restoreHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("restoreRepo", res, async () => {
      if (req.method !== "POST" && req.method !== "GET") {
        res.set("Allow", "GET, POST");
        throw Object.assign(new UserInputError(`use POST (restore) or GET (report), not ${req.method}`), {
          status: 405,
        });
      }
      const app = await getApp();
      // Only the restorer role restores; anyone else gets 401/403 and an audit entry (authz.ts).
      const caller = await requireRole(req, app, "restorer", {
        operation: "restoreRepo",
        repo: repoNamed(req, restoreRequestSchema, "restore request"),
      });
      const request = parseRestore(req);
      if (req.method === "GET") {
        if (request.target.kind !== "github")
          throw new UserInputError(
            "GET reports a restore to GitHub (target.kind=github); a bundle restore has no report",
          );
        return { body: await restoreToGitHubStatus(app, { ...request, target: request.target }) };
      }
      if (request.target.kind === "github")
        return await restoreToGitHubAnswer(app, { ...request, target: request.target }, caller.actor);
      const stamp = app.clock.now().toISOString().replace(/[-:.]/g, "");
      const outcome = await restoreRepo(
        app,
        {
          repo: request.repo,
          snapshotId: request.snapshotId,
          at: request.at,
          target: await targetFor(app, request, stamp),
        },
        { actor: caller.actor },
      );
      log("NOTICE", `restored ${request.repo} snapshot ${outcome.snapshot.id} to ${outcome.target}`, {
        event: "restore_completed",
        repo: request.repo,
        snapshotId: outcome.snapshot.id,
      });
      return {
        body: {
          ok: true,
          repo: request.repo,
          snapshot: {
            id: outcome.snapshot.id,
            takenAt: outcome.snapshot.takenAt,
            confirmedAt: outcome.snapshot.confirmedAt,
          },
          target: outcome.target,
          refs: outcome.refs,
          bytes: outcome.bytes,
          seconds: outcome.seconds,
          ...(outcome.wiki ? { wiki: outcome.wiki } : {}),
          // The LFS objects beside the bundle: copy the prefix into a clone's .git/lfs/objects.
          ...(outcome.lfsObjects ? { lfsObjects: outcome.lfsObjects } : {}),
        },
      };
    });
}
