// The GitHub stand-in's metadata endpoints for one repository: the lists GitHub pages (Link headers,
// per_page, sort/direction/since), per-item details, timelines, reviews and release assets, served
// from plain API-shaped objects a test puts in a RepoMetadata.
import { HttpFailure } from "./github-standin.js";
import type { StandinAttachment } from "./github-standin-usercontent.js";

type ApiObject = Record<string, unknown>;

/** What one repository holds beyond its git data, each list in GitHub's API shape. */
export interface RepoMetadata {
  /** Fields merged into GET /repos/{o}/{r}: description, topics, has_issues, merge options… */
  settings: ApiObject;
  /** Branch name -> GET /branches/{b}/protection's answer; these branches are the protected ones. */
  protections: Record<string, ApiObject>;
  /** GET /rulesets/{id}'s answers. */
  rulesets: ApiObject[];
  autolinks: ApiObject[];
  labels: ApiObject[];
  milestones: ApiObject[];
  /** Issues and pull requests (a pull request carries `pull_request: {…}`), as the issues API lists them. */
  issues: ApiObject[];
  /** Issue comments; `issue_url` names the issue. */
  comments: ApiObject[];
  /** Issue number -> timeline events. */
  timelines: Record<number, ApiObject[]>;
  pulls: ApiObject[];
  /** Pull number -> reviews. */
  reviews: Record<number, ApiObject[]>;
  reviewComments: ApiObject[];
  /** Releases with `assets`; each asset's bytes are in `assetBytes` under its id. */
  releases: ApiObject[];
  assetBytes: Map<number, Buffer>;
  collaborators: ApiObject[];
  teams: ApiObject[];
  hooks: ApiObject[];
  keys: ApiObject[];
  variables: ApiObject[];
  secrets: ApiObject[];
  environments: ApiObject[];
  /**
   * Discussions in GraphQL's shape (number, title, author { login }, category, reactionGroups…),
   * each with `comments`, each comment with `replies`: what POST /graphql serves.
   */
  discussions: ApiObject[];
  /** Attachments its bodies link, by path on their host (see StandinAttachment). */
  attachments: Map<string, StandinAttachment>;
}

export function emptyMetadata(): RepoMetadata {
  return {
    settings: {},
    protections: {},
    rulesets: [],
    autolinks: [],
    labels: [],
    milestones: [],
    issues: [],
    comments: [],
    timelines: {},
    pulls: [],
    reviews: {},
    reviewComments: [],
    releases: [],
    assetBytes: new Map(),
    collaborators: [],
    teams: [],
    hooks: [],
    keys: [],
    variables: [],
    secrets: [],
    environments: [],
    discussions: [],
    attachments: new Map(),
  };
}

/** A JSON answer, or bytes as they are (assets, garbage). */
export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; raw: Buffer | string; headers: Record<string, string> };

export interface MetadataContext {
  /** The stand-in's own root, for Link headers. */
  baseUrl: string;
  /** A signed, short-lived URL of the asset host for these bytes. */
  assetUrl(assetId: number): string;
}

/** One page of `items` as GitHub pages it, with the Link header for the others. */
export function paged(url: URL, items: readonly unknown[], ctx: MetadataContext, maxPerPage = 100): Reply {
  const perPage = Math.min(maxPerPage, Number(url.searchParams.get("per_page") ?? 30));
  const page = Math.max(1, Number(url.searchParams.get("page") ?? 1));
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const target = new URL(url.pathname + url.search, ctx.baseUrl);
    target.searchParams.set("page", String(p));
    return `<${target.href}>; rel="${rel}"`;
  };
  const links = [
    ...(page < pages ? [link(page + 1, "next"), link(pages, "last")] : []),
    ...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []),
  ];
  const json = items.slice((page - 1) * perPage, page * perPage);
  return { status: 200, json, ...(links.length ? { headers: { Link: links.join(", ") } } : {}) };
}

/** `sort` (created or updated), `direction` and `since` as the issues and comments lists take them. */
function sorted(url: URL, items: readonly ApiObject[]): ApiObject[] {
  const field = url.searchParams.get("sort") === "updated" ? "updated_at" : "created_at";
  const direction = url.searchParams.get("direction") === "asc" ? 1 : -1;
  const since = url.searchParams.get("since");
  return items
    .filter((item) => !since || String(item.updated_at) >= since)
    .sort(
      (a, b) =>
        direction *
        (String(a[field]).localeCompare(String(b[field])) || Number(a.id ?? 0) - Number(b.id ?? 0)),
    );
}

const ISSUES_OFF = () => new HttpFailure(410, "Issues are disabled for this repo");

/** Answers GET `rest` (the path after /repos/{o}/{r}), or undefined when it is not a metadata route. */
export function routeMetadata(
  meta: RepoMetadata,
  rest: string,
  url: URL,
  accept: string,
  ctx: MetadataContext,
) {
  const issuesOff = meta.settings.has_issues === false;
  const state = (item: ApiObject) => url.searchParams.get("state") === "all" || item.state === "open";
  let m: RegExpExecArray | null;
  switch (rest) {
    case "/branches":
      return paged(
        url,
        Object.keys(meta.protections)
          .sort()
          .map((name) => ({ name, protected: true })),
        ctx,
      );
    case "/rulesets":
      return paged(
        url,
        meta.rulesets.map(({ id, name, source_type, source, enforcement }) => ({
          id,
          name,
          source_type,
          source,
          enforcement,
        })),
        ctx,
      );
    case "/autolinks":
      return { status: 200, json: meta.autolinks };
    case "/labels":
      return paged(url, meta.labels, ctx);
    case "/milestones":
      return paged(url, sorted(new URL("?direction=asc", url), meta.milestones.filter(state)), ctx);
    case "/issues":
      if (issuesOff) throw ISSUES_OFF();
      return paged(url, sorted(url, meta.issues.filter(state)), ctx);
    case "/issues/comments":
      if (issuesOff) throw ISSUES_OFF();
      return paged(url, sorted(url, meta.comments), ctx);
    case "/pulls":
      return paged(url, sorted(url, meta.pulls.filter(state)), ctx);
    case "/pulls/comments":
      return paged(url, sorted(url, meta.reviewComments), ctx);
    case "/releases":
      return paged(
        url,
        [...meta.releases].sort((a, b) => Number(b.id) - Number(a.id)),
        ctx,
      );
    case "/collaborators":
      return paged(url, meta.collaborators, ctx);
    case "/teams":
      return paged(url, meta.teams, ctx);
    case "/hooks":
      return paged(url, meta.hooks, ctx);
    case "/keys":
      return paged(url, meta.keys, ctx);
    case "/actions/variables": {
      const page = paged(url, meta.variables, ctx, 30) as { status: number; json: unknown[] };
      return { ...page, json: { total_count: meta.variables.length, variables: page.json } };
    }
    case "/actions/secrets": {
      const page = paged(url, meta.secrets, ctx) as { status: number; json: unknown[] };
      return { ...page, json: { total_count: meta.secrets.length, secrets: page.json } };
    }
    case "/environments": {
      const page = paged(url, meta.environments, ctx) as { status: number; json: unknown[] };
      return { ...page, json: { total_count: meta.environments.length, environments: page.json } };
    }
  }
  if ((m = /^\/branches\/([^/]+)\/protection$/.exec(rest))) {
    const protection = meta.protections[decodeURIComponent(m[1]!)];
    if (!protection) throw new HttpFailure(404, "Branch not protected");
    return { status: 200, json: protection };
  }
  if ((m = /^\/rulesets\/(\d+)$/.exec(rest))) {
    const ruleset = meta.rulesets.find((r) => r.id === Number(m![1]));
    if (!ruleset) throw new HttpFailure(404, "Not Found");
    return { status: 200, json: ruleset };
  }
  if ((m = /^\/issues\/(\d+)\/timeline$/.exec(rest))) {
    if (issuesOff) throw ISSUES_OFF();
    const number = Number(m[1]);
    if (!meta.issues.some((i) => i.number === number)) throw new HttpFailure(404, "Not Found");
    return paged(url, meta.timelines[number] ?? [], ctx);
  }
  if ((m = /^\/pulls\/(\d+)\/reviews$/.exec(rest))) {
    const number = Number(m[1]);
    if (!meta.pulls.some((p) => p.number === number)) throw new HttpFailure(404, "Not Found");
    return paged(url, meta.reviews[number] ?? [], ctx);
  }
  if ((m = /^\/releases\/assets\/(\d+)$/.exec(rest))) {
    const id = Number(m[1]);
    const asset = meta.releases.flatMap((r) => r.assets as ApiObject[]).find((a) => a.id === id);
    if (!asset || !meta.assetBytes.has(id)) throw new HttpFailure(404, "Not Found");
    if (accept !== "application/octet-stream") return { status: 200, json: asset };
    // GitHub's answer for the bytes: a redirect to a signed URL on another host.
    return { status: 302, raw: "", headers: { Location: ctx.assetUrl(id) } };
  }
  return undefined;
}
