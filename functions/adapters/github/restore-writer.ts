// GitHubWriter over a GitHub App: the installation on the target's owner (looked up once, with the
// permissions GitHub lists on it), the repository's state before a restore, and the settings writes,
// each request named in its error with GitHub's own reason for a refusal (never a token).
import type { App } from "@octokit/app";
import { SourceError } from "../../core/errors.js";
import type { GitHubWriter, TargetRepository } from "../../core/ports.js";
import { httpStatusOf, sourceErrorFrom } from "./errors.js";

type InstallationOctokit = Awaited<ReturnType<App["getInstallationOctokit"]>>;
type Installation = { id: number; permissions: Record<string, string> };

export interface GitHubRestoreWriterOptions {
  /** Built with resilientOctokit: rate limits are waited out and 5xx retried by the client. */
  app: App;
  /** Only these accounts (the config's github.owners); absent: every installation. */
  owners?: readonly string[];
}

export class GitHubRestoreWriter implements GitHubWriter {
  private readonly installations = new Map<string, Promise<Installation>>();

  constructor(private readonly options: GitHubRestoreWriterOptions) {}

  async installedAccounts(): Promise<string[]> {
    const accounts: string[] = [];
    try {
      for (let page = 1; ; page++) {
        const { data } = await this.options.app.octokit.request("GET /app/installations", {
          per_page: 100,
          page,
        });
        for (const installation of data) {
          const login = (installation.account as { login?: string } | null)?.login;
          if (login && this.allowed(login)) accounts.push(login);
        }
        if (data.length < 100) break;
      }
    } catch (err) {
      throw sourceErrorFrom(err, "listing the GitHub App's installations");
    }
    return accounts;
  }

  async permissions(owner: string): Promise<Record<string, string>> {
    return (await this.installation(owner)).permissions;
  }

  async inspect(fullName: string): Promise<TargetRepository | undefined> {
    const [owner, repo] = split(fullName);
    const octokit = await this.client(owner);
    let data: { id: number | bigint; full_name: string; visibility?: string; private: boolean };
    try {
      ({ data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo }));
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw sourceErrorFrom(err, `reading ${fullName}`);
    }
    const content: string[] = [];
    // An empty repository answers 409 to the git refs API; disabled issues answer 410.
    const has = async (what: string, route: string, params: Record<string, unknown>, empty: number[]) => {
      try {
        const { data: found } = await octokit.request(route, { owner, repo, per_page: 1, ...params });
        if (Array.isArray(found) && found.length) content.push(what);
      } catch (err) {
        const status = httpStatusOf(err);
        if (status === undefined || !empty.includes(status))
          throw sourceErrorFrom(err, `reading ${what} of ${fullName}`);
      }
    };
    for (const ref of ["heads", "tags"])
      if (!content.includes("refs"))
        await has("refs", "GET /repos/{owner}/{repo}/git/matching-refs/{ref}", { ref }, [404, 409]);
    await has("issues", "GET /repos/{owner}/{repo}/issues", { state: "all" }, [404, 410]);
    await has("releases", "GET /repos/{owner}/{repo}/releases", {}, [404]);
    const visibility =
      data.visibility === "public" || data.visibility === "internal"
        ? data.visibility
        : data.private
          ? "private"
          : "public";
    return { fullName: data.full_name, id: Number(data.id), visibility, content };
  }

  updateRepository(fullName: string, change: Record<string, unknown>): Promise<void> {
    return this.write(fullName, "updating the settings", "PATCH /repos/{owner}/{repo}", change);
  }

  replaceTopics(fullName: string, topics: readonly string[]): Promise<void> {
    return this.write(fullName, "setting the topics", "PUT /repos/{owner}/{repo}/topics", {
      names: [...topics],
    });
  }

  protectBranch(fullName: string, branch: string, protection: Record<string, unknown>): Promise<void> {
    return this.write(
      fullName,
      `protecting branch ${branch}`,
      "PUT /repos/{owner}/{repo}/branches/{branch}/protection",
      {
        branch,
        ...protection,
      },
    );
  }

  requireSignatures(fullName: string, branch: string): Promise<void> {
    return this.write(
      fullName,
      `requiring signatures on ${branch}`,
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures",
      { branch },
    );
  }

  createRuleset(fullName: string, ruleset: Record<string, unknown>): Promise<void> {
    return this.write(
      fullName,
      `creating ruleset ${String(ruleset.name)}`,
      "POST /repos/{owner}/{repo}/rulesets",
      ruleset,
    );
  }

  createAutolink(fullName: string, autolink: Record<string, unknown>): Promise<void> {
    return this.write(
      fullName,
      `creating autolink ${String(autolink.key_prefix)}`,
      "POST /repos/{owner}/{repo}/autolinks",
      autolink,
    );
  }

  createHook(fullName: string, hook: Record<string, unknown>): Promise<void> {
    return this.write(fullName, "creating a webhook", "POST /repos/{owner}/{repo}/hooks", hook);
  }

  addDeployKey(fullName: string, key: Record<string, unknown>): Promise<void> {
    return this.write(
      fullName,
      `adding deploy key ${String(key.title)}`,
      "POST /repos/{owner}/{repo}/keys",
      key,
    );
  }

  private async write(
    fullName: string,
    what: string,
    route: string,
    body: Record<string, unknown>,
  ): Promise<void> {
    const [owner, repo] = split(fullName);
    const octokit = await this.client(owner);
    try {
      await octokit.request(route, { owner, repo, ...body });
    } catch (err) {
      throw refusal(err, `${what} of ${fullName}`);
    }
  }

  private async client(owner: string): Promise<InstallationOctokit> {
    return this.options.app.getInstallationOctokit((await this.installation(owner)).id);
  }

  /** The installation on `owner` (an org, else a user), looked up once; a failed lookup is not kept. */
  private installation(owner: string): Promise<Installation> {
    const key = owner.toLowerCase();
    let found = this.installations.get(key);
    if (!found) {
      found = this.lookup(owner);
      found.catch(() => this.installations.delete(key));
      this.installations.set(key, found);
    }
    return found;
  }

  private async lookup(owner: string): Promise<Installation> {
    if (!this.allowed(owner))
      throw new SourceError(`${owner} is not one of the configured GitHub owners (github.owners)`, {
        permanent: true,
      });
    const octokit = this.options.app.octokit;
    try {
      const { data } = await octokit
        .request("GET /orgs/{org}/installation", { org: owner })
        .catch((err: unknown) => {
          if (httpStatusOf(err) !== 404) throw err;
          return octokit.request("GET /users/{username}/installation", { username: owner });
        });
      return { id: data.id, permissions: { ...(data.permissions as Record<string, string>) } };
    } catch (err) {
      if (httpStatusOf(err) === 404)
        throw new SourceError(`the GitHub App is not installed on ${owner} (install it there, then retry)`, {
          cause: err,
          permanent: true,
        });
      throw sourceErrorFrom(err, `finding the GitHub App installation on ${owner}`);
    }
  }

  private allowed(login: string): boolean {
    const owners = this.options.owners;
    return !owners?.length || owners.some((o) => o.toLowerCase() === login.toLowerCase());
  }
}

/** A refused write with GitHub's reason when it gave one (a 422 says which field), kept short. */
function refusal(err: unknown, what: string): SourceError {
  const status = httpStatusOf(err);
  const message = (err as { response?: { data?: { message?: unknown } } }).response?.data?.message;
  if (
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    status !== 401 &&
    status !== 403 &&
    typeof message === "string"
  )
    return new SourceError(`${what}: GitHub answered HTTP ${status}: ${message.slice(0, 200)}`, {
      cause: err,
      permanent: true,
    });
  return sourceErrorFrom(err, what);
}

function split(fullName: string): [string, string] {
  const [owner, name, ...rest] = fullName.split("/");
  if (!owner || !name || rest.length)
    throw new SourceError(`expected "owner/name", got ${JSON.stringify(fullName)}`, { permanent: true });
  return [owner, name];
}
