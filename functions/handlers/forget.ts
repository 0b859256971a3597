// forgetRepo (HTTP, IAM-protected and caller-checked for the admin role): crypto-shreds one
// repository (core/keys/forget.ts). The body names the repository, the reason and the name typed
// back: {"repo": "acme/app", "reason": "GDPR request 42", "confirm": "acme/app"}.
import type { Request, Response } from "@google-cloud/functions-framework";
import { UserInputError } from "../core/errors.js";
import { forgetRepository } from "../core/keys/forget.js";
import { forgetRequestSchema } from "../core/messages.js";
import type { AppProvider } from "../app.js";
import { requireRole } from "./authz.js";
import { answer, repoNamed, requestInput, requirePost } from "./http.js";

export function forgetHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("forgetRepo", res, async () => {
      requirePost(req, res);
      const app = await getApp();
      const named = repoNamed(req, forgetRequestSchema, "forget request");
      // Only the admin role forgets; anyone else gets 401/403 and an audit entry (authz.ts).
      const caller = await requireRole(req, app, "admin", {
        operation: "forgetRepo",
        ...(named ? { repo: named } : {}),
      });
      const request = requestInput(req, forgetRequestSchema, "forget request");
      if (!app.keyRecords) throw new UserInputError("forgetRepo needs the index (its key records)");
      const result = await forgetRepository(
        {
          index: app.index,
          audit: app.audit,
          clock: app.clock,
          keyRecords: app.keyRecords,
          ...(app.drills ? { drills: app.drills } : {}),
        },
        { repo: request.repo, by: caller.actor, reason: request.reason, confirm: request.confirm },
      );
      return { body: result };
    });
}
