// GitHubItemWriter over a GitHub App: labels, milestones, issues (through the import endpoint or
// one by one), comments, pull requests from issues, branches, releases and streamed asset uploads.
// Its client has no retry and no throttling plugin on purpose: a create sent twice makes two items,
// so a secondary limit is handed to core as WriteRateLimitError (paced and retried there, nothing
// having been created) and any other failure ends the run, which the journal continues from.
import type { Readable } from "node:stream";
import type { App } from "@octokit/app";
import { SourceError } from "../../core/errors.js";
import type {
  GitHubItemWriter,
  IssueImport,
  LabelSpec,
  ReleaseSpec,
  TargetIssue,
  TargetRelease,
} from "../../core/ports.js";
import { WriteRateLimitError } from "../../core/restore-github/errors.js";
import { httpStatusOf } from "./errors.js";

type Client = Awaited<ReturnType<App["getInstallationOctokit"]>>;
type Json = Record<string, unknown>;

export interface ItemsWriterOptions {
  /** An App whose Octokit has neither the retry nor the throttling plugin (see above). */
  app: App;
  /** Between two polls of an issue import's status: GitHub processes them in the background. */
  importPollMs?: number;
  /** An import still pending after this long fails (the journal finds it on the next run). */
  importTimeoutMs?: number;
}

export class GitHubItemsWriter implements GitHubItemWriter {
  private readonly installations = new Map<string, Promise<number>>();

  constructor(private readonly options: ItemsWriterOptions) {}

  async label(repo: string, name: string): Promise<LabelSpec | undefined> {
    const data = await this.find(repo, `reading label ${name}`, "GET /repos/{owner}/{repo}/labels/{name}", {
      name,
    });
    return (
      data && { name: String(data.name), color: String(data.color), description: text(data.description) }
    );
  }

  async createLabel(repo: string, label: LabelSpec): Promise<void> {
    await this.call(repo, `creating label ${label.name}`, "POST /repos/{owner}/{repo}/labels", { ...label });
  }

  async updateLabel(repo: string, name: string, label: LabelSpec): Promise<void> {
    await this.call(repo, `updating label ${name}`, "PATCH /repos/{owner}/{repo}/labels/{name}", {
      name,
      new_name: label.name,
      color: label.color,
      description: label.description ?? "",
    });
  }

  async milestone(repo: string, number: number): Promise<{ number: number; title: string } | undefined> {
    const data = await this.find(
      repo,
      `reading milestone ${number}`,
      "GET /repos/{owner}/{repo}/milestones/{milestone_number}",
      { milestone_number: number },
    );
    return data && { number: Number(data.number), title: String(data.title) };
  }

  async createMilestone(
    repo: string,
    milestone: {
      title: string;
      description?: string | null;
      state: "open" | "closed";
      due_on?: string | null;
    },
  ): Promise<number> {
    const data = await this.call(
      repo,
      `creating milestone ${milestone.title}`,
      "POST /repos/{owner}/{repo}/milestones",
      {
        title: milestone.title,
        state: milestone.state,
        ...(milestone.description ? { description: milestone.description } : {}),
        ...(milestone.due_on ? { due_on: milestone.due_on } : {}),
      },
    );
    return Number(data.number);
  }

  async deleteMilestone(repo: string, number: number): Promise<void> {
    await this.call(
      repo,
      `deleting milestone ${number}`,
      "DELETE /repos/{owner}/{repo}/milestones/{milestone_number}",
      {
        milestone_number: number,
      },
    );
  }

  async issue(repo: string, number: number): Promise<TargetIssue | undefined> {
    const data = await this.find(
      repo,
      `reading #${number}`,
      "GET /repos/{owner}/{repo}/issues/{issue_number}",
      {
        issue_number: number,
      },
    );
    return (
      data && {
        number: Number(data.number),
        body: text(data.body),
        state: data.state === "closed" ? "closed" : "open",
        isPull: data.pull_request !== undefined && data.pull_request !== null,
      }
    );
  }

  async importIssue(repo: string, item: IssueImport): Promise<{ number: number } | { refused: string }> {
    let started: Json;
    try {
      started = await this.call(repo, "importing an issue", "POST /repos/{owner}/{repo}/import/issues", {
        ...item,
        headers: { accept: "application/vnd.github.golden-comet-preview+json" },
      });
    } catch (err) {
      const status = httpStatusOf((err as { cause?: unknown }).cause);
      // Not for this token or repository (GitHub answers 403 or 404 to an App it does not take there).
      if (
        err instanceof SourceError &&
        !(err instanceof WriteRateLimitError) &&
        (status === 403 || status === 404 || status === 410)
      )
        return { refused: err.message };
      throw err;
    }
    const deadline = Date.now() + (this.options.importTimeoutMs ?? 120_000);
    let pollMs = 50;
    for (let status = started; ;) {
      if (status.status === "imported") return { number: Number(String(status.issue_url).split("/").pop()) };
      if (status.status === "failed")
        throw new SourceError(
          `GitHub failed to import an issue into ${repo}: ${JSON.stringify(status.errors ?? [])}`,
          {
            permanent: true,
          },
        );
      if (Date.now() > deadline)
        throw new SourceError(
          `GitHub had not imported an issue into ${repo} after ${this.options.importTimeoutMs ?? 120_000} ms`,
        );
      // GitHub imports an issue within a second or two: look soon, then less often.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(pollMs, this.options.importPollMs ?? 1000)),
      );
      pollMs *= 2;
      status = await this.call(
        repo,
        "reading an issue import",
        "GET /repos/{owner}/{repo}/import/issues/{id}",
        {
          id: status.id,
          headers: { accept: "application/vnd.github.golden-comet-preview+json" },
        },
      );
    }
  }

  async createIssue(
    repo: string,
    issue: { title: string; body: string; labels?: string[]; milestone?: number },
  ): Promise<number> {
    const data = await this.call(repo, "creating an issue", "POST /repos/{owner}/{repo}/issues", {
      ...issue,
    });
    return Number(data.number);
  }

  async editIssueBody(repo: string, number: number, body: string): Promise<void> {
    await this.call(repo, `editing #${number}`, "PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
      issue_number: number,
      body,
    });
  }

  async closeIssue(repo: string, number: number, reason?: "completed" | "not_planned"): Promise<void> {
    await this.call(repo, `closing #${number}`, "PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
      issue_number: number,
      state: "closed",
      ...(reason ? { state_reason: reason } : {}),
    });
  }

  async canAssign(repo: string, login: string): Promise<boolean> {
    // 204 when the login may be assigned, 404 when not (or no such user).
    const found = await this.find(
      repo,
      `checking assignee ${login}`,
      "GET /repos/{owner}/{repo}/assignees/{assignee}",
      {
        assignee: login,
      },
    );
    return found !== undefined;
  }

  async addAssignees(repo: string, number: number, logins: readonly string[]): Promise<void> {
    await this.call(
      repo,
      `assigning #${number}`,
      "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees",
      {
        issue_number: number,
        assignees: [...logins],
      },
    );
  }

  async lockIssue(repo: string, number: number, reason?: string): Promise<void> {
    await this.call(repo, `locking #${number}`, "PUT /repos/{owner}/{repo}/issues/{issue_number}/lock", {
      issue_number: number,
      ...(reason ? { lock_reason: reason } : {}),
    });
  }

  async comments(repo: string, number: number): Promise<{ id: number; body: string }[]> {
    const all: { id: number; body: string }[] = [];
    for (let page = 1; ; page++) {
      const data = (await this.call(
        repo,
        `listing the comments of #${number}`,
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { issue_number: number, per_page: 100, page },
      )) as unknown as Json[];
      all.push(...data.map((c) => ({ id: Number(c.id), body: String(c.body ?? "") })));
      if (data.length < 100) return all;
    }
  }

  async createComment(repo: string, number: number, body: string): Promise<number> {
    const data = await this.call(
      repo,
      `commenting on #${number}`,
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { issue_number: number, body },
    );
    return Number(data.id);
  }

  async convertToPull(
    repo: string,
    number: number,
    pull: { head: string; base: string; draft?: boolean },
  ): Promise<{ ok: true } | { refused: string }> {
    try {
      await this.call(repo, `opening #${number} as a pull request`, "POST /repos/{owner}/{repo}/pulls", {
        issue: number,
        head: pull.head,
        base: pull.base,
        ...(pull.draft ? { draft: true } : {}),
      });
      return { ok: true };
    } catch (err) {
      if (httpStatusOf((err as { cause?: unknown }).cause) === 422)
        return { refused: reasonOf((err as { cause?: unknown }).cause) };
      throw err;
    }
  }

  async createBranch(repo: string, name: string, sha: string): Promise<"created" | "exists" | "missing"> {
    try {
      await this.call(repo, `creating branch ${name}`, "POST /repos/{owner}/{repo}/git/refs", {
        ref: `refs/heads/${name}`,
        sha,
      });
      return "created";
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (httpStatusOf(cause) !== 422) throw err;
      return /already exists/i.test(reasonOf(cause)) ? "exists" : "missing";
    }
  }

  async releases(repo: string): Promise<TargetRelease[]> {
    const all: TargetRelease[] = [];
    for (let page = 1; ; page++) {
      const data = (await this.call(repo, "listing releases", "GET /repos/{owner}/{repo}/releases", {
        per_page: 100,
        page,
      })) as unknown as Json[];
      for (const r of data)
        all.push({
          id: Number(r.id),
          tag_name: String(r.tag_name),
          draft: r.draft === true,
          body: text(r.body),
          assets: ((r.assets as Json[] | undefined) ?? []).map((a) => ({
            id: Number(a.id),
            name: String(a.name),
            state: String(a.state),
            size: Number(a.size),
          })),
        });
      if (data.length < 100) return all;
    }
  }

  async createRelease(repo: string, release: ReleaseSpec): Promise<number> {
    const data = await this.call(
      repo,
      `creating release ${release.tag_name}`,
      "POST /repos/{owner}/{repo}/releases",
      {
        ...release,
        draft: true,
      },
    );
    this.uploadUrls.set(Number(data.id), String(data.upload_url));
    return Number(data.id);
  }

  async publishRelease(repo: string, releaseId: number): Promise<void> {
    await this.call(
      repo,
      `publishing release ${releaseId}`,
      "PATCH /repos/{owner}/{repo}/releases/{release_id}",
      {
        release_id: releaseId,
        draft: false,
      },
    );
  }

  async uploadAsset(
    repo: string,
    releaseId: number,
    asset: { name: string; label?: string | null; contentType: string; size: number },
    body: Readable,
  ): Promise<number> {
    const template = this.uploadUrls.get(releaseId) ?? (await this.uploadUrlOf(repo, releaseId));
    const url = new URL(template.replace(/\{[^}]*\}$/, ""));
    url.searchParams.set("name", asset.name);
    if (asset.label) url.searchParams.set("label", asset.label);
    const data = await this.call(repo, `uploading ${asset.name}`, "POST " + url.href, {
      headers: { "content-type": asset.contentType, "content-length": String(asset.size) },
      data: body,
    });
    return Number(data.id);
  }

  async deleteAsset(repo: string, assetId: number): Promise<void> {
    await this.call(
      repo,
      `deleting asset ${assetId}`,
      "DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}",
      {
        asset_id: assetId,
      },
    );
  }

  private readonly uploadUrls = new Map<number, string>();

  private async uploadUrlOf(repo: string, releaseId: number): Promise<string> {
    const data = await this.call(
      repo,
      `reading release ${releaseId}`,
      "GET /repos/{owner}/{repo}/releases/{release_id}",
      {
        release_id: releaseId,
      },
    );
    return String(data.upload_url);
  }

  /** A GET whose 404 means "not there". */
  private async find(repo: string, what: string, route: string, params: Json): Promise<Json | undefined> {
    try {
      return await this.call(repo, what, route, params);
    } catch (err) {
      if (httpStatusOf((err as { cause?: unknown }).cause) === 404) return undefined;
      throw err;
    }
  }

  private async call(repo: string, what: string, route: string, params: Json): Promise<Json> {
    const [owner, name] = repo.split("/") as [string, string];
    const client = await this.client(owner);
    try {
      const { data } = await client.request(route, { owner, repo: name, ...params });
      return (data ?? {}) as Json;
    } catch (err) {
      throw writeError(err, `${what} in ${repo}`);
    }
  }

  private async client(owner: string): Promise<Client> {
    const key = owner.toLowerCase();
    let id = this.installations.get(key);
    if (!id) {
      const octokit = this.options.app.octokit;
      id = octokit
        .request("GET /orgs/{org}/installation", { org: owner })
        .catch((err: unknown) => {
          if (httpStatusOf(err) !== 404) throw err;
          return octokit.request("GET /users/{username}/installation", { username: owner });
        })
        .then(({ data }) => data.id);
      id.catch(() => this.installations.delete(key));
      this.installations.set(key, id);
    }
    try {
      return await this.options.app.getInstallationOctokit(await id);
    } catch (err) {
      if (httpStatusOf(err) === 404)
        throw new SourceError(`the GitHub App is not installed on ${owner}`, { cause: err, permanent: true });
      throw writeError(err, `finding the GitHub App installation on ${owner}`);
    }
  }
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** GitHub's own reason for a refusal: its message and the first error's, never a header. */
function reasonOf(err: unknown): string {
  const data = (err as { response?: { data?: { message?: string; errors?: { message?: string }[] } } })
    .response?.data;
  return [data?.message, data?.errors?.[0]?.message].filter(Boolean).join(": ") || "no reason given";
}

/**
 * A failed request as our error: a secondary or primary rate limit (403/429 with retry-after, a
 * spent budget, or GitHub's "secondary rate limit" wording) is a WriteRateLimitError; the rest a
 * SourceError with GitHub's reason, permanent for a 4xx.
 */
function writeError(err: unknown, what: string): SourceError {
  const status = httpStatusOf(err);
  if (status === undefined) return new SourceError(`${what}: GitHub could not be reached`, { cause: err });
  const headers =
    (err as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
  const reason = reasonOf(err);
  if (status === 403 || status === 429) {
    const retryAfter = Number(headers["retry-after"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (headers["retry-after"] !== undefined || /secondary rate limit/i.test(reason))
      return new WriteRateLimitError(
        `${what}: ${reason}`,
        Number.isFinite(retryAfter) ? retryAfter : undefined,
        {
          cause: err,
        },
      );
    if (headers["x-ratelimit-remaining"] === "0")
      return new WriteRateLimitError(
        `${what}: ${reason}`,
        Number.isFinite(reset) ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : undefined,
        { cause: err },
      );
  }
  return new SourceError(`${what}: GitHub answered HTTP ${status}: ${reason}`, {
    cause: err,
    permanent: status >= 400 && status < 500,
  });
}
