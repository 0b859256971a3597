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
   * Milliseconds per second of `retry-after`, of backoff, and of the second the throttling plugin
   * leaves between two GraphQL queries (or other POSTs): 1000, shrunk by tests.
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
  return Octokit.plugin(retry, throttling).defaults({
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
    retry: { retries, retryAfterBaseValue: scale },
    throttle: {
      retryAfterBaseValue: scale,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: wait,
      onSecondaryRateLimit: wait,
      ...(scale !== 1000 ? { write: spacedQueue(scale) } : {}),
    },
  });
}

/**
 * A stand-in for the plugin's own "write" limiter (one job at a time, a second apart), with the
 * second shrunk. The plugin reads `throttle.write` as a Bottleneck group and uses only
 * `key(id).schedule(options, job)`; only tests pass it, so a plugin that changed this would fail
 * them, not production.
 */
function spacedQueue(minTimeMs: number): ThrottlingOptions["write"] {
  let queue: Promise<unknown> = Promise.resolve();
  let lastStart = 0;
  const limiter = {
    schedule<T>(_options: unknown, job: () => Promise<T>): Promise<T> {
      const turn = queue.then(async () => {
        const wait = lastStart + minTimeMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        lastStart = Date.now();
      });
      queue = turn;
      return turn.then(job);
    },
  };
  // The cast: a Bottleneck group has many more members; the plugin calls only these two.
  return { key: () => limiter } as unknown as ThrottlingOptions["write"];
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
