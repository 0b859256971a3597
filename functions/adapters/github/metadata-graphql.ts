// GitHub's GraphQL API as the metadata collection reads it: one query at a time through the
// installation's client (the throttling plugin spaces GraphQL requests and waits out RATE_LIMITED),
// its `errors` sorted like REST failures: FORBIDDEN and NOT_FOUND make the kind unavailable, the
// rate limit is a RateLimitedError, and any other error fails the collection.
import { RateLimitedError, MetadataFormatError } from "../../core/metadata/errors.js";
import { REASONS, Unavailable, type RepoApi } from "./metadata-http.js";

interface GraphqlError {
  type?: unknown;
  path?: unknown;
  message?: unknown;
  extensions?: { code?: unknown };
}

/**
 * GitHub's GraphQL endpoint for the API root: "/graphql" below api.github.com (and the stand-in),
 * "https://host/api/graphql" for a GitHub Enterprise Server whose REST root is ".../api/v3".
 */
export function graphqlUrl(apiBase: URL): string {
  const path = apiBase.pathname.replace(/\/+$/, "");
  if (path.endsWith("/api/v3")) return `${apiBase.origin}${path.slice(0, -"/v3".length)}/graphql`;
  return "/graphql";
}

/** GitHub's GraphQL API refused the query itself (a field or argument it does not know, a limit). */
export class GraphqlRefused extends MetadataFormatError {}

/** Runs `query` and returns its `data`. Throws Unavailable, RateLimitedError, MetadataFormatError or a SourceError. */
export async function graphql(
  api: RepoApi,
  query: string,
  variables: Record<string, unknown>,
  what: string,
): Promise<unknown> {
  return run(api, query, variables, what, () => false);
}

/**
 * Like graphql, for a query of aliases (`repository { t0: … t1: … }`): an alias that names what
 * is not there (an issue deleted meanwhile) answers null with a NOT_FOUND error at its path, which
 * is no failure of the whole; any other error is.
 */
export async function graphqlWithGaps(
  api: RepoApi,
  query: string,
  variables: Record<string, unknown>,
  what: string,
): Promise<unknown> {
  const gap = (e: GraphqlError) =>
    e.type === "NOT_FOUND" && Array.isArray(e.path) && e.path.length === 2 && e.path[0] === "repository";
  return run(api, query, variables, what, gap);
}

async function run(
  api: RepoApi,
  query: string,
  variables: Record<string, unknown>,
  what: string,
  ignored: (error: GraphqlError) => boolean,
): Promise<unknown> {
  const body = await api.post(graphqlUrl(api.apiBase), { query, variables }, what);
  if (!body || typeof body !== "object")
    throw new MetadataFormatError(`${what}: GitHub's GraphQL answer is not the JSON expected`);
  const { data, errors } = body as { data?: unknown; errors?: unknown };
  const fatal = Array.isArray(errors) ? (errors as GraphqlError[]).filter((e) => !ignored(e)) : [];
  if (fatal.length > 0) throw sorted(fatal, what);
  if (data === undefined || data === null)
    throw new MetadataFormatError(`${what}: GitHub's GraphQL answer has no data`);
  return data;
}

function sorted(errors: GraphqlError[], what: string): Error {
  const types = errors.map((e) => String(e?.type ?? e?.extensions?.code ?? ""));
  if (types.every((t) => t === "FORBIDDEN")) return new Unavailable(403, REASONS[403]!);
  if (types.every((t) => t === "NOT_FOUND")) return new Unavailable(404, REASONS[404]!);
  if (types.includes("RATE_LIMITED"))
    return new RateLimitedError(`${what}: GitHub's GraphQL rate limit is spent`);
  // The message is GitHub's account of our query (a field it does not know, a parse error), never
  // repository data; it is cut short all the same.
  const first = errors[0];
  const message = typeof first?.message === "string" ? first.message.slice(0, 200) : "no message";
  return new GraphqlRefused(
    `${what}: GitHub's GraphQL API refused the query (${types[0] || "error"}: ${message})`,
  );
}
