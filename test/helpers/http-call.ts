// Calls an HTTP cloud function's handler in-process as an authenticated caller, and the role set
// the admin-function tests share: tokens are the caller's email (what is under test is the role
// check, not the token), and each role has one member.
import type { Request, Response } from "@google-cloud/functions-framework";
import { parseRoleMembers } from "../../functions/core/roles.js";
import { Authorizer } from "../../functions/handlers/authz.js";
import type { IdTokenVerifier } from "../../functions/handlers/id-token.js";

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** The members: olga operates, rita restores, ada administers; nobody audits. */
export function testAuthorizer(): Authorizer {
  const verifier = {
    verify: async (token: string) => ({ email: token, email_verified: true }),
  } as unknown as IdTokenVerifier;
  return new Authorizer({
    verifier,
    members: parseRoleMembers({
      operator: "user:olga@example.com",
      restorer: "user:rita@example.com",
      auditor: "",
      admin: "user:ada@example.com",
    }),
  });
}

/** POSTs `body` to `handler` with `token` as the bearer (none when undefined); the answer's status and JSON. */
export async function callHttp(
  handler: Handler,
  token: string | undefined,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const req = {
    method: "POST",
    body,
    get: (h: string) => (h === "authorization" && token ? `Bearer ${token}` : undefined),
  };
  let status = 0;
  let sent: Record<string, unknown> = {};
  const res = {
    status(code: number) {
      status = code;
      return res;
    },
    json(value: Record<string, unknown>) {
      sent = value;
      return res;
    },
    set: () => res,
  };
  await handler(req as unknown as Request, res as unknown as Response);
  return { status, body: sent };
}
