// From a snapshot's settings lines (repository, branch protections, rulesets, autolinks, hooks, deploy
// keys; docs/FORMAT.md "Metadata") to the GitHub requests that give a new repository the same
// settings. Pure: settings.ts reads the lines and sends the requests.
import { UserInputError } from "../errors.js";
import type { MetadataLine } from "../metadata/read.js";

export type Visibility = "public" | "private" | "internal";

/** How public each visibility is: a restore never goes up this scale without being told to. */
const OPENNESS: Record<Visibility, number> = { private: 0, internal: 1, public: 2 };

export interface SettingsOptions {
  /** The visibility to give the restored repository; default the original's. */
  visibility?: Visibility;
  /** Allows `visibility` to be more public than the original's. */
  allowMorePublic?: boolean;
  /** Recreate the webhooks (never with a secret: none was stored). Off by default. */
  hooks?: boolean;
  /** Recreate the deploy keys (public keys). Off by default. */
  deployKeys?: boolean;
}

/** What a snapshot says of its repository's settings, kind by kind (undefined: not in the snapshot). */
export interface SnapshotSettings {
  repository?: MetadataLine;
  protections?: MetadataLine[];
  rulesets?: MetadataLine[];
  autolinks?: MetadataLine[];
  hooks?: MetadataLine[];
  deployKeys?: MetadataLine[];
}

/** One request of the plan; `what` names it for the report ("branch protection of main"). */
export type SettingsWrite =
  | { what: string; kind: "repository"; change: Record<string, unknown> }
  | { what: string; kind: "topics"; topics: string[] }
  | { what: string; kind: "protection"; branch: string; protection: Record<string, unknown> }
  | { what: string; kind: "signatures"; branch: string }
  | { what: string; kind: "ruleset"; body: Record<string, unknown> }
  | { what: string; kind: "autolink"; body: Record<string, unknown> }
  | { what: string; kind: "hook"; body: Record<string, unknown> }
  | { what: string; kind: "deploy-key"; body: Record<string, unknown> };

/** A setting of the snapshot the plan leaves out, and why. */
export interface SettingsSkip {
  what: string;
  why: string;
}

const FEATURES = ["has_issues", "has_projects", "has_wiki", "has_discussions", "is_template"] as const;
const MERGE_OPTIONS = [
  "allow_squash_merge",
  "allow_merge_commit",
  "allow_rebase_merge",
  "allow_auto_merge",
  "allow_update_branch",
  "allow_forking",
  "delete_branch_on_merge",
  "squash_merge_commit_title",
  "squash_merge_commit_message",
  "merge_commit_title",
  "merge_commit_message",
  "web_commit_signoff_required",
] as const;
const PROTECTION_FLAGS = [
  "required_linear_history",
  "allow_force_pushes",
  "allow_deletions",
  "block_creations",
  "required_conversation_resolution",
  "lock_branch",
  "allow_fork_syncing",
] as const;

/** The original's visibility as the repository line states it. */
export function originalVisibility(repository: MetadataLine | undefined): Visibility | undefined {
  if (!repository) return undefined;
  const stated = repository.visibility;
  if (stated === "public" || stated === "private" || stated === "internal") return stated;
  return repository.private === false ? "public" : "private";
}

/**
 * The visibility a restore gives, checked: more public than the original only with
 * `allowMorePublic`. A snapshot that does not say (no repository line) restores private unless told.
 * Throws UserInputError naming both visibilities.
 */
export function chosenVisibility(repository: MetadataLine | undefined, options: SettingsOptions): Visibility {
  const original = originalVisibility(repository) ?? "private";
  const asked = options.visibility ?? original;
  if (OPENNESS[asked] > OPENNESS[original] && !options.allowMorePublic)
    throw new UserInputError(
      `refusing to make the restored repository ${asked}: the original was ${original} ` +
        `(allow a more public visibility explicitly to do so)`,
    );
  return asked;
}

/** The requests that give a repository the snapshot's settings, in the order to send them. */
export function planSettings(
  settings: SnapshotSettings,
  options: SettingsOptions,
): { writes: SettingsWrite[]; skipped: SettingsSkip[] } {
  const writes: SettingsWrite[] = [];
  const skipped: SettingsSkip[] = [];
  const repo = settings.repository;
  const visibility = chosenVisibility(repo, options);
  if (repo) {
    const change: Record<string, unknown> = { visibility };
    for (const field of ["description", "homepage", ...FEATURES, ...MERGE_OPTIONS, "default_branch"])
      if (repo[field] !== undefined) change[field] = repo[field];
    writes.push({ what: "repository settings", kind: "repository", change });
    const topics = (repo.topics as string[] | undefined) ?? [];
    if (topics.length) writes.push({ what: "topics", kind: "topics", topics });
    if (repo.archived === true)
      skipped.push({
        what: "archived",
        why: "the original was archived; archive it by hand once the restore is checked",
      });
  }
  for (const line of settings.protections ?? []) {
    const branch = String(line.branch);
    writes.push({
      what: `branch protection of ${branch}`,
      kind: "protection",
      branch,
      protection: protectionBody(line),
    });
    if (line.required_signatures === true)
      writes.push({ what: `required signatures on ${branch}`, kind: "signatures", branch });
  }
  for (const line of settings.rulesets ?? []) {
    const body: Record<string, unknown> = { name: line.name, enforcement: line.enforcement };
    for (const field of ["target", "bypass_actors", "conditions", "rules"])
      if (line[field] !== undefined && line[field] !== null) body[field] = line[field];
    writes.push({ what: `ruleset ${String(line.name)}`, kind: "ruleset", body });
  }
  for (const line of settings.autolinks ?? []) {
    const body: Record<string, unknown> = { key_prefix: line.key_prefix, url_template: line.url_template };
    if (line.is_alphanumeric !== undefined) body.is_alphanumeric = line.is_alphanumeric;
    writes.push({ what: `autolink ${String(line.key_prefix)}`, kind: "autolink", body });
  }
  const hooks = settings.hooks ?? [];
  if (options.hooks) {
    for (const line of hooks)
      writes.push({ what: `webhook ${hookUrl(line)}`, kind: "hook", body: hookBody(line) });
  } else if (hooks.length)
    skipped.push({ what: `${hooks.length} webhook(s)`, why: "webhooks are restored only on request" });
  const keys = settings.deployKeys ?? [];
  if (options.deployKeys) {
    for (const line of keys) {
      const body = { title: line.title, key: line.key, read_only: line.read_only !== false };
      writes.push({ what: `deploy key ${String(line.title)}`, kind: "deploy-key", body });
    }
  } else if (keys.length)
    skipped.push({ what: `${keys.length} deploy key(s)`, why: "deploy keys are restored only on request" });
  return { writes, skipped };
}

/** PUT …/protection's body from a stored protection (the four required fields always present). */
function protectionBody(line: MetadataLine): Record<string, unknown> {
  const checks = line.required_status_checks as
    | { strict?: boolean; contexts?: string[]; checks?: { context: string; app_id: number | null }[] }
    | null
    | undefined;
  const reviews = line.required_pull_request_reviews as Record<string, unknown> | undefined;
  const body: Record<string, unknown> = {
    required_status_checks: checks
      ? {
          strict: checks.strict ?? false,
          ...(checks.checks?.length
            ? {
                checks: checks.checks.map(({ context, app_id }) =>
                  app_id === null ? { context } : { context, app_id },
                ),
              }
            : { contexts: checks.contexts ?? [] }),
        }
      : null,
    enforce_admins: line.enforce_admins === true,
    required_pull_request_reviews: reviews ? reviewsBody(reviews) : null,
    restrictions: line.restrictions ? actors(line.restrictions) : null,
  };
  for (const flag of PROTECTION_FLAGS) if (line[flag] !== undefined) body[flag] = line[flag];
  return body;
}

function reviewsBody(reviews: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of [
    "dismiss_stale_reviews",
    "require_code_owner_reviews",
    "required_approving_review_count",
    "require_last_push_approval",
  ])
    if (reviews[field] !== undefined) body[field] = reviews[field];
  if (reviews.dismissal_restrictions) body.dismissal_restrictions = actors(reviews.dismissal_restrictions);
  if (reviews.bypass_pull_request_allowances)
    body.bypass_pull_request_allowances = actors(reviews.bypass_pull_request_allowances);
  return body;
}

/** Users, teams and apps as GitHub's request bodies name them: logins and slugs. */
function actors(value: unknown): { users: string[]; teams: string[]; apps: string[] } {
  const {
    users = [],
    teams = [],
    apps = [],
  } = value as { users?: string[]; teams?: string[]; apps?: string[] };
  return { users, teams, apps };
}

/** A webhook named by its host only: a URL's path or query may be a secret (Slack's is). */
function hookUrl(line: MetadataLine): string {
  const url = (line.config as { url?: string } | undefined)?.url;
  try {
    return `to ${new URL(String(url)).host}`;
  } catch {
    return String(line.name ?? "web");
  }
}

/** A webhook's body: its events and config as stored; the stored config never held a secret. */
function hookBody(line: MetadataLine): Record<string, unknown> {
  const { url, content_type, insecure_ssl } = (line.config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { url };
  if (content_type !== undefined) config.content_type = content_type;
  if (insecure_ssl !== undefined) config.insecure_ssl = insecure_ssl;
  return { name: line.name ?? "web", active: line.active !== false, events: line.events ?? ["push"], config };
}
