// The GitHub side of the GitHub benches: an App key pair, the stand-in (test/helpers/github-standin.ts)
// with the App installed on one org, and the App client built exactly as functions/wiring.ts builds
// it (@octokit/app with the retry and throttling plugins), so the benches drive the real clients.
import { generateKeyPairSync } from "node:crypto";
import { App } from "@octokit/app";
import { resilientOctokit } from "../functions/adapters/github/metadata-octokit.js";
import {
  startGitHubStandin,
  type GitHubStandin,
  type StandinRequest,
} from "../test/helpers/github-standin.js";

export const APP_ID = 4242;
export const ORG = "acme";

export interface BenchGitHub {
  standin: GitHubStandin;
  installationId: number;
  privateKey: string;
  /** The App as wiring.ts builds it, pointed at the stand-in. */
  app(): App;
}

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export async function startGitHub(options: { gitUrl?: string; gitRoot?: string } = {}): Promise<BenchGitHub> {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const standin = await startGitHubStandin({
    appId: APP_ID,
    publicKey,
    gitUrl: options.gitUrl ?? "http://127.0.0.1:9",
    gitRoot: options.gitRoot ?? "/nonexistent",
  });
  const installationId = standin.install(ORG);
  return {
    standin,
    installationId,
    privateKey,
    app: () =>
      new App({
        appId: APP_ID,
        privateKey,
        log: quiet,
        Octokit: resilientOctokit({ baseUrl: standin.url, log: quiet }),
      }),
  };
}

export interface RequestTally {
  /** Every request the stand-in answered. */
  total: number;
  /** Installation-token requests answered other than 304: what GitHub counts against the hourly budget. */
  rateLimited: number;
  /** Conditional requests answered 304 (free of rate limit). */
  notModified: number;
  /** App-JWT requests (installation lookup, token minting): the App's own budget, not the installation's. */
  app: number;
  /** Requests by route shape (numbers and names folded), for the curious. */
  byRoute: Record<string, number>;
}

/** Tallies the stand-in's requests from index `from` on. */
export function tally(requests: readonly StandinRequest[], from = 0): RequestTally {
  const t: RequestTally = { total: 0, rateLimited: 0, notModified: 0, app: 0, byRoute: {} };
  for (const r of requests.slice(from)) {
    t.total++;
    if (r.auth.toLowerCase() === "bearer") t.app++;
    else if (r.status === 304) t.notModified++;
    else t.rateLimited++;
    const route = `${r.method} ${r.url
      .replace(/\?.*$/, "")
      .replace(/^\/repos\/[^/]+\/[^/]+/, "/repos/{o}/{r}")
      .replace(/\/\d+(?=\/|$)/g, "/{n}")}`;
    t.byRoute[route] = (t.byRoute[route] ?? 0) + 1;
  }
  return t;
}
