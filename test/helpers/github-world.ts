// The GitHub stand-in worlds tests share, each with the App installed on the owners named:
// - startGitHubWorld: the stand-in with a git smart-HTTP server behind it, in a temp folder;
// - startMetadataStandin: no git server (metadata only), and the real @octokit clients signing in
//   with the tests' App key; retry-after, backoff and GraphQL spacing seconds become 5 ms (the
//   waits are real, only shorter).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "@octokit/app";
import { installationClients, resilientOctokit } from "../../functions/adapters/github/metadata-octokit.js";
import {
  GitHubMetadataSource,
  type GitHubMetadataSourceOptions,
} from "../../functions/adapters/github/metadata-source.js";
import type { MetadataCollection, MetadataSummary } from "../../functions/core/metadata/source.js";
import { appKeys } from "./app-keys.js";
import { startGitHttpServer, type GitHttpServer } from "./git-http-server.js";
import { startGitHubStandin, type GitHubStandin } from "./github-standin.js";

export interface GitHubWorld {
  /** The git server's folder: each repository is "<root>/<owner>/<name>.git". */
  root: string;
  git: GitHttpServer;
  github: GitHubStandin;
  /** Stops the stand-in and the git server, and removes the folder. */
  close(): Promise<void>;
}

/**
 * The stand-in and a git server in a new temp folder named from `prefix`: clone URLs point at the
 * server, which lets in a token the stand-in issued for that repository, as GitHub's does.
 */
export async function startGitHubWorld(
  appId: number,
  prefix: string,
  owners: string[],
): Promise<GitHubWorld> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  // The git server asks the stand-in, which needs the server's URL: the one started first looks the other up late.
  const world = { root } as GitHubWorld;
  world.git = await startGitHttpServer({
    root,
    checkPassword: (password, repo) => world.github.canRead(password, repo),
  });
  world.github = await startGitHubStandin({
    appId,
    publicKey: appKeys().publicKey,
    gitUrl: world.git.url,
    gitRoot: root,
  });
  for (const owner of owners) world.github.install(owner);
  world.close = async () => {
    await world.github.close();
    await world.git.close();
    await rm(root, { recursive: true, force: true });
  };
  return world;
}

/** A logger that says nothing: the clients' retries are expected here. */
export const quietLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** How the clients wait: `maxWaitSeconds` caps a retry-after they honour (resilientOctokit). */
export interface ClientOptions {
  maxWaitSeconds?: number;
}

export type SourceOptions = ClientOptions & Omit<GitHubMetadataSourceOptions, "octokitFor">;

export interface MetadataStandin {
  github: GitHubStandin;
  /** The Octokit class the App's installation clients are made of. */
  octokitClass(options?: ClientOptions): ReturnType<typeof resilientOctokit>;
  /** The App, signed in to the stand-in with the tests' key. */
  app(options?: ClientOptions): App;
  /** A metadata source reading through the App's installation clients. */
  source(options?: SourceOptions): GitHubMetadataSource;
}

/** Starts a stand-in that knows the App `appId`, installed on each of `owners`. */
export async function startMetadataStandin(appId: number, owners = ["acme"]): Promise<MetadataStandin> {
  const { publicKey, privateKey } = appKeys();
  // Port 9 (discard) and no folder: a test that reaches for git here is told so at once.
  const github = await startGitHubStandin({
    appId,
    publicKey,
    gitUrl: "http://127.0.0.1:9",
    gitRoot: "/nonexistent",
  });
  for (const owner of owners) github.install(owner);
  const octokitClass = (options: ClientOptions = {}) =>
    resilientOctokit({ baseUrl: github.url, log: quietLog, msPerSecond: 5, ...options });
  const app = (options: ClientOptions = {}) =>
    new App({ appId, privateKey, log: quietLog, Octokit: octokitClass(options) });
  const source = ({ maxWaitSeconds, ...rest }: SourceOptions = {}) =>
    new GitHubMetadataSource({
      octokitFor: installationClients(app(maxWaitSeconds === undefined ? {} : { maxWaitSeconds })),
      ...rest,
    });
  return { github, octokitClass, app, source };
}

export interface Drained {
  files: Map<string, Buffer>;
  summary: MetadataSummary;
}

/**
 * Reads a collection as the archive writer does: each file to its end, in order. `after` runs once
 * a file was read (to change GitHub meanwhile).
 */
export async function drain(
  collection: MetadataCollection,
  after: (path: string) => void = () => undefined,
): Promise<Drained> {
  const files = new Map<string, Buffer>();
  for await (const file of collection.files) {
    if (files.has(file.path)) throw new Error(`the collection wrote ${file.path} twice`);
    files.set(file.path, Buffer.concat(await (await file.open()).toArray()));
    after(file.path);
  }
  return { files, summary: await collection.summary };
}
