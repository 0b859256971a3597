// The kinds of GitHub metadata a snapshot holds, in the order they are collected and archived, and
// how each kind's file relates to the files of the same kind earlier in a snapshot chain.

export const METADATA_KINDS = [
  "repository",
  "branch-protections",
  "rulesets",
  "autolinks",
  "labels",
  "milestones",
  "issues",
  "issue-comments",
  "issue-events",
  "pulls",
  "pull-reviews",
  "pull-review-comments",
  "releases",
  "collaborators",
  "teams",
  "hooks",
  "deploy-keys",
  "actions-variables",
  "actions-secrets",
  "environments",
  "discussions",
  "discussion-comments",
  "attachments",
] as const;

/**
 * The kinds of an organization's own snapshot (filed under "<org>/@org", see ids.ts), in the
 * order they are collected: the org's settings, its members with their role, its teams (each with
 * its members and repository permissions), its rulesets, and its Projects (v2) with their fields,
 * then every project's items. Always collected whole: an org snapshot has no chain.
 */
export const ORG_KINDS = [
  "org",
  "org-members",
  "org-teams",
  "org-rulesets",
  "org-projects",
  "org-project-items",
] as const;

/** Every kind an archive's manifest may name: a repository's, then an organization's. */
export const ALL_KINDS = [...METADATA_KINDS, ...ORG_KINDS] as const;

export type RepoKind = (typeof METADATA_KINDS)[number];
export type OrgKind = (typeof ORG_KINDS)[number];
export type MetadataKind = RepoKind | OrgKind;

/**
 * - whole: every collected file holds every item of the kind (small kinds: settings, labels…).
 * - delta: in an incremental collection the file holds only the items created or updated since the
 *   checkpoint; a reader overlays the files of a chain oldest first, by key.
 * - per-parent: items hung under an issue, pull request or discussion (timeline events, reviews,
 *   discussion comments), collected for every parent the parent kind's file holds (all of them, or
 *   the changed ones); overlaid by key.
 * Attachments are a delta too: an incremental file lists only the URLs new to the chain.
 */
export type KindShape = "whole" | "delta" | "per-parent";

export const KIND_SHAPE: Readonly<Record<MetadataKind, KindShape>> = {
  repository: "whole",
  "branch-protections": "whole",
  rulesets: "whole",
  autolinks: "whole",
  labels: "whole",
  milestones: "whole",
  issues: "delta",
  "issue-comments": "delta",
  "issue-events": "per-parent",
  pulls: "delta",
  "pull-reviews": "per-parent",
  "pull-review-comments": "delta",
  releases: "whole",
  collaborators: "whole",
  teams: "whole",
  hooks: "whole",
  "deploy-keys": "whole",
  "actions-variables": "whole",
  "actions-secrets": "whole",
  environments: "whole",
  discussions: "delta",
  "discussion-comments": "per-parent",
  attachments: "delta",
  org: "whole",
  "org-members": "whole",
  "org-teams": "whole",
  "org-rulesets": "whole",
  "org-projects": "whole",
  "org-project-items": "whole",
};

/**
 * The fields that identify one line of a kind's file. Lines are sorted by them, ascending (numbers
 * numerically, strings by code point), except a full file of a delta kind: streamed in GitHub's
 * creation order, which is key order but for items transferred in. Overlaying a chain, a later
 * line with the same key replaces the earlier one.
 */
export const KIND_KEY: Readonly<Record<MetadataKind, readonly string[]>> = {
  repository: ["id"],
  "branch-protections": ["branch"],
  rulesets: ["id"],
  autolinks: ["id"],
  labels: ["name"],
  milestones: ["number"],
  issues: ["number"],
  "issue-comments": ["id"],
  "issue-events": ["issue_number", "created_at", "key"],
  pulls: ["number"],
  "pull-reviews": ["pull_number", "id"],
  "pull-review-comments": ["id"],
  releases: ["id"],
  collaborators: ["login"],
  teams: ["slug"],
  hooks: ["id"],
  "deploy-keys": ["id"],
  "actions-variables": ["name"],
  "actions-secrets": ["name"],
  environments: ["name"],
  discussions: ["number"],
  "discussion-comments": ["discussion_number", "id"],
  attachments: ["url"],
  org: ["id"],
  "org-members": ["login"],
  "org-teams": ["slug"],
  "org-rulesets": ["id"],
  "org-projects": ["number"],
  "org-project-items": ["project_number", "id"],
};

/** The kind whose items a per-parent kind hangs under. */
export const PARENT_KIND: Readonly<Partial<Record<MetadataKind, MetadataKind>>> = {
  "issue-events": "issues",
  "pull-reviews": "pulls",
  "discussion-comments": "discussions",
};
