// SourceHost over a GitHub App's installations: repositories listed through the REST API,
// installation tokens for git smart HTTP (in a header, never in a URL).
import type { App } from "@octokit/app";
import { z } from "zod";
import { ConflictError, SourceError, UserInputError } from "../../core/errors.js";
import { ORG_PSEUDO_REPO } from "../../core/ids.js";
import type { SourceRepo } from "../../core/model.js";
import { wikiLocation } from "../../core/unpack.js";
import {
  systemClock,
  type Clock,
  type GitRemote,
  type RateLimit,
  type SourceHost,
} from "../../core/ports.js";
import { httpStatusOf, sourceErrorFrom } from "./errors.js";

export interface GitHubAppSourceOptions {
  /** Constructed by the caller (appId, privateKey, and an Octokit with the API's baseUrl). */
  app: App;
  /** Only these accounts (orgs or users) of the App's installations; absent: every installation. */
  owners?: string[];
  /** Git host root ("https://github.com"); when set, remotes are built from it, not from clone_url. */
  gitBaseUrl?: string;
  /** Name globs (`*`, `?`); a glob with "/" matches "owner/name", one without matches the name. */
  include?: string[];
  exclude?: string[];
  /** Forks are backed up unless this says otherwise. Archived repositories are always backed up. */
  excludeForks?: boolean;
  /** A cached token with less than this left is replaced: a fetch started with it must finish. */
  tokenMarginMs?: number;
  clock?: Clock;
}

type InstallationOctokit = Awaited<ReturnType<App["getInstallationOctokit"]>>;

// The fields of app.octokit.auth({ type: "installation" }) we use; the SDK types it as unknown.
const rateLimitSchema = z.object({
  resources: z.object({
    core: z.object({ limit: z.number().positive(), remaining: z.number().min(0), reset: z.number() }),
  }),
});
const installationAuthSchema = z.object({ token: z.string().min(1), expiresAt: z.string() });
const installationSchema = z.object({
  id: z.number().int(),
  account: z.object({ login: z.string() }).nullable(),
});

const PER_PAGE = 100; // the API's maximum: fewest requests against the rate limit

/**
 * SourceHost over every installation of a GitHub App (an App can be installed on several orgs and
 * users): lists their repositories through the REST API and hands out installation-token
 * credentials for git smart HTTP, in a header and never in a URL.
 */
export class GitHubAppSource implements SourceHost {
  private readonly app: App;
  private readonly clock: Clock;
  private readonly marginMs: number;
  /** Account login (lowercase) -> its installation id, as found; a failed lookup is not kept. */
  private readonly installations = new Map<string, Promise<number>>();

  constructor(private readonly options: GitHubAppSourceOptions) {
    this.app = options.app;
    this.clock = options.clock ?? systemClock;
    this.marginMs = options.tokenMarginMs ?? 5 * 60_000;
  }

  /** Every repository the installations can see, filtered by owners, globs and the fork rule. */
  async listRepos(): Promise<SourceRepo[]> {
    const repos: SourceRepo[] = [];
    for (const installation of await this.listInstallations()) {
      const octokit = await this.app.getInstallationOctokit(installation.id);
      try {
        for (let page = 1; ; page++) {
          const response = await octokit.request("GET /installation/repositories", {
            per_page: PER_PAGE,
            page,
          });
          for (const repo of response.data.repositories) {
            if (!this.ownerWanted(repo.owner.login)) continue;
            if (this.options.excludeForks && repo.fork) continue;
            if (!this.wanted(repo.full_name)) continue;
            repos.push(this.toSourceRepo(repo, installation.id));
          }
          // Stop when the Link header offers no next page, not by total_count: the list may change while paging.
          if (!/rel="next"/.test(response.headers.link ?? "") || response.data.repositories.length === 0)
            break;
        }
      } catch (err) {
        throw sourceErrorFrom(err, `listing repositories of ${installation.login}`);
      }
    }
    return repos.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The App's installations (paged), those of the configured owners only. */
  private async listInstallations(): Promise<{ id: number; login: string }[]> {
    const found: { id: number; login: string }[] = [];
    try {
      for (let page = 1; ; page++) {
        const response = await this.app.octokit.request("GET /app/installations", {
          per_page: PER_PAGE,
          page,
        });
        for (const raw of response.data) {
          const installation = installationSchema.parse(raw);
          const login = installation.account?.login ?? "";
          if (!login || !this.ownerWanted(login)) continue;
          found.push({ id: installation.id, login });
          this.installations.set(login.toLowerCase(), Promise.resolve(installation.id));
        }
        if (!/rel="next"/.test(response.headers.link ?? "") || response.data.length === 0) break;
      }
    } catch (err) {
      if (err instanceof z.ZodError)
        throw new SourceError("GitHub listed an installation in an unexpected shape");
      throw sourceErrorFrom(err, "listing the GitHub App's installations");
    }
    const missing = (this.options.owners ?? []).filter(
      (owner) => !found.some((i) => i.login.toLowerCase() === owner.toLowerCase()),
    );
    if (missing.length) {
      throw new SourceError(
        `the GitHub App is not installed on ${missing.join(", ")} (install it, then retry)`,
        {
          permanent: true,
        },
      );
    }
    return found;
  }

  /** A repository as the REST API describes it, as we back it up (no credentials in it). */
  private toSourceRepo(
    repo: {
      id: number | bigint;
      full_name: string;
      clone_url: string;
      has_wiki?: boolean;
      size?: number;
      archived?: boolean;
      owner?: { type?: string } | null;
    },
    installationId: number,
  ): SourceRepo {
    const url = this.cloneUrl(repo.full_name, repo.clone_url);
    return {
      name: repo.full_name,
      url,
      // GitHub's id survives renames and transfers: the registry keys a repository's history by it.
      // (Octokit types it number | bigint; JSON gives a number, exact up to 2^53.)
      id: Number(repo.id),
      installationId,
      archived: repo.archived === true,
      // GitHub keeps a wiki beside its repository ("<repo>.wiki.git").
      ...(repo.has_wiki ? { wikiUrl: wikiLocation(url) } : {}),
      // GitHub reports size in KiB; it routes big repositories to the snapshot job.
      ...(typeof repo.size === "number" ? { sizeBytes: repo.size * 1024 } : {}),
      hasMetadata: true,
      ...(repo.owner?.type ? { ownerType: repo.owner.type } : {}),
    };
  }

  /** One repository (two API calls at most), or undefined if no installation has it or the filters skip it. */
  async getRepo(fullName: string): Promise<SourceRepo | undefined> {
    const [owner, name] = splitName(fullName);
    if (!this.ownerWanted(owner)) return undefined;
    let octokit: InstallationOctokit;
    let installationId: number;
    try {
      installationId = await this.findInstallation(owner, name);
      octokit = await this.app.getInstallationOctokit(installationId);
    } catch (err) {
      if (err instanceof SourceError && err.permanent) return undefined; // not installed there
      throw err;
    }
    try {
      const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo: name });
      if ((this.options.excludeForks && data.fork) || !this.wanted(data.full_name)) return undefined;
      return this.toSourceRepo(data, installationId);
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw sourceErrorFrom(err, `reading ${fullName}`);
    }
  }

  /**
   * The REST budget of the installation with the least left, read with each installation's token
   * (GET /rate_limit, which GitHub does not count): the health check's proof that the tokens work.
   */
  async rateLimit(): Promise<RateLimit> {
    const installations = await this.listInstallations();
    if (!installations.length)
      throw new SourceError("the GitHub App has no installation to back up", { permanent: true });
    let least: RateLimit | undefined;
    for (const installation of installations) {
      try {
        const octokit = await this.app.getInstallationOctokit(installation.id);
        const { data } = await octokit.request("GET /rate_limit");
        const core = rateLimitSchema.parse(data).resources.core;
        const rate: RateLimit = {
          limit: core.limit,
          remaining: core.remaining,
          resetAt: new Date(core.reset * 1000).toISOString(),
        };
        if (!least || rate.remaining / rate.limit < least.remaining / least.limit) least = rate;
      } catch (err) {
        if (err instanceof z.ZodError)
          throw new SourceError(`GitHub gave an unexpected rate limit for ${installation.login}`);
        throw sourceErrorFrom(err, `reading the rate limit of ${installation.login}`);
      }
    }
    return least!;
  }

  /** The repo's smart-HTTP URL with a fresh-enough installation token as Basic auth; `repo.url` may be "". */
  async gitRemote(repo: SourceRepo): Promise<GitRemote> {
    const [owner, name] = splitName(repo.name);
    if (!this.ownerWanted(owner))
      throw new SourceError(
        `${repo.name} is not in ${this.options.owners!.join(", ")}, the accounts this source serves`,
        {
          permanent: true,
        },
      );
    const installation = await this.findInstallation(owner, name);
    const token = await this.installationToken(repo.name, installation);
    // GitHub's documented form for installation tokens over HTTPS: user "x-access-token".
    const basic = Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
    return {
      url: this.cloneUrl(repo.name, repo.url),
      headers: { Authorization: `Basic ${basic}` },
      usesLfs: () => this.usesLfs(installation, owner, name),
      setDefaultBranch: (branch) => this.setDefaultBranch(installation, owner, name, branch),
    };
  }

  /** PATCH /repos/{owner}/{repo} default_branch: a restored repository's HEAD (needs Administration: write). */
  private async setDefaultBranch(installation: number, owner: string, repo: string, branch: string) {
    try {
      const octokit = await this.app.getInstallationOctokit(installation);
      await octokit.request("PATCH /repos/{owner}/{repo}", { owner, repo, default_branch: branch });
    } catch (err) {
      throw sourceErrorFrom(err, `setting the default branch of ${owner}/${repo}`);
    }
  }

  /** The default branch's .gitattributes names the LFS filter; undefined when GitHub cannot say. */
  private async usesLfs(installation: number, owner: string, repo: string): Promise<boolean | undefined> {
    try {
      const octokit = await this.app.getInstallationOctokit(installation);
      const { data } = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner,
        repo,
        path: ".gitattributes",
      });
      const content = (data as { content?: unknown }).content;
      if (typeof content !== "string") return undefined;
      return /filter\s*=\s*lfs/.test(Buffer.from(content, "base64").toString("utf8"));
    } catch (err) {
      return (err as { status?: number }).status === 404 ? false : undefined;
    }
  }

  /**
   * Creates an empty repository in an org the App is installed on, for a restore to push into.
   * Restore never overwrites: an existing name is a ConflictError. The App needs the
   * Administration: write permission on that org.
   */
  async createRepo(fullName: string, options: { private: boolean }): Promise<SourceRepo> {
    const [org, name] = splitName(fullName);
    const octokit = await this.app.getInstallationOctokit(await this.findInstallation(org));
    try {
      const { data } = await octokit.request("POST /orgs/{org}/repos", {
        org,
        name,
        private: options.private,
      });
      return { name: data.full_name, url: this.cloneUrl(data.full_name, data.clone_url) };
    } catch (err) {
      if (httpStatusOf(err) === 422) {
        throw new ConflictError(
          `cannot create ${fullName}: a repository of that name exists (restore never overwrites)`,
          { cause: err },
        );
      }
      throw sourceErrorFrom(err, `creating ${fullName}`);
    }
  }

  /**
   * The installation's API client for `fullName` (the metadata reads use it). An organization's
   * own "<org>/@org" is no repository to look the installation up through: the org's is used.
   */
  async apiFor(fullName: string): Promise<InstallationOctokit> {
    const [owner, name] = splitName(fullName);
    return this.installationOctokit(owner, name === ORG_PSEUDO_REPO ? undefined : name);
  }

  private async installationOctokit(owner: string, repo?: string): Promise<InstallationOctokit> {
    return this.app.getInstallationOctokit(await this.findInstallation(owner, repo));
  }

  /**
   * The installation on `owner`, looked up once (through one of its repositories when named, which
   * works for orgs and users alike); a failed lookup is retried on the next call.
   */
  private findInstallation(owner: string, repo?: string): Promise<number> {
    const key = owner.toLowerCase();
    let found = this.installations.get(key);
    if (!found) {
      const lookup = repo
        ? this.app.octokit.request("GET /repos/{owner}/{repo}/installation", { owner, repo })
        : this.app.octokit.request("GET /orgs/{org}/installation", { org: owner });
      found = lookup.then(
        ({ data }) => data.id,
        (err: unknown) => {
          this.installations.delete(key);
          if (httpStatusOf(err) === 404) {
            throw new SourceError(
              `the GitHub App is not installed on ${owner} (install it there, then retry)`,
              {
                cause: err,
                permanent: true,
              },
            );
          }
          throw sourceErrorFrom(err, `finding the GitHub App installation on ${owner}`);
        },
      );
      this.installations.set(key, found);
    }
    return found;
  }

  /**
   * The installation token. Octokit's auth caches it for 59 minutes whatever its expiry says; we
   * ask for a new one when less than the margin is left, so a long fetch never starts near expiry.
   */
  private async installationToken(repo: string, installationId: number): Promise<string> {
    try {
      let auth = installationAuthSchema.parse(
        await this.app.octokit.auth({ type: "installation", installationId }),
      );
      if (Date.parse(auth.expiresAt) - this.clock.now().getTime() < this.marginMs) {
        auth = installationAuthSchema.parse(
          await this.app.octokit.auth({ type: "installation", installationId, refresh: true }),
        );
      }
      return auth.token;
    } catch (err) {
      // A zod failure here would quote the SDK's object, token included: never pass it on as is.
      if (err instanceof z.ZodError)
        throw new SourceError(`GitHub gave an unexpected installation token for ${repo}`);
      throw sourceErrorFrom(err, `getting an installation token for ${repo}`);
    }
  }

  /** gitBaseUrl wins; then the API's clone_url; a repo known only by name (from a message) gets github.com's. */
  private cloneUrl(fullName: string, cloneUrl: string): string {
    const base = this.options.gitBaseUrl?.replace(/\/+$/, "");
    if (base) return `${base}/${fullName}.git`;
    return cloneUrl || `https://github.com/${fullName}.git`;
  }

  private ownerWanted(login: string): boolean {
    const owners = this.options.owners;
    return !owners?.length || owners.some((o) => o.toLowerCase() === login.toLowerCase());
  }

  private wanted(fullName: string): boolean {
    const name = fullName.slice(fullName.indexOf("/") + 1);
    const matches = (glob: string) => globPattern(glob).test(glob.includes("/") ? fullName : name);
    const { include = [], exclude = [] } = this.options;
    return (include.length === 0 || include.some(matches)) && !exclude.some(matches);
  }
}

/** "owner/name" split in two; anything else is a UserInputError. */
function splitName(fullName: string): [string, string] {
  const [owner, name, ...rest] = fullName.split("/");
  if (!owner || !name || rest.length > 0)
    throw new UserInputError(`expected "owner/name", got ${JSON.stringify(fullName)}`);
  return [owner, name];
}

/** A glob as a case-insensitive RegExp (GitHub names are case-insensitive): `*` and `?` stop at "/". */
export function globPattern(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "i");
}
