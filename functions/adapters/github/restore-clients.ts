// The GitHub writers of a restore to GitHub, built from the App's credentials: the settings writer
// on the resilient client (its writes are idempotent PUTs and PATCHes: retrying them is safe), and
// the items writer on a plain one (creates must not be retried blindly; see restore-items-writer.ts).
import { App } from "@octokit/app";
import { Octokit } from "@octokit/core";
import type { GitHubItemWriter, GitHubWriter } from "../../core/ports.js";
import { resilientOctokit } from "./metadata-octokit.js";
import { GitHubItemsWriter } from "./restore-items-writer.js";
import { GitHubRestoreWriter } from "./restore-writer.js";

export interface RestoreClientOptions {
  appId: string;
  privateKey: string;
  /** The API root (GitHub Enterprise Server); default api.github.com. */
  apiUrl?: string;
  /** The config's github.owners: the only accounts a restore may write into. */
  owners?: readonly string[];
}

export function gitHubRestoreWriters(options: RestoreClientOptions): {
  items: GitHubItemWriter;
  settings: GitHubWriter;
} {
  const base = options.apiUrl ? { baseUrl: options.apiUrl } : {};
  const credentials = { appId: options.appId, privateKey: options.privateKey };
  const owners = options.owners?.length ? { owners: options.owners } : {};
  return {
    settings: new GitHubRestoreWriter({
      app: new App({ ...credentials, Octokit: resilientOctokit(base) }),
      ...owners,
    }),
    items: new GitHubItemsWriter({ app: new App({ ...credentials, Octokit: Octokit.defaults(base) }) }),
  };
}
