// rotateKeys (HTTP, IAM-protected and caller-checked for the admin role): key rotation without
// rewriting archives (core/keys/rotate.ts). {"repo": "acme/app"} gives the repository a new key
// and rewraps its data key records; {} rewraps every repository key under the KMS key's current
// primary version, after which the older versions can be disabled.
import type { Request, Response } from "@google-cloud/functions-framework";
import { UserInputError } from "../core/errors.js";
import { rotateKeys } from "../core/keys/rotate.js";
import { rotateKeysRequestSchema } from "../core/messages.js";
import type { AppProvider } from "../app.js";
import { requireRole } from "./authz.js";
import { answer, repoNamed, requestInput, requirePost } from "./http.js";

export function rotateKeysHandler(getApp: AppProvider) {
  return (req: Request, res: Response) =>
    answer("rotateKeys", res, async () => {
      requirePost(req, res);
      const app = await getApp();
      const named = repoNamed(req, rotateKeysRequestSchema, "rotateKeys request");
      // Only the admin role rotates; anyone else gets 401/403 and an audit entry (authz.ts).
      const caller = await requireRole(req, app, "admin", {
        operation: "rotateKeys",
        ...(named ? { repo: named } : {}),
      });
      const request = requestInput(req, rotateKeysRequestSchema, "rotateKeys request");
      if (!app.keyRecords) throw new UserInputError("rotateKeys needs the index (its key records)");
      const rotation = await rotateKeys(
        { index: app.index, keys: app.keys, audit: app.audit, clock: app.clock, keyRecords: app.keyRecords },
        { ...(request.repo ? { repo: request.repo } : {}), actor: caller.actor },
      );
      return { body: rotation };
    });
}
