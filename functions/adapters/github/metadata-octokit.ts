// The Octokit the metadata collection reads with: GitHub's own retry and throttling plugins, so
// primary and secondary rate limits wait for `retry-after` or the reset, and 5xx answers are retried
// with backoff. Pass the class to @octokit/app (`new App({ Octokit: resilientOctokit(...) })`): its
// installation clients are built from it and inherit both plugins.
import type { App } from "@octokit/app";
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
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
  /** Milliseconds per second of `retry-after` and of backoff: 1000, shrunk by tests. */
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
    },
  });
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
