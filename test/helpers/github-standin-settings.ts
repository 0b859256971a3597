// The GitHub stand-in's settings writes, as a restore makes them: PATCH the repository, PUT its
// topics and branch protections, POST rulesets, autolinks, hooks and deploy keys. Each write lands
// in the repository's RepoMetadata, so the stand-in's reads (and a backup of the restored
// repository) serve what was written. Plus the read a restore's refusal checks make: the refs of
// the repository's git data (an empty repository answers 409, as GitHub does).
import { readRefs } from "../../functions/core/git/local-repo.js";
import { HttpFailure, type ExtraRoute, type GitHubStandin } from "./github-standin.js";

type ApiObject = Record<string, unknown>;

/** Fields PATCH /repos/{o}/{r} takes (GitHub's names); anything else is a 422 naming it. */
const REPOSITORY_FIELDS = new Set([
  "description",
  "homepage",
  "private",
  "visibility",
  "has_issues",
  "has_projects",
  "has_wiki",
  "has_discussions",
  "is_template",
  "default_branch",
  "allow_squash_merge",
  "allow_merge_commit",
  "allow_rebase_merge",
  "allow_auto_merge",
  "allow_update_branch",
  "allow_forking",
  "delete_branch_on_merge",
  "use_squash_pr_title_as_default",
  "squash_merge_commit_title",
  "squash_merge_commit_message",
  "merge_commit_title",
  "merge_commit_message",
  "web_commit_signoff_required",
  "archived",
]);

/** Writes recorded for assertions: method and path after /repos/{o}/{r}. */
export interface SettingsWrite {
  repo: string;
  method: string;
  rest: string;
}

/** Adds the settings writes to `github`; returns the list every write is recorded in. */
export function serveSettingsWrites(github: GitHubStandin): SettingsWrite[] {
  const writes: SettingsWrite[] = [];
  let nextId = 90_000;
  const route: ExtraRoute = async ({ method, rest, body, repo, gitDir }) => {
    const meta = repo.metadata;
    const record = () => writes.push({ repo: `${repo.owner}/${repo.name}`, method, rest });
    let m: RegExpExecArray | null;
    if (method === "GET" && (m = /^\/git\/matching-refs\/(.*)$/.exec(rest))) {
      const refs = Object.keys(await readRefs(gitDir).catch(() => ({})));
      if (refs.length === 0) throw new HttpFailure(409, "Git Repository is empty.");
      const prefix = `refs/${decodeURIComponent(m[1]!)}`;
      return [200, refs.filter((r) => r.startsWith(prefix)).map((ref) => ({ ref }))];
    }
    if (method === "PATCH" && rest === "") {
      record();
      const unknown = Object.keys(body).find((k) => !REPOSITORY_FIELDS.has(k));
      if (unknown) throw new HttpFailure(422, `Invalid request: ${unknown} is not a repository setting`);
      if (typeof body.default_branch === "string") {
        const refs = await readRefs(gitDir).catch(() => ({}));
        if (!(`refs/heads/${body.default_branch}` in refs))
          throw new HttpFailure(422, `Validation Failed: no branch ${body.default_branch}`);
      }
      const { private: isPrivate, visibility, ...rest } = body;
      if (visibility !== undefined) repo.private = visibility !== "public";
      else if (isPrivate !== undefined) repo.private = isPrivate === true;
      Object.assign(meta.settings, rest);
      if (visibility !== undefined || isPrivate !== undefined)
        meta.settings.visibility = repo.private
          ? visibility === "internal"
            ? "internal"
            : "private"
          : "public";
      return [200, { ...github.repository(`${repo.owner}/${repo.name}`), ...meta.settings }];
    }
    if (method === "PUT" && rest === "/topics") {
      record();
      const names = body.names;
      if (
        !Array.isArray(names) ||
        names.some((n) => typeof n !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(n))
      )
        throw new HttpFailure(422, "Validation Failed: names");
      meta.settings.topics = [...names];
      return [200, { names }];
    }
    if (method === "PUT" && (m = /^\/branches\/([^/]+)\/protection$/.exec(rest))) {
      record();
      const branch = decodeURIComponent(m[1]!);
      const refs = await readRefs(gitDir).catch(() => ({}));
      if (!(`refs/heads/${branch}` in refs)) throw new HttpFailure(404, "Branch not found");
      for (const field of [
        "required_status_checks",
        "enforce_admins",
        "required_pull_request_reviews",
        "restrictions",
      ])
        if (!(field in body)) throw new HttpFailure(422, `Invalid request: ${field} is required`);
      meta.protections[branch] = protectionAnswer(body, meta.protections[branch]);
      return [200, meta.protections[branch]];
    }
    if (method === "POST" && (m = /^\/branches\/([^/]+)\/protection\/required_signatures$/.exec(rest))) {
      record();
      const protection = meta.protections[decodeURIComponent(m[1]!)];
      if (!protection) throw new HttpFailure(404, "Branch not protected");
      protection.required_signatures = { enabled: true };
      return [200, { enabled: true }];
    }
    if (method === "POST" && rest === "/rulesets") {
      record();
      if (typeof body.name !== "string" || typeof body.enforcement !== "string")
        throw new HttpFailure(422, "Invalid request: name and enforcement are required");
      const ruleset = {
        ...body,
        id: nextId++,
        source_type: "Repository",
        source: `${repo.owner}/${repo.name}`,
      };
      meta.rulesets.push(ruleset);
      return [201, ruleset];
    }
    if (method === "POST" && rest === "/autolinks") {
      record();
      if (meta.autolinks.some((a) => a.key_prefix === body.key_prefix))
        throw new HttpFailure(422, "Validation Failed: key_prefix already exists");
      const autolink = { id: nextId++, ...pick(body, ["key_prefix", "url_template", "is_alphanumeric"]) };
      meta.autolinks.push(autolink);
      return [201, autolink];
    }
    if (method === "POST" && rest === "/hooks") {
      record();
      const config = (body.config ?? {}) as ApiObject;
      const hook = {
        id: nextId++,
        name: body.name ?? "web",
        active: body.active ?? true,
        events: body.events ?? ["push"],
        // GitHub never shows a secret back: it answers "********" where one was set.
        config: { ...config, ...(config.secret ? { secret: "********" } : {}) },
        created_at: "2024-01-01T00:00:00Z",
        updated_at: "2024-01-01T00:00:00Z",
      };
      meta.hooks.push(hook);
      return [201, hook];
    }
    if (method === "POST" && rest === "/keys") {
      record();
      if (meta.keys.some((k) => k.key === body.key))
        throw new HttpFailure(422, "Validation Failed: key is already in use");
      const key = {
        id: nextId++,
        verified: true,
        created_at: "2024-01-01T00:00:00Z",
        ...pick(body, ["title", "key", "read_only"]),
      };
      meta.keys.push(key);
      return [201, key];
    }
    return undefined;
  };
  github.routes.push(route);
  return writes;
}

function pick(body: ApiObject, fields: string[]): ApiObject {
  return Object.fromEntries(fields.filter((f) => f in body).map((f) => [f, body[f]]));
}

const enabled = (value: unknown) => ({ enabled: value === true });
const actorsAnswer = (actors: unknown) => {
  if (!actors) return actors;
  const {
    users = [],
    teams = [],
    apps = [],
  } = actors as { users?: string[]; teams?: string[]; apps?: string[] };
  return {
    users: users.map((login) => ({ login })),
    teams: teams.map((slug) => ({ slug })),
    apps: apps.map((slug) => ({ slug })),
  };
};

/** The GET answer GitHub gives after a PUT of `body` (booleans as {enabled}, actors as objects). */
function protectionAnswer(body: ApiObject, before: ApiObject | undefined): ApiObject {
  const reviews = body.required_pull_request_reviews as ApiObject | null;
  const answer: ApiObject = {
    required_status_checks: body.required_status_checks,
    enforce_admins: enabled(body.enforce_admins),
    ...(reviews
      ? {
          required_pull_request_reviews: {
            ...reviews,
            ...(reviews.dismissal_restrictions
              ? { dismissal_restrictions: actorsAnswer(reviews.dismissal_restrictions) }
              : {}),
            ...(reviews.bypass_pull_request_allowances
              ? { bypass_pull_request_allowances: actorsAnswer(reviews.bypass_pull_request_allowances) }
              : {}),
          },
        }
      : {}),
    ...(body.restrictions ? { restrictions: actorsAnswer(body.restrictions) } : {}),
    required_signatures: (before?.required_signatures as ApiObject | undefined) ?? enabled(false),
  };
  for (const flag of [
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
  ])
    answer[flag] = enabled(body[flag]);
  return answer;
}
