// The line schemas of an organization's own kinds: each parses one GitHub API object (REST) and is
// its projection into an archive line, as metadata-lines-repo.ts does for a repository's.
import { z } from "zod";
import { optionalText, timestamp } from "./metadata-lines-common.js";

const flag = z.boolean().nullable().optional();
const text = z.string().nullable().optional();

/** GET /orgs/{org}: who the org is and the settings a restore or an audit needs. */
export const orgLine = z.object({
  id: z.number().int(),
  login: z.string(),
  name: text,
  description: text,
  company: text,
  blog: text,
  location: text,
  email: text,
  twitter_username: text,
  is_verified: flag,
  has_organization_projects: flag,
  has_repository_projects: flag,
  default_repository_permission: text,
  members_can_create_repositories: flag,
  members_can_create_public_repositories: flag,
  members_can_create_private_repositories: flag,
  members_can_create_internal_repositories: flag,
  members_can_create_pages: flag,
  members_can_create_public_pages: flag,
  members_can_create_private_pages: flag,
  members_can_fork_private_repositories: flag,
  web_commit_signoff_required: flag,
  two_factor_requirement_enabled: flag,
  dependabot_alerts_enabled_for_new_repositories: flag,
  dependency_graph_enabled_for_new_repositories: flag,
  secret_scanning_enabled_for_new_repositories: flag,
  secret_scanning_push_protection_enabled_for_new_repositories: flag,
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
});

/** A member as the members and team-members lists give one. */
export const memberLine = z.object({ login: z.string(), id: z.number().int() });

/** GET /orgs/{org}/teams: one team (members and repositories are added by the collection). */
export const teamLine = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  description: optionalText,
  privacy: text,
  notification_setting: text,
  permission: text,
  parent: z
    .object({ slug: z.string() })
    .nullable()
    .optional()
    .transform((p) => p?.slug ?? null),
});

/** GET /orgs/{org}/teams/{slug}/repos: the team's role on one repository. */
export const teamRepoLine = z
  .object({
    id: z.number().int(),
    full_name: z.string(),
    role_name: z.string().optional(),
    permissions: z.record(z.string(), z.boolean()).optional(),
  })
  .transform(({ id, full_name, role_name, permissions }) => ({
    id,
    full_name,
    permission: role_name ?? strongest(permissions),
  }));

/** GET /orgs/{org}/rulesets/{id}: the whole ruleset. */
export const orgRulesetLine = z.object({
  id: z.number().int(),
  name: z.string(),
  target: text,
  source_type: text,
  source: text,
  enforcement: z.string(),
  bypass_actors: z.array(z.record(z.string(), z.unknown())).optional(),
  conditions: z.record(z.string(), z.unknown()).nullable().optional(),
  rules: z.array(z.record(z.string(), z.unknown())).optional(),
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
});

/** The REST `permissions` flags as one role (what role_name says where GitHub gives it). */
function strongest(permissions: Record<string, boolean> | undefined): string | null {
  for (const role of ["admin", "maintain", "push", "triage", "pull"]) if (permissions?.[role]) return role;
  return null;
}
