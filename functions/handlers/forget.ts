// forgetRepo (HTTP, IAM-protected and caller-checked for the admin role): crypto-shreds one
// repository (core/keys/forget.ts). The body names the repository, the reason and the name typed
// back: {"repo": "acme/app", "reason": "GDPR request 42", "confirm": "acme/app"}.
import type { Request, Response } from "@google-cloud/functions-framework";
import { UserInputError } from "../core/errors.js";
import { forgetRepository } from "../core/keys/forget.js";
import { forgetRequestSchema, parseMessage } from "../core/messages.js";
import type { AppProvider } from "../app.js";
import { requireRole } from "./authz.js";
import { answer, requirePost, unwrapCallBody } from "./http.js";

export function forgetHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("forgetRepo", res, async () => {
      requirePost(req, res);
      const app = await getApp();
      const named = (unwrapCallBody(req.body) as { repo?: unknown } | undefined)?.repo;
      // Only the admin role forgets; anyone else gets 401/403 and an audit entry (authz.ts).
      const caller = await requireRole(req, app, "admin", {
        operation: "forgetRepo",
        ...(typeof named === "string" && named.length <= 200 ? { repo: named } : {}),
      });
      const request = parseMessage(forgetRequestSchema, unwrapCallBody(req.body), "forget request");
      if (!app.keyRecords) throw new UserInputError("forgetRepo needs the index (its key records)");
      const result = await forgetRepository(
        { index: app.index, audit: app.audit, clock: app.clock, keyRecords: app.keyRecords },
        { repo: request.repo, by: caller.actor, reason: request.reason, confirm: request.confirm },
      );
      return { body: result };
    });
}
