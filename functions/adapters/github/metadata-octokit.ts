// The Octokit the metadata collection reads with: GitHub's own retry and throttling plugins, so
// primary and secondary rate limits wait for `retry-after` or the reset, and 5xx answers are retried
// with backoff. Pass the class to @octokit/app (`new App({ Octokit: resilientOctokit(...) })`): its
// installation clients are built from it and inherit both plugins.
import type { App } from "@octokit/app";
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling, type ThrottlingOptions } from "@octokit/plugin-throttling";
import { SourceError } from "../../core/errors.js";
import type { OctokitLike } from "./metadata-http.js";
import { httpStatusOf, sourceErrorFrom } from "./errors.js";

export interface ResilienceOptions {
  /** The API root: "https://api.github.com" (the default) or a GitHub Enterprise Server's "/api/v3". */
  baseUrl?: string;
  /** Tries after the first for a 5xx, a rate limit or a secondary limit. Default 4. */
  retries?: number;
  /** A rate limit that would make us wait longer than this (seconds) fails instead. Default 900. */
  maxWaitSeconds?: number;
  /**
   * Milliseconds per second of `retry-after`, of backoff, and of the second left between two
   * writes (POST, PATCH, PUT, DELETE, GraphQL mutations): 1000, shrunk by tests.
   */
  msPerSecond?: number;
  /** Octokit's logger (the plugins warn through it); never given a token. */
  log?: { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void };
}

/** An Octokit class with retries and throttling, defaults baked in. */
export function resilientOctokit(options: ResilienceOptions = {}): typeof Octokit {
  const retries = options.retries ?? 4;
  const maxWait = options.maxWaitSeconds ?? 900;
  const scale = options.msPerSecond ?? 1000;
  const wait = (retryAfter: number, _request: unknown, _octokit: unknown, retryCount: number) =>
    retryCount < retries && retryAfter <= maxWait;
  const limits = writeSpacing(scale);
  return Octokit.plugin(retry, throttling).defaults({
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
    retry: { retries, retryAfterBaseValue: scale },
    throttle: {
      retryAfterBaseValue: scale,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: wait,
      onSecondaryRateLimit: wait,
      write: limits.write,
      // The cast: the plugin takes `global` like `write` (state.global ?? its own group), untyped.
      ...({ global: limits.global } as Record<string, unknown>),
    },
  });
}

/** The plugin's global limit: requests in flight at once (its own default). */
const MAX_CONCURRENT = 10;

/**
 * The plugin's "write" and "global" limiters, replaced. GitHub asks for a second between
 * content-creating requests; the plugin spaces every POST to /graphql so, read-only queries
 * included, though a query costs the secondary limit a point like a GET (a mutation five): a
 * follow-up snapshot's two queries waited a second for each other. The plugin's write limiter sees
 * no request, so here it lets every job through, and the global one, which runs the request itself
 * and sees its options, spaces writes `minTimeMs` apart (GraphQL mutations included, queries not)
 * and keeps at most MAX_CONCURRENT requests in flight. The plugin reads both as Bottleneck groups
 * and calls only `key(id).schedule(...)`; test/unit/metadata-octokit.test.ts would catch a plugin
 * that changed this.
 */
type Group = ThrottlingOptions["write"];

function writeSpacing(minTimeMs: number): { write: Group; global: Group } {
  let writes: Promise<unknown> = Promise.resolve();
  let lastWrite = 0;
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    if (inFlight >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight++;
  };
  const free = () => {
    inFlight--;
    waiting.shift()?.();
  };
  const spaced = () => {
    const turn = writes.then(async () => {
      const wait = lastWrite + minTimeMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      lastWrite = Date.now();
    });
    writes = turn;
    return turn;
  };
  const global = {
    async schedule<T>(
      _job: unknown,
      request: (options: Record<string, unknown>) => Promise<T>,
      options: Record<string, unknown>,
    ): Promise<T> {
      if (isWrite(options)) await spaced();
      await slot();
      try {
        return await request(options);
      } finally {
        free();
      }
    },
  };
  const passThrough = { schedule: <T>(_job: unknown, job: () => Promise<T>) => job() };
  // The casts: a Bottleneck group has many more members; the plugin calls only key().schedule().
  return {
    write: { key: () => passThrough } as unknown as Group,
    global: { key: () => global } as unknown as Group,
  };
}

/** Whether a request writes: any method but GET and HEAD, except a GraphQL query (not a mutation). */
function isWrite(options: Record<string, unknown>): boolean {
  const method = String(options.method ?? "GET").toUpperCase();
  if (method === "GET" || method === "HEAD") return false;
  return !(method === "POST" && /\/graphql$/.test(String(options.url ?? "")) && isQuery(options));
}

/**
 * Whether a GraphQL request is a query (not a mutation or subscription). Its document is in the
 * body (`data.query`, as RepoApi.post sends it) or a parameter (`request("POST /graphql", { query })`).
 */
function isQuery(options: Record<string, unknown>): boolean {
  const { data } = options;
  const inBody = data && typeof data === "object" ? (data as { query?: unknown }).query : undefined;
  const query = typeof inBody === "string" ? inBody : options.query;
  if (typeof query !== "string") return false;
  // Comments aside, a document that names no mutation or subscription operation is only reads.
  const text = query.replace(/#[^\n]*/g, "");
  return !/(^|[\s}])(mutation|subscription)\b/.test(text);
}

/**
 * The installation client for a repository's owner, through `app` (built with resilientOctokit),
 * the installation looked up once per owner. A missing installation is a permanent SourceError.
 */
export function installationClients(app: App): (repo: string) => Promise<OctokitLike> {
  const installations = new Map<string, Promise<number>>();
  return async (repo) => {
    const owner = (repo.split("/")[0] ?? "").toLowerCase();
    let id = installations.get(owner);
    if (!id) {
      id = app.octokit.request("GET /orgs/{org}/installation", { org: owner }).then(
        ({ data }) => data.id,
        (err: unknown) => {
          installations.delete(owner);
          if (httpStatusOf(err) === 404)
            throw new SourceError(`the GitHub App is not installed on ${owner}`, {
              cause: err,
              permanent: true,
            });
          throw sourceErrorFrom(err, `finding the GitHub App installation on ${owner}`);
        },
      );
      installations.set(owner, id);
    }
    // The cast: @octokit/app types its clients as its own Octokit; ours needs only `request`.
    return (await app.getInstallationOctokit(await id)) as unknown as OctokitLike;
  };
}
