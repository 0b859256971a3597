// Who may call a function that reads or destroys backups: the caller's Google ID token, proven
// (id-token.ts), against the members of the role the function needs. IAM (roles/run.invoker,
// infra/iam.tf) already keeps everyone else out; this is the second check, inside the function,
// so a wrong IAM binding alone cannot open a restore or an erasure. Every refusal is an audit entry.
import type { AuditLog, Clock } from "../core/ports.js";
import { scrub } from "../core/redact.js";
import {
  holdsRole,
  ROLE_OPERATIONS,
  ROLES,
  type GroupDirectory,
  type Role,
  type RoleMembers,
} from "../core/roles.js";
import { bearerToken, IdTokenError, type IdTokenVerifier } from "./id-token.js";

export { ROLES, ROLE_OPERATIONS, type GroupDirectory, type Role, type RoleMembers };

/** The request as far as the check reads it: its headers (a Functions Framework Request is one). */
export interface RequestHeaders {
  get(name: string): string | undefined;
}

/** A proven caller. */
export interface Caller {
  email: string;
  /** How the audit trail names the caller. */
  actor: string;
}

/** The caller is known, and not in the role: HTTP 403. */
export class ForbiddenError extends Error {
  readonly status = 403;
  constructor(message: string) {
    super(message);
    this.name = "ForbiddenError";
  }
}

export interface AuthorizerOptions {
  verifier: IdTokenVerifier;
  members: RoleMembers;
  /** Needed only when a role names a group: member. */
  groups?: GroupDirectory;
}

/** The caller check a workload with the "callers" part is handed (wiring.ts builds it). */
export class Authorizer {
  constructor(private readonly options: AuthorizerOptions) {}

  /** The verified caller of the request. IdTokenError (401) without a valid Google ID token. */
  async caller(req: RequestHeaders, now: Date): Promise<Caller> {
    // Authorization first: when the caller sent X-Serverless-Authorization for Cloud Run's IAM,
    // Authorization reaches us with its signature; otherwise Cloud Run's own check stripped it.
    const token = bearerToken(req.get("authorization")) ?? bearerToken(req.get("x-serverless-authorization"));
    if (!token)
      throw new IdTokenError("no bearer token: send a Google ID token (gcloud auth print-identity-token)");
    const claims = await this.options.verifier.verify(token, now);
    if (!claims.email) throw new IdTokenError("the token carries no email (request it with the email scope)");
    if (claims.email_verified === false)
      throw new IdTokenError(`the token's email ${claims.email} is not verified`);
    const email = claims.email.toLowerCase();
    return { email, actor: `${email.endsWith(".gserviceaccount.com") ? "serviceAccount" : "user"}:${email}` };
  }

  /** Whether `caller` holds `role`. Rejects when a group's membership cannot be read. */
  holds(caller: Caller, role: Role): Promise<boolean> {
    return holdsRole(this.options.members, role, caller.email, this.options.groups);
  }
}

/** What an authorized call needs from the app. */
export interface AuthzDeps {
  authorizer: Authorizer;
  audit: AuditLog;
  clock: Clock;
}

/**
 * The caller of `req` if it holds `role`; otherwise records an "authz.denied" audit entry and
 * throws IdTokenError (401: no or bad token) or ForbiddenError (403: not in the role).
 */
export async function requireRole(
  req: RequestHeaders,
  deps: AuthzDeps,
  role: Role,
  what: { operation: string; repo?: string },
): Promise<Caller> {
  let caller: Caller | undefined;
  try {
    caller = await deps.authorizer.caller(req, deps.clock.now());
    if (await deps.authorizer.holds(caller, role)) return caller;
    throw new ForbiddenError(`${caller.email} is not in the ${role} role, which ${what.operation} needs`);
  } catch (err) {
    const reason = scrub(err instanceof Error ? err.message : String(err));
    await deps.audit.record({
      action: "authz.denied",
      actor: caller?.actor ?? "unauthenticated",
      outcome: "failure",
      ...(what.repo ? { repo: what.repo } : {}),
      details: { operation: what.operation, role, reason },
    });
    if (err instanceof IdTokenError || err instanceof ForbiddenError) throw err;
    // The directory or the key server failed: refuse, but say it was not the caller's fault.
    throw Object.assign(new Error(`could not check the caller's role: ${reason}`), { status: 503 });
  }
}
