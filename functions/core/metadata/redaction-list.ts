// Putting a person on the redaction list and taking them off, each an audit entry. The list is
// applied by every read of metadata (read.ts) until the snapshots holding the person's data expire.
import type { Deps } from "../deps.js";
import { UserInputError } from "../errors.js";
import type { Redaction, RedactionList } from "../ports.js";

/** GitHub's login rule: letters, digits and single inner hyphens, at most 39 characters. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

type ListDeps = Pick<Deps, "audit" | "clock"> & { redactions: RedactionList };

export async function addRedaction(
  deps: ListDeps,
  request: { login: string; reason: string; by: string },
): Promise<Redaction> {
  const login = request.login.replace(/^@/, "");
  if (!LOGIN.test(login))
    throw new UserInputError(`--login ${JSON.stringify(request.login)} is not a GitHub login`);
  const reason = request.reason.trim();
  if (!reason) throw new UserInputError("redact add needs --reason TEXT (kept in the audit trail)");
  const entry: Redaction = { login, reason, by: request.by, at: deps.clock.now().toISOString() };
  await deps.redactions.putRedaction(entry);
  await deps.audit.record({
    action: "redaction.added",
    actor: request.by,
    outcome: "success",
    details: { login, reason },
  });
  return entry;
}

export async function removeRedaction(deps: ListDeps, request: { login: string; by: string }): Promise<void> {
  const login = request.login.replace(/^@/, "");
  await deps.redactions.removeRedaction(login);
  await deps.audit.record({
    action: "redaction.removed",
    actor: request.by,
    outcome: "success",
    details: { login },
  });
}
