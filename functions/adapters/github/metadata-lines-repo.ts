// Line schemas of the repository's own settings and of its labels, milestones and releases.
import { z } from "zod";
import { assetPath } from "../../core/metadata/paths.js";
import { login, optionalText, slugs, timestamp } from "./metadata-lines-common.js";

const flag = z.boolean().optional();

export const repositoryLine = z.object({
  id: z.number().int(),
  name: z.string(),
  full_name: z.string(),
  description: optionalText,
  homepage: optionalText,
  topics: z.array(z.string()).optional(),
  visibility: z.string().optional(),
  private: z.boolean(),
  fork: z.boolean(),
  archived: z.boolean().optional(),
  disabled: flag,
  is_template: flag,
  default_branch: z.string().optional(),
  license: z
    .object({ spdx_id: z.string().nullable() })
    .nullable()
    .optional()
    .transform((l) => l?.spdx_id ?? null),
  has_issues: flag,
  has_projects: flag,
  has_wiki: flag,
  has_discussions: flag,
  has_pages: flag,
  has_downloads: flag,
  allow_squash_merge: flag,
  allow_merge_commit: flag,
  allow_rebase_merge: flag,
  allow_auto_merge: flag,
  allow_update_branch: flag,
  allow_forking: flag,
  delete_branch_on_merge: flag,
  use_squash_pr_title_as_default: flag,
  squash_merge_commit_title: z.string().optional(),
  squash_merge_commit_message: z.string().optional(),
  merge_commit_title: z.string().optional(),
  merge_commit_message: z.string().optional(),
  web_commit_signoff_required: flag,
  security_and_analysis: z
    .record(z.string(), z.object({ status: z.string() }))
    .nullable()
    .optional(),
  custom_properties: z.record(z.string(), z.unknown()).optional(),
  created_at: timestamp,
  updated_at: timestamp,
  pushed_at: timestamp.nullable().optional(),
});

const enabled = z
  .object({ enabled: z.boolean() })
  .optional()
  .transform((v) => v?.enabled);

const actors = z.object({
  users: z
    .array(z.object({ login: z.string() }))
    .transform((u) => u.map((x) => x.login))
    .optional(),
  teams: slugs.optional(),
  apps: slugs.optional(),
});

/** GET /repos/{o}/{r}/branches/{branch}/protection, with the branch it protects. */
export const branchProtection = z.object({
  required_status_checks: z
    .object({
      strict: z.boolean().optional(),
      contexts: z.array(z.string()).optional(),
      checks: z.array(z.object({ context: z.string(), app_id: z.number().int().nullable() })).optional(),
    })
    .nullable()
    .optional(),
  enforce_admins: enabled,
  required_pull_request_reviews: z
    .object({
      dismiss_stale_reviews: flag,
      require_code_owner_reviews: flag,
      required_approving_review_count: z.number().int().optional(),
      require_last_push_approval: flag,
      dismissal_restrictions: actors.optional(),
      bypass_pull_request_allowances: actors.optional(),
    })
    .optional(),
  restrictions: actors.nullable().optional(),
  required_signatures: enabled,
  required_linear_history: enabled,
  allow_force_pushes: enabled,
  allow_deletions: enabled,
  block_creations: enabled,
  required_conversation_resolution: enabled,
  lock_branch: enabled,
  allow_fork_syncing: enabled,
});

export const branchName = z.object({ name: z.string() });

/** GET /repos/{o}/{r}/rulesets/{id}: the rules and conditions are kept as GitHub states them. */
export const rulesetLine = z.object({
  id: z.number().int(),
  name: z.string(),
  target: z.string().optional(),
  source_type: z.string().optional(),
  source: z.string(),
  enforcement: z.string(),
  bypass_actors: z
    .array(
      z.object({
        actor_id: z.number().int().nullable().optional(),
        actor_type: z.string(),
        bypass_mode: z.string().optional(),
      }),
    )
    .optional(),
  conditions: z.record(z.string(), z.unknown()).nullable().optional(),
  rules: z.array(z.object({ type: z.string(), parameters: z.unknown().optional() })).optional(),
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
});

export const rulesetId = z.object({ id: z.number().int(), source_type: z.string().optional() });

export const autolinkLine = z.object({
  id: z.number().int(),
  key_prefix: z.string(),
  url_template: z.string(),
  is_alphanumeric: z.boolean().optional(),
});

export const labelLine = z.object({
  id: z.number().int(),
  name: z.string(),
  color: z.string(),
  description: optionalText,
  default: flag,
});

export const milestoneLine = z.object({
  id: z.number().int(),
  number: z.number().int(),
  title: z.string(),
  description: optionalText,
  state: z.string(),
  creator: login.optional(),
  open_issues: z.number().int(),
  closed_issues: z.number().int(),
  due_on: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  closed_at: timestamp.nullable(),
});

const assetItem = z.object({
  id: z.number().int(),
  name: z.string(),
  label: optionalText,
  content_type: z.string(),
  state: z.string(),
  size: z.number().int().nonnegative(),
  /** "sha256:<hex>" where GitHub computed it. */
  digest: z.string().nullable().optional(),
  download_count: z.number().int(),
  uploader: login.optional(),
  created_at: timestamp,
  updated_at: timestamp,
});

export type ReleaseAsset = z.infer<typeof assetItem>;

export const releaseLine = z
  .object({
    id: z.number().int(),
    tag_name: z.string(),
    target_commitish: z.string(),
    name: optionalText,
    body: optionalText,
    draft: z.boolean(),
    prerelease: z.boolean(),
    immutable: flag,
    author: login.optional(),
    created_at: timestamp,
    published_at: timestamp.nullable(),
    updated_at: timestamp.nullable().optional(),
    assets: z.array(assetItem),
  })
  .transform((release) => ({
    ...release,
    // Where each asset's bytes are in the chain; an asset still uploading has none.
    assets: release.assets.map((a) => ({
      ...a,
      path: a.state === "uploaded" ? assetPath(release.id, a.id) : null,
    })),
  }));

export type ReleaseLine = z.infer<typeof releaseLine>;
