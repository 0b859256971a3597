// The four roles, what each may do, and the membership rule: whether a proven caller (a verified
// email) is one of a role's members, written as IAM members the way Terraform binds them.
// handlers/authz.ts proves the caller; this module decides.

export const ROLES = ["operator", "restorer", "auditor", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do; docs/SECURITY.md has this table, and a test keeps the two equal. */
export const ROLE_OPERATIONS: Record<Role, readonly string[]> = {
  operator: [
    "run backups (sweep, snapshotRepo)",
    "run verifications (verifySnapshot)",
    "read status (backupHealth)",
  ],
  restorer: ["restore (restoreRepo, restoreOrg)", "read status (backupHealth)"],
  auditor: ["read status (backupHealth)", "read and verify the audit trail"],
  admin: [
    "legal hold",
    "forget (forgetRepo)",
    "rotate keys (rotateKeys)",
    "configuration (Terraform, config/*.yaml)",
    "read status (backupHealth)",
  ],
};

/**
 * IAM member strings, as Terraform binds them: "user:a@x", "serviceAccount:b@p.iam…", "group:g@x",
 * "domain:x". allUsers and allAuthenticatedUsers are never members of a role.
 */
export type RoleMembers = Record<Role, readonly string[]>;

/** Answers Google group membership (Cloud Identity in production); transitive membership counts. */
export interface GroupDirectory {
  /** Whether `email` belongs to `group` (an email address). Rejects when the directory cannot say. */
  isMember(group: string, email: string): Promise<boolean>;
}

const MEMBER = /^(user|serviceAccount|group|domain):([^\s,:]+)$/;

/** Role members from the environment's comma-separated lists; a malformed one is named. */
export function parseRoleMembers(lists: Record<Role, string | undefined>): RoleMembers {
  const out = {} as Record<Role, string[]>;
  for (const role of ROLES) {
    out[role] = (lists[role] ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    for (const m of out[role]) {
      if (!MEMBER.test(m))
        throw new Error(
          `role ${role}: member ${JSON.stringify(m)} is not user:, serviceAccount:, group: or domain:<name>`,
        );
    }
  }
  return out;
}

/**
 * Whether the verified `email` holds `role`: it is the user or service account, it is in the
 * domain, or (asked last, one group at a time) the directory says it is in a group.
 */
export async function holdsRole(
  members: RoleMembers,
  role: Role,
  email: string,
  groups: GroupDirectory | undefined,
): Promise<boolean> {
  const who = email.toLowerCase();
  const named: string[] = [];
  for (const member of members[role] ?? []) {
    const m = MEMBER.exec(member);
    if (!m) continue;
    const [, kind, value] = [m[0], m[1], m[2]!.toLowerCase()];
    if ((kind === "user" || kind === "serviceAccount") && value === who) return true;
    if (kind === "domain" && who.endsWith(`@${value}`)) return true;
    if (kind === "group") named.push(value);
  }
  if (!named.length) return false;
  if (!groups)
    throw new Error(`role ${role} names groups, but no group directory is configured to check them`);
  for (const group of named) if (await groups.isMember(group, who)) return true;
  return false;
}
