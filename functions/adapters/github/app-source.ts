// SourceHost over a GitHub App installation on one org: lists its repositories through the REST API
// and hands out installation-token credentials for git smart HTTP, in a header and never in a URL.
import type { App } from "@octokit/app";
import { z } from "zod";
import { ConflictError, SourceError, UserInputError } from "../../core/errors.js";
import type { SourceRepo } from "../../core/model.js";
import { wikiLocation } from "../../core/unpack.js";
import { systemClock, type Clock, type GitRemote, type SourceHost } from "../../core/ports.js";
import { httpStatusOf, sourceErrorFrom } from "./errors.js";

export interface GitHubAppSourceOptions {
  /** Constructed by the caller (appId, privateKey, and an Octokit with the API's baseUrl). */
  app: App;
  /** The organization whose repositories are backed up. */
  org: string;
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
const installationAuthSchema = z.object({ token: z.string().min(1), expiresAt: z.string() });

const PER_PAGE = 100; // the API's maximum: fewest requests against the rate limit

export class GitHubAppSource implements SourceHost {
  private readonly app: App;
  private readonly org: string;
  private readonly clock: Clock;
  private readonly marginMs: number;
  private installationId?: Promise<number>;

  constructor(private readonly options: GitHubAppSourceOptions) {
    this.app = options.app;
    this.org = options.org;
    this.clock = options.clock ?? systemClock;
    this.marginMs = options.tokenMarginMs ?? 5 * 60_000;
  }

  /** Every repository the installation can see, filtered by the configured globs and fork rule. */
  async listRepos(): Promise<SourceRepo[]> {
    const octokit = await this.installationOctokit();
    const repos: SourceRepo[] = [];
    try {
      for (let page = 1; ; page++) {
        const response = await octokit.request("GET /installation/repositories", {
          per_page: PER_PAGE,
          page,
        });
        for (const repo of response.data.repositories) {
          if (repo.owner.login.toLowerCase() !== this.org.toLowerCase()) continue; // an installation is per org; be sure
          if (this.options.excludeForks && repo.fork) continue;
          if (!this.wanted(repo.full_name)) continue;
          repos.push(this.toSourceRepo(repo));
        }
        // Stop when the Link header offers no next page, not by total_count: the list may change while paging.
        if (!/rel="next"/.test(response.headers.link ?? "") || response.data.repositories.length === 0) break;
      }
    } catch (err) {
      throw sourceErrorFrom(err, `listing repositories of ${this.org}`);
    }
    return repos.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A repository as the REST API describes it, as we back it up (no credentials in it). */
  private toSourceRepo(repo: {
    full_name: string;
    clone_url: string;
    has_wiki?: boolean;
    size?: number;
  }): SourceRepo {
    const url = this.cloneUrl(repo.full_name, repo.clone_url);
    return {
      name: repo.full_name,
      url,
      // GitHub keeps a wiki beside its repository ("<repo>.wiki.git").
      ...(repo.has_wiki ? { wikiUrl: wikiLocation(url) } : {}),
      // GitHub reports size in KiB; it routes big repositories to the snapshot job.
      ...(typeof repo.size === "number" ? { sizeBytes: repo.size * 1024 } : {}),
    };
  }

  /** One repository (one API call), or undefined if it is not in the org or the filters skip it. */
  async getRepo(fullName: string): Promise<SourceRepo | undefined> {
    const [owner, name] = fullName.split("/");
    if (!owner || !name || owner.toLowerCase() !== this.org.toLowerCase()) return undefined;
    const octokit = await this.installationOctokit();
    try {
      const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo: name });
      if ((this.options.excludeForks && data.fork) || !this.wanted(data.full_name)) return undefined;
      return this.toSourceRepo(data);
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw sourceErrorFrom(err, `reading ${fullName}`);
    }
  }

  /** The repo's smart-HTTP URL with a fresh-enough installation token as Basic auth; `repo.url` may be "". */
  async gitRemote(repo: SourceRepo): Promise<GitRemote> {
    this.assertInOrg(repo.name);
    const token = await this.installationToken(repo.name);
    // GitHub's documented form for installation tokens over HTTPS: user "x-access-token".
    const basic = Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
    return { url: this.cloneUrl(repo.name, repo.url), headers: { Authorization: `Basic ${basic}` } };
  }

  /**
   * Creates an empty repository in the org for a restore to push into. Restore never overwrites:
   * an existing name is a ConflictError. The app needs the Administration: write permission.
   */
  async createRepo(fullName: string, options: { private: boolean }): Promise<SourceRepo> {
    const name = this.assertInOrg(fullName);
    const octokit = await this.installationOctokit();
    try {
      const { data } = await octokit.request("POST /orgs/{org}/repos", {
        org: this.org,
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

  private installationOctokit(): Promise<InstallationOctokit> {
    return this.findInstallation().then((id) => this.app.getInstallationOctokit(id));
  }

  /** The org's installation id, looked up once; a failed lookup is retried on the next call. */
  private findInstallation(): Promise<number> {
    this.installationId ??= this.app.octokit.request("GET /orgs/{org}/installation", { org: this.org }).then(
      ({ data }) => data.id,
      (err: unknown) => {
        this.installationId = undefined;
        if (httpStatusOf(err) === 404) {
          throw new SourceError(
            `the GitHub App is not installed on ${this.org} (install it on the org, then retry)`,
            {
              cause: err,
              permanent: true,
            },
          );
        }
        throw sourceErrorFrom(err, `finding the GitHub App installation on ${this.org}`);
      },
    );
    return this.installationId;
  }

  /**
   * The installation token. Octokit's auth caches it for 59 minutes whatever its expiry says; we
   * ask for a new one when less than the margin is left, so a long fetch never starts near expiry.
   */
  private async installationToken(repo: string): Promise<string> {
    const installationId = await this.findInstallation();
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

  /** Checks "org/name" names a repo of this org and returns the name part. */
  private assertInOrg(fullName: string): string {
    const [owner, name, ...rest] = fullName.split("/");
    if (!owner || !name || rest.length > 0)
      throw new UserInputError(`expected "owner/name", got ${JSON.stringify(fullName)}`);
    if (owner.toLowerCase() !== this.org.toLowerCase()) {
      throw new SourceError(`${fullName} is not in ${this.org}, the org this GitHub App source serves`, {
        permanent: true,
      });
    }
    return name;
  }

  private wanted(fullName: string): boolean {
    const name = fullName.slice(fullName.indexOf("/") + 1);
    const matches = (glob: string) => globPattern(glob).test(glob.includes("/") ? fullName : name);
    const { include = [], exclude = [] } = this.options;
    return (include.length === 0 || include.some(matches)) && !exclude.some(matches);
  }
}

/** A glob as a case-insensitive RegExp (GitHub names are case-insensitive): `*` and `?` stop at "/". */
export function globPattern(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "i");
}
