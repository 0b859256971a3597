// One repository's REST API as the metadata collection reads it: GETs with If-None-Match, pages by
// Link header, and every failure sorted into "the repository cannot provide this" or a fatal error.
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DeadlineError, SourceError } from "../../core/errors.js";
import type { ConditionalRequest } from "../../core/metadata/checkpoint.js";
import { RateLimitedError } from "../../core/metadata/errors.js";
import { httpStatusOf } from "./errors.js";
import { RateBudget } from "./metadata-budget.js";

/** What we need of an Octokit (the installation's, with the retry and throttling plugins). */
export interface OctokitLike {
  request: {
    (options: {
      method: "GET" | "POST";
      /** A path below the API root, or an absolute URL (the token goes with it: only GitHub's own). */
      url: string;
      headers?: Record<string, string>;
      /** A POST's JSON body. */
      data?: unknown;
      request?: { signal?: AbortSignal; redirect?: "manual"; parseSuccessResponseBody?: boolean };
    }): Promise<{ status: number; headers: Record<string, unknown>; data: unknown }>;
    endpoint: { DEFAULTS: { baseUrl: string } };
  };
}

export const PER_PAGE = 100; // the API's maximum: fewest requests against the rate limit

/** The repository cannot provide what was asked (feature off, no permission, legal block). */
export class Unavailable extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface Answer {
  /** The request's path below the API root, as asked. */
  path: string;
  data: unknown;
  etag?: string;
  /** The next page's path, from the Link header. */
  next?: string;
  /** The number of the list's last page, from the Link header: how many pages the list has. */
  lastPage?: number;
}

/** Collects the validators of the 200 answers one kind was made from (see KindCheckpoint). */
export class Recorder {
  readonly requests: ConditionalRequest[] = [];
  /** False once an answer came without an ETag: then the kind cannot be checked conditionally. */
  complete = true;
  add(answer: Answer): void {
    if (answer.etag) this.requests.push({ path: answer.path, etag: answer.etag });
    else this.complete = false;
  }
}

/** Why a kind is unavailable, by GitHub's HTTP answer. */
export const REASONS: Readonly<Record<number, string>> = {
  403: "the GitHub App lacks the permission to read it",
  404: "not found (the feature is off, or the App cannot see it)",
  409: "the repository is empty",
  410: "disabled on this repository",
  451: "unavailable for legal reasons",
};

export class RepoApi {
  readonly counts = { total: 0, notModified: 0 };
  /** What GitHub's answers said of the installation's rate budget. */
  readonly budget = new RateBudget();
  private readonly base: URL;
  /** 200 answers seen by a conditional check, reused when the kind is then read (no second request). */
  private readonly seen = new Map<string, Answer>();

  constructor(
    private readonly octokit: OctokitLike,
    readonly repo: string,
    private readonly signal?: AbortSignal,
  ) {
    this.base = new URL(octokit.request.endpoint.DEFAULTS.baseUrl.replace(/\/+$/, "") + "/");
  }

  /** 200 answers a check just before this collection saw (changedSince), each used once for its path. */
  private readonly carried = new Map<string, Answer>();

  /** The 200 answers the conditional checks saw and no read took, handed over (see `carry`). */
  takeSeen(): Map<string, Answer> {
    const seen = new Map(this.seen);
    this.seen.clear();
    return seen;
  }

  /**
   * Answers a check made moments ago (changedSince, asked with the same checkpoint's ETags) got
   * with a 200: the next GET of each path takes it instead of asking GitHub again, ETag or not.
   */
  carry(answers: ReadonlyMap<string, Answer>): void {
    for (const [path, answer] of answers) this.carried.set(path, answer);
  }

  /** GET `path`; undefined for a 304. Throws Unavailable, or a fatal error (see `fail`). */
  async get(path: string, options: { etag?: string; what: string }): Promise<Answer | undefined> {
    const carried = this.carried.get(path);
    if (carried) {
      this.carried.delete(path);
      return carried;
    }
    const cached = options.etag ? undefined : this.seen.get(path);
    if (cached) {
      this.seen.delete(path);
      return cached;
    }
    if (this.signal?.aborted) throw this.aborted();
    this.counts.total++;
    try {
      const response = await this.octokit.request({
        method: "GET",
        url: path,
        headers: options.etag ? { "if-none-match": options.etag } : {},
        request: { signal: this.signal },
      });
      this.budget.note(response.headers, "core");
      const answer: Answer = { path, data: response.data };
      const etag = header(response.headers, "etag");
      if (etag) answer.etag = etag;
      const link = header(response.headers, "link");
      const next = this.nextPath(link);
      if (next) answer.next = next;
      const last = link && /[?&]page=(\d+)[^>]*>;\s*rel="last"/.exec(link);
      if (last) answer.lastPage = Number(last[1]);
      return answer;
    } catch (err) {
      this.noteFailed(err, "core");
      if (httpStatusOf(err) === 304) {
        this.counts.notModified++;
        return undefined;
      }
      throw this.fail(err, options.what);
    }
  }

  /** Every page of a list from `first`; the record gets each page's validator. */
  async *pages(first: string, what: string, record?: Recorder): AsyncGenerator<Answer> {
    let path: string | undefined = first;
    while (path) {
      const answer: Answer = (await this.get(path, { what }))!;
      record?.add(answer);
      yield answer;
      path = answer.next;
    }
  }

  /**
   * POSTs `data` (JSON) to `url` (a path below the API root, or GitHub's GraphQL endpoint) and
   * returns the answer's body. Throws Unavailable, or a fatal error (see `fail`).
   */
  async post(url: string, data: unknown, what: string): Promise<unknown> {
    if (this.signal?.aborted) throw this.aborted();
    this.counts.total++;
    try {
      const response = await this.octokit.request({
        method: "POST",
        url,
        data,
        request: { signal: this.signal },
      });
      this.budget.note(response.headers, url.endsWith("graphql") ? "graphql" : "core");
      return response.data;
    } catch (err) {
      this.noteFailed(err, url.endsWith("graphql") ? "graphql" : "core");
      throw this.fail(err, what);
    }
  }

  /** The installation's REST budget as GET /rate_limit tells it (a request GitHub does not count). */
  async readRateLimit(what: string): Promise<void> {
    try {
      const response = await this.octokit.request({
        method: "GET",
        url: "/rate_limit",
        request: { signal: this.signal },
      });
      const core = (response.data as { resources?: { core?: Record<string, unknown> } })?.resources?.core;
      if (core)
        this.budget.note(
          {
            "x-ratelimit-limit": core.limit,
            "x-ratelimit-remaining": core.remaining,
            "x-ratelimit-reset": core.reset,
          },
          "core",
        );
    } catch (err) {
      throw this.fail(err, what);
    }
  }

  private noteFailed(err: unknown, resource: "core" | "graphql"): void {
    const headers = (err as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers;
    if (headers) this.budget.note(headers, resource);
  }

  /**
   * GETs an absolute URL of GitHub's own web origin with the installation token (the client adds
   * it), redirects not followed: the caller follows them without the token. An answer of 400 or
   * more is returned as it is (its body discarded), except 5xx after retries: a fatal error.
   */
  async getWeb(
    url: string,
    what: string,
  ): Promise<{ status: number; headers: Record<string, unknown>; body?: WebReadableStream }> {
    if (this.signal?.aborted) throw this.aborted();
    this.counts.total++;
    try {
      const response = await this.octokit.request({
        method: "GET",
        url,
        headers: { accept: "*/*" },
        request: { signal: this.signal, redirect: "manual", parseSuccessResponseBody: false },
      });
      const body = response.data as WebReadableStream | undefined;
      return { status: response.status, headers: response.headers, ...(body ? { body } : {}) };
    } catch (err) {
      const status = httpStatusOf(err);
      if (status !== undefined && status >= 400 && status < 500 && status !== 429)
        return { status, headers: {} };
      throw this.fail(err, what);
    }
  }

  /** The API root ("https://api.github.com", "https://ghe.example.com/api/v3"). */
  get apiBase(): URL {
    return new URL(this.base.href);
  }

  /**
   * Whether every request answers 304 to its ETag. A 200 is kept for the read that follows; an
   * answer that is not about the data (Unavailable) counts as a change.
   */
  async unchanged(requests: readonly ConditionalRequest[], what: string): Promise<boolean> {
    for (const request of requests) {
      try {
        const answer = await this.get(request.path, { etag: request.etag, what });
        if (!answer) continue;
        this.seen.set(request.path, answer);
      } catch (err) {
        if (err instanceof Unavailable) return false;
        throw err;
      }
      return false;
    }
    return true;
  }

  /**
   * Opens a release asset's bytes as a stream. The API answers with a redirect to a signed URL on
   * the asset host, followed here by hand: without our Authorization header (the URL carries its
   * own grant), and never written anywhere. Undefined when the asset is gone (404).
   */
  async openAsset(path: string, what: string): Promise<Readable | undefined> {
    if (this.signal?.aborted) throw this.aborted();
    this.counts.total++;
    let response: Awaited<ReturnType<OctokitLike["request"]>>;
    try {
      response = await this.octokit.request({
        method: "GET",
        url: path,
        headers: { accept: "application/octet-stream" },
        request: { signal: this.signal, redirect: "manual", parseSuccessResponseBody: false },
      });
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw this.fail(err, what);
    }
    const location = header(response.headers, "location");
    if (response.status === 200 && response.data) return Readable.fromWeb(response.data as WebReadableStream);
    await (response.data as WebReadableStream | undefined)?.cancel().catch(() => undefined);
    if (!location || response.status < 300 || response.status >= 400)
      throw new SourceError(`${what}: GitHub answered HTTP ${response.status} without the asset`);
    return this.fetchAssetHost(location, what);
  }

  private async fetchAssetHost(location: string, what: string): Promise<Readable | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (this.signal?.aborted) throw this.aborted();
      let response: Response | undefined;
      try {
        response = await fetch(location, { signal: this.signal ?? null });
      } catch {
        if (this.signal?.aborted) throw this.aborted();
        // The URL is a bearer grant: neither it nor fetch's error (which may quote it) goes on.
        if (attempt >= 3) throw new SourceError(`${what}: the asset host could not be reached`);
      }
      if (response?.status === 200 && response.body)
        return Readable.fromWeb(response.body as WebReadableStream);
      await response?.body?.cancel().catch(() => undefined);
      if (response?.status === 404) return undefined;
      if (response && response.status < 500 && response.status !== 429)
        throw new SourceError(`${what}: the asset host answered HTTP ${response.status}`, {
          permanent: false,
        });
      if (attempt >= 3)
        throw new SourceError(
          `${what}: the asset host answered HTTP ${response?.status ?? "nothing"} ${attempt} times`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt * attempt));
    }
  }

  /** A Link header's next page as a path below the API root; a link elsewhere is refused. */
  private nextPath(link: string | undefined): string | undefined {
    const match = link && /<([^<>]+)>;\s*rel="next"/.exec(link);
    if (!match) return undefined;
    const next = new URL(match[1]!, this.base);
    // The token goes with every request: never follow a link off the API we were given.
    if (next.origin !== this.base.origin || !next.pathname.startsWith(this.base.pathname))
      throw new SourceError(`GitHub sent a next-page link outside its API for ${this.repo}`, {
        permanent: true,
      });
    return "/" + next.pathname.slice(this.base.pathname.length) + next.search;
  }

  /** Sorts a failed request: Unavailable for the answers that mean "not here", else a fatal error. */
  fail(err: unknown, what: string): Error {
    if (this.signal?.aborted) return this.aborted();
    const status = httpStatusOf(err);
    const headers = (err as { response?: { headers?: Record<string, unknown> } }).response?.headers ?? {};
    // The throttling plugin gives up on GraphQL's rate limit (an HTTP 200 whose errors say
    // RATE_LIMITED) with an error that has the answer but no status.
    const graphqlLimited = (err as { data?: { errors?: { type?: unknown }[] } } | null)?.data?.errors?.some(
      (e) => e?.type === "RATE_LIMITED",
    );
    if (status === undefined && !graphqlLimited)
      return new SourceError(`${what}: GitHub could not be reached`, { cause: err });
    if (status === 401)
      return new SourceError(`${what}: GitHub refused the app's credentials`, {
        cause: err,
        permanent: true,
      });
    if (graphqlLimited || status === 429 || (status === 403 && isRateLimit(err, headers))) {
      const reset = Number(header(headers, "x-ratelimit-reset"));
      const retryAfter = Number(header(headers, "retry-after"));
      const retryAt = reset
        ? new Date(reset * 1000).toISOString()
        : retryAfter
          ? new Date(Date.now() + retryAfter * 1000).toISOString()
          : undefined;
      return new RateLimitedError(
        `${what}: GitHub's rate limit is spent${retryAt ? ` until ${retryAt}` : ""}`,
        {
          cause: err,
          ...(retryAt ? { retryAt } : {}),
        },
      );
    }
    if (status === undefined) return new SourceError(`${what}: GitHub could not be reached`, { cause: err });
    const reason = REASONS[status];
    if (reason) return new Unavailable(status, reason);
    if (status >= 500)
      return new SourceError(`${what}: GitHub answered HTTP ${status}, retries exhausted`, { cause: err });
    return new SourceError(`${what}: GitHub answered HTTP ${status}`, { cause: err, permanent: true });
  }

  private aborted(): Error {
    const reason: unknown = this.signal?.reason;
    if (reason instanceof Error && reason.name !== "AbortError") return reason;
    return new DeadlineError(`collecting the metadata of ${this.repo} was stopped before it finished`);
  }
}

function isRateLimit(err: unknown, headers: Record<string, unknown>): boolean {
  const message = err instanceof Error ? err.message : "";
  return (
    header(headers, "x-ratelimit-remaining") === "0" ||
    header(headers, "retry-after") !== undefined ||
    /rate limit/i.test(message)
  );
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return value === undefined || value === null ? undefined : String(value);
}
