// GitHubAppSource with the real @octokit/app against the GitHub stand-in, and git data read through
// the real git HTTP server with the installation token in a header: listing, tokens, refusals.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { App } from "@octokit/app";
import { Octokit } from "@octokit/core"; // what @octokit/app builds on; Octokit.defaults points it at the stand-in
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubAppSource, type GitHubAppSourceOptions } from "../../functions/adapters/github/app-source.js";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { ConflictError, SourceError } from "../../functions/core/errors.js";
import { git as gitCli } from "../../functions/core/git/exec.js";
import { readRefs } from "../../functions/core/git/local-repo.js";
import { fetchPack, lsRefs } from "../../functions/core/git/upload-pack.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { appKeys } from "../helpers/app-keys.js";
import { serveSettingsWrites } from "../helpers/github-standin-settings.js";

const APP_ID = 424242;
const keyPair = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" }, // the format GitHub hands out
  });
/** The key the stand-in knows (app-keys.ts); keyPair() makes keys it does not. */
const { privateKey } = appKeys();

let world: GitHubWorld;
let root: string;
let git: GitHttpServer;
let github: GitHubStandin;

function appWith(key = privateKey): App {
  // Silent log: a test asserting on secrets should not rely on what the SDK prints.
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  return new App({
    appId: APP_ID,
    privateKey: key,
    log,
    Octokit: Octokit.defaults({ baseUrl: github.url, log }),
  });
}

function source(options: Partial<GitHubAppSourceOptions> = {}): GitHubAppSource {
  return new GitHubAppSource({ app: appWith(), owners: ["acme"], ...options });
}

/** The installation token inside a remote's Basic header. */
function tokenOf(headers: Record<string, string> | undefined): string {
  const basic = Buffer.from((headers?.Authorization ?? "").replace(/^Basic /, ""), "base64").toString("utf8");
  expect(basic).toMatch(/^x-access-token:ghs_/);
  return basic.slice("x-access-token:".length);
}

/** The error `work` rejects with; fails the test if it resolves. */
async function rejection<E extends Error = Error>(work: Promise<unknown>): Promise<E> {
  return work.then(
    () => expect.unreachable("expected a rejection"),
    (err: unknown) => err as E,
  );
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-github-", ["acme", "other"]);
  ({ root, git, github } = world);
  for (let i = 0; i < 150; i++) github.addRepo(`acme/repo-${String(i).padStart(3, "0")}`);
  github.addRepo("acme/old-site", { archived: true });
  github.addRepo("acme/upstream-fork", { fork: true });
  github.addRepo("acme/app");
  github.addRepo("other/secret-plans");
  await createDemoRepo(join(root, "acme", "app.git"));
  await createDemoRepo(join(root, "other", "secret-plans.git"));
});

afterAll(async () => {
  await world?.close();
});

describe("GitHubAppSource", () => {
  it("lists every repository of the org across pages, archived and forks included, with no credential", async () => {
    const before = github.requests.length;
    const repos = await source().listRepos();
    expect(repos).toHaveLength(153);
    expect(repos.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        "acme/repo-000",
        "acme/repo-149",
        "acme/old-site",
        "acme/upstream-fork",
        "acme/app",
      ]),
    );
    expect(repos.some((r) => r.name.startsWith("other/"))).toBe(false);
    expect(repos.find((r) => r.name === "acme/app")!.url).toBe(git.remoteUrl("acme/app"));
    for (const repo of repos) expect(repo.url).not.toMatch(/@|token|ghs_/);
    const pages = github.requests.slice(before).filter((r) => r.url.startsWith("/installation/repositories"));
    expect(pages.map((r) => r.url)).toEqual([
      "/installation/repositories?per_page=100&page=1",
      "/installation/repositories?per_page=100&page=2",
    ]);
    expect(pages.every((r) => r.auth === "token")).toBe(true);
  });

  it("finds one repository with one API call once its installation is known, and nothing outside the owners or filters", async () => {
    const one = source();
    let before = github.requests.length;
    const app = await one.getRepo("acme/app");
    expect(app).toEqual({
      name: "acme/app",
      url: `${git.url}/acme/app.git`,
      sizeBytes: 0,
      hasMetadata: true,
      // An organization's repository: the org gets its own snapshot (a user account would not).
      ownerType: "Organization",
      // GitHub's id and the installation: the registry keys the repository's history by the id.
      id: github.repository("acme/app").id,
      installationId: github.installationOf("acme"),
      archived: false,
    });
    // The first lookup also finds the installation on acme (once per source).
    expect(github.requests.slice(before).filter((r) => r.url.startsWith("/repos/"))).toHaveLength(2);
    before = github.requests.length;
    await one.getRepo("acme/repo-001");
    expect(github.requests.slice(before).filter((r) => r.url.startsWith("/repos/"))).toHaveLength(1);
    expect(await source().getRepo("acme/nope")).toBeUndefined();
    expect(await source().getRepo("other/secret-plans")).toBeUndefined();
    expect(await source({ exclude: ["app"] }).getRepo("acme/app")).toBeUndefined();
    expect(await source({ excludeForks: true }).getRepo("acme/upstream-fork")).toBeUndefined();
  });

  it("finds an organization's own <org>/@org installation through the org, never as a repository", async () => {
    const before = github.requests.length;
    const api = await source().apiFor("acme/@org");
    expect((await api.request("GET /installation/repositories", { per_page: 1 })).status).toBe(200);
    const lookups = github.requests.slice(before).map((r) => r.url.split("?")[0]);
    expect(lookups).toContain("/orgs/acme/installation");
    expect(lookups.filter((url) => url!.startsWith("/repos/"))).toEqual([]);
    await expect(source().apiFor("initech/@org")).rejects.toThrow(/not installed on initech/);
  });

  it("filters by name globs, and drops forks only when told to", async () => {
    const names = async (options: Partial<GitHubAppSourceOptions>) =>
      (await source(options).listRepos()).map((r) => r.name);
    expect(await names({ include: ["repo-00?", "acme/app"] })).toEqual(
      [...Array(10)]
        .map((_, i) => `acme/repo-00${i}`)
        .concat("acme/app")
        .sort(),
    );
    expect(await names({ exclude: ["repo-*"] })).toEqual(["acme/app", "acme/old-site", "acme/upstream-fork"]);
    expect(await names({ exclude: ["REPO-*"], excludeForks: true })).toEqual(["acme/app", "acme/old-site"]);
  });

  it("builds remotes from gitBaseUrl when given, and from github.com for a bare name", async () => {
    const remote = await source({ gitBaseUrl: `${git.url}/` }).gitRemote({
      name: "acme/app",
      url: "https://github.com/acme/app.git",
    });
    expect(remote.url).toBe(git.remoteUrl("acme/app"));
    // A repo known only by name (a snapshot request carries no URL) is read from github.com.
    expect((await source().gitRemote({ name: "acme/app", url: "" })).url).toBe(
      "https://github.com/acme/app.git",
    );
  });

  it("reads a repository through git smart HTTP with the installation token in a header", async () => {
    const github_ = source();
    const repo = (await github_.listRepos()).find((r) => r.name === "acme/app")!;
    const remote = await github_.gitRemote(repo);
    expect(remote.url).toBe(repo.url);
    const token = tokenOf(remote.headers);
    const expected = await readRefs(join(root, "acme", "app.git"));
    expect((await lsRefs(remote)).refs).toEqual(expected);
    const fetched = await fetchPack(remote);
    const pack = Buffer.concat(await fetched.pack!.toArray());
    expect(pack.subarray(0, 4).toString("latin1")).toBe("PACK");
    expect(fetched.refs.refs).toEqual(expected);
    const used = git.requests.filter((r) => r.password === token);
    expect(used.length).toBeGreaterThanOrEqual(3); // advertisement, ls-refs, fetch
    for (const request of git.requests) expect(request.url).not.toContain(token);
  });

  it("reuses a token with time left, and fetches a new one when little is left", async () => {
    let skewMs = 0; // the source's clock runs ahead of the stand-in's by this much
    const github_ = source({ clock: { now: () => new Date(Date.now() + skewMs) } });
    const repo = { name: "acme/app", url: git.remoteUrl("acme/app") };
    const first = tokenOf((await github_.gitRemote(repo)).headers);
    const issued = github.tokensIssued;
    expect(tokenOf((await github_.gitRemote(repo)).headers)).toBe(first);
    expect(github.tokensIssued).toBe(issued);
    skewMs = 56 * 60_000; // the hour-long token now has 4 minutes left: inside the 5-minute margin
    const second = tokenOf((await github_.gitRemote(repo)).headers);
    expect(second).not.toBe(first);
    expect(github.tokensIssued).toBe(issued + 1);
    skewMs = 0;
    expect(tokenOf((await github_.gitRemote(repo)).headers)).toBe(second); // the new one is cached
    expect(github.tokensIssued).toBe(issued + 1);
  });

  it("refuses a wrong or revoked token with a SourceError that does not carry it", async () => {
    const wrong = `ghs_${randomBytes(18).toString("base64url")}`;
    const remote = {
      url: git.remoteUrl("acme/app"),
      headers: { Authorization: `Basic ${Buffer.from(`x-access-token:${wrong}`).toString("base64")}` },
    };
    const refused = await rejection(lsRefs(remote));
    expect(refused).toBeInstanceOf(SourceError);
    expect(refused.message).toMatch(/access refused/);
    expect(inspect(refused, { depth: 8 })).not.toContain(wrong);

    const github_ = source();
    const live = await github_.gitRemote({ name: "acme/app", url: git.remoteUrl("acme/app") });
    github.revokeTokens();
    const revoked = await rejection(lsRefs(live));
    expect(revoked).toBeInstanceOf(SourceError);
    expect(inspect(revoked, { depth: 8 })).not.toContain(tokenOf(live.headers));
  });

  it("keeps one org's token away from another org's repositories", async () => {
    const remote = await source().gitRemote({ name: "acme/app", url: git.remoteUrl("acme/app") });
    const err = await rejection(lsRefs({ ...remote, url: git.remoteUrl("other/secret-plans") }));
    expect(err).toBeInstanceOf(SourceError);
    await expect(
      source().gitRemote({ name: "other/secret-plans", url: git.remoteUrl("other/secret-plans") }),
    ).rejects.toThrow(/not in acme/);
  });

  it("names the org when the app is not installed there, or its key is wrong, and leaks no secret", async () => {
    const missing = await rejection<SourceError>(
      new GitHubAppSource({ app: appWith(), owners: ["nobody"] }).listRepos(),
    );
    expect(missing).toBeInstanceOf(SourceError);
    expect(missing.message).toMatch(/not installed on nobody/);
    expect(missing.permanent).toBe(true);

    const otherKey = keyPair().privateKey;
    const badKey = await rejection<SourceError>(
      new GitHubAppSource({ app: appWith(otherKey), owners: ["acme"] }).listRepos(),
    );
    expect(badKey).toBeInstanceOf(SourceError);
    expect(badKey.message).toMatch(/installations.*refused the app's credentials/);
    const printed = inspect(badKey, { depth: 8 });
    expect(printed).not.toContain("PRIVATE KEY");
    expect(printed).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT
  });

  it("rateLimit: the REST budget left, read with the installation token; a wrong key is a SourceError", async () => {
    const resetAt = Math.ceil(Date.now() / 1000) + 1800;
    github.restBudget = { limit: 5000, remaining: 321, resetAt };
    try {
      expect(await source().rateLimit()).toEqual({
        limit: 5000,
        remaining: 321,
        resetAt: new Date(resetAt * 1000).toISOString(),
      });
    } finally {
      delete github.restBudget;
    }
    const badKey = await rejection<SourceError>(
      new GitHubAppSource({ app: appWith(keyPair().privateKey), owners: ["acme"] }).rateLimit(),
    );
    expect(badKey).toBeInstanceOf(SourceError);
    expect(inspect(badKey, { depth: 8 })).not.toContain("PRIVATE KEY");
  });

  it("backs up every installation of the App when no owners are named, each with its own token", async () => {
    const all = new GitHubAppSource({ app: appWith() });
    const names = (await all.listRepos()).map((r) => r.name);
    expect(names.some((n) => n.startsWith("acme/"))).toBe(true);
    expect(names).toContain("other/secret-plans");
    const other = await all.getRepo("other/secret-plans");
    expect(other?.name).toBe("other/secret-plans");
    const remote = await all.gitRemote(other!);
    expect(
      Object.keys((await lsRefs({ ...remote, url: git.remoteUrl("other/secret-plans") })).refs).length,
    ).toBeGreaterThan(0);
    expect(await all.getRepo("nobody/nothing")).toBeUndefined();
  });

  it("creates an empty repository for a restore, and never one that exists", async () => {
    const github_ = source();
    const created = await github_.createRepo("acme/restored", { private: true });
    expect(created).toEqual({ name: "acme/restored", url: git.remoteUrl("acme/restored") });
    expect((await stat(join(root, "acme", "restored.git"))).isDirectory()).toBe(true);
    expect((await lsRefs(await github_.gitRemote(created))).refs).toEqual({});
    await expect(github_.createRepo("acme/restored", { private: true })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(github_.createRepo("acme/app", { private: true })).rejects.toBeInstanceOf(ConflictError);
  });

  it("makes a restored repository's HEAD its default branch, and names a branch it does not have", async () => {
    serveSettingsWrites(github);
    const github_ = source();
    const created = await github_.createRepo("acme/restored-head", { private: true });
    const remote = await github_.gitRemote(created);
    // What a restore's push leaves there: the demo repository's branches.
    await gitCli(["push", "--quiet", join(root, "acme", "restored-head.git"), "refs/heads/*:refs/heads/*"], {
      env: { GIT_DIR: join(root, "acme", "app.git") },
    });
    expect(github.repository("acme/restored-head").default_branch).toBe("main");
    await remote.setDefaultBranch!("feature/search");
    const api = await github_.apiFor("acme/restored-head");
    const { data } = await api.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "restored-head" });
    expect(data.default_branch).toBe("feature/search");
    const refused = await rejection(remote.setDefaultBranch!("no-such-branch"));
    expect(refused).toBeInstanceOf(SourceError);
    expect(refused.message).toContain("setting the default branch of acme/restored-head");
  });
});
