// The GitHub stand-in's item writes, as a restore to GitHub makes them: labels, milestones, issues
// and pull requests numbered in one sequence per repository (as GitHub does), comments, the issue
// import endpoint (pending, then imported; or refused, as for a token it does not take), pull
// requests from issues (refused without commits between the branches), branches through git/refs,
// releases and asset uploads. Every write lands in the repository's RepoMetadata in GitHub's API
// shape, so the stand-in's reads (and a backup of the restored repository) serve what was written.
// Content creation can be limited as GitHub's secondary limits do (403 with retry-after).
import { createHash } from "node:crypto";
import { runGit } from "../../functions/core/git/exec.js";
import { HttpFailure, type ExtraRoute, type GitHubStandin, type Repo } from "./github-standin.js";

type ApiObject = Record<string, unknown>;

export interface ItemWritesOptions {
  /** Whether POST /import/issues takes the App's token (default true); else 403. */
  importAccepted?: boolean;
  /**
   * GitHub's secondary limit on content creation: more than `max` creating requests within
   * `windowMs` answer 403 "secondary rate limit" with retry-after `retryAfterSeconds`.
   */
  contentLimit?: { max: number; windowMs: number; retryAfterSeconds: number };
  /**
   * A run cut short where it hurts most: the `loseAnswerAfter`-th creating request is carried out,
   * but answered 502 as if the connection dropped, so the caller cannot know it happened.
   */
  loseAnswerAfter?: number;
  /** Logins that may be assigned issues (GET /assignees/{login} answers 204); default none. */
  assignable?: readonly string[];
  /** The creating requests (1-based, in arrival order) answered with a secondary limit, once each. */
  refuse?: { nth: readonly number[]; retryAfterSeconds: number };
  /** The time (epoch ms) of the limit's window and of `times`; default the real one (a test's clock). */
  clock?: () => number;
}

/** What the writes did, for assertions: creating requests answered, and those refused by the limit. */
export interface ItemWritesLog {
  created: { repo: string; method: string; rest: string }[];
  limited: number;
  /** When (on the options' clock) each creating request arrived, refused ones included. */
  times: { at: number; limited: boolean; rest: string }[];
  /** Asset uploads: the bytes' SHA-256 by new asset id. */
  uploads: Map<number, string>;
}

const BOT = { login: "infinity-backup[bot]", id: 1, type: "Bot" };
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const zeroReactions = () => ({
  total_count: 0,
  "+1": 0,
  "-1": 0,
  laugh: 0,
  hooray: 0,
  confused: 0,
  heart: 0,
  rocket: 0,
  eyes: 0,
});

/** Adds the item writes to `github`; returns their log. */
export function serveItemWrites(github: GitHubStandin, options: ItemWritesOptions = {}): ItemWritesLog {
  const log: ItemWritesLog = { created: [], limited: 0, times: [], uploads: new Map() };
  const clock = options.clock ?? Date.now;
  const recent: number[] = [];
  const sequences = new WeakMap<Repo, { issue: number; milestone: number }>();
  let nextId = 5_000_000;
  const imports = new Map<number, ApiObject>();

  const route: ExtraRoute = async ({ method, rest, url, body, repo, gitDir }) => {
    const meta = repo.metadata;
    const full = `${repo.owner}/${repo.name}`;
    const api = `${github.url}/repos/${full}`;
    const seq = sequences.get(repo) ?? {
      issue: Math.max(0, ...meta.issues.map((i) => Number(i.number))),
      milestone: Math.max(0, ...meta.milestones.map((m) => Number(m.number))),
    };
    sequences.set(repo, seq);
    const creating = method === "POST" && !/^\/import\/issues\/\d+$/.test(rest);
    const arrived = clock();
    if (creating && options.contentLimit) {
      const { max, windowMs, retryAfterSeconds } = options.contentLimit;
      const t = arrived;
      while (recent.length && recent[0]! <= t - windowMs) recent.shift();
      if (recent.length >= max) {
        log.limited++;
        log.times.push({ at: arrived, limited: true, rest });
        throw new HttpFailure(
          403,
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          { "retry-after": String(retryAfterSeconds) },
        );
      }
      recent.push(t);
    }
    if (creating && options.refuse?.nth.includes(log.times.length + 1)) {
      log.limited++;
      log.times.push({ at: arrived, limited: true, rest });
      throw new HttpFailure(403, "You have exceeded a secondary rate limit.", {
        "retry-after": String(options.refuse.retryAfterSeconds),
      });
    }
    if (creating) log.times.push({ at: arrived, limited: false, rest });
    const created = <T>(answer: T): T => {
      if (!creating) return answer;
      log.created.push({ repo: full, method, rest });
      if (log.created.length === options.loseAnswerAfter)
        throw new HttpFailure(502, "Server Error (the answer was lost; the write was made)");
      return answer;
    };
    const issueOf = (n: number) => meta.issues.find((i) => i.number === n);
    const labelObject = (name: string) => {
      const label = meta.labels.find((l) => l.name === name);
      if (!label) throw new HttpFailure(422, `Validation Failed: label ${name} does not exist`);
      return label;
    };
    const milestoneObject = (n: unknown) => {
      if (n === undefined || n === null) return null;
      const milestone = meta.milestones.find((m) => m.number === n);
      if (!milestone) throw new HttpFailure(422, `Validation Failed: milestone ${String(n)} does not exist`);
      return milestone;
    };
    const newIssue = (fields: ApiObject, at = now()): ApiObject => {
      const number = ++seq.issue;
      const issue = {
        url: `${api}/issues/${number}`,
        id: ++nextId,
        number,
        title: String(fields.title ?? ""),
        body: (fields.body as string | undefined) ?? null,
        user: BOT,
        labels: ((fields.labels as string[] | undefined) ?? []).map(labelObject),
        state: "open",
        state_reason: null,
        locked: false,
        active_lock_reason: null,
        assignees: [],
        milestone: milestoneObject(fields.milestone),
        comments: 0,
        reactions: zeroReactions(),
        author_association: "NONE",
        created_at: at,
        updated_at: at,
        closed_at: null,
      };
      meta.issues.push(issue);
      return issue;
    };
    const newComment = (number: number, text: string, at = now()): ApiObject => {
      const comment = {
        url: `${api}/issues/comments/${nextId + 1}`,
        id: ++nextId,
        issue_url: `${api}/issues/${number}`,
        user: BOT,
        body: text,
        author_association: "NONE",
        reactions: zeroReactions(),
        created_at: at,
        updated_at: at,
      };
      meta.comments.push(comment);
      const issue = issueOf(number)!;
      issue.comments = Number(issue.comments) + 1;
      return comment;
    };
    const commitOf = async (ref: string) => {
      const found = await runGit(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
        env: { GIT_DIR: gitDir },
      });
      return found.code === 0 ? found.stdout.trim() : undefined;
    };
    let m: RegExpExecArray | null;

    // Labels
    if (method === "GET" && (m = /^\/labels\/([^/]+)$/.exec(rest))) {
      const label = meta.labels.find((l) => l.name === decodeURIComponent(m![1]!));
      if (!label) throw new HttpFailure(404, "Not Found");
      return [200, label];
    }
    if (method === "POST" && rest === "/labels") {
      if (meta.labels.some((l) => l.name === body.name))
        throw new HttpFailure(422, "Validation Failed: already_exists");
      const label = {
        id: ++nextId,
        url: `${api}/labels/${encodeURIComponent(String(body.name))}`,
        name: body.name,
        color: body.color,
        description: body.description ?? null,
        default: false,
      };
      meta.labels.push(label);
      return created([201, label]);
    }
    if (method === "PATCH" && (m = /^\/labels\/([^/]+)$/.exec(rest))) {
      const label = meta.labels.find((l) => l.name === decodeURIComponent(m![1]!));
      if (!label) throw new HttpFailure(404, "Not Found");
      Object.assign(label, {
        name: body.new_name ?? label.name,
        color: body.color ?? label.color,
        description: body.description === "" ? null : (body.description ?? label.description),
      });
      return [200, label];
    }

    // Milestones
    if ((m = /^\/milestones\/(\d+)$/.exec(rest))) {
      const index = meta.milestones.findIndex((x) => x.number === Number(m![1]));
      if (index === -1) throw new HttpFailure(404, "Not Found");
      if (method === "GET") return [200, meta.milestones[index]];
      if (method === "DELETE") {
        meta.milestones.splice(index, 1);
        return [204, ""];
      }
    }
    if (method === "POST" && rest === "/milestones") {
      if (meta.milestones.some((x) => x.title === body.title))
        throw new HttpFailure(422, "Validation Failed: already_exists");
      const number = ++seq.milestone;
      const at = now();
      const milestone = {
        url: `${api}/milestones/${number}`,
        id: ++nextId,
        number,
        title: body.title,
        description: body.description ?? null,
        creator: BOT,
        open_issues: 0,
        closed_issues: 0,
        state: body.state ?? "open",
        created_at: at,
        updated_at: at,
        due_on: body.due_on ?? null,
        closed_at: body.state === "closed" ? at : null,
      };
      meta.milestones.push(milestone);
      return created([201, milestone]);
    }

    // Issues, comments, imports
    if ((m = /^\/issues\/(\d+)$/.exec(rest)) && (method === "GET" || method === "PATCH")) {
      const issue = issueOf(Number(m[1]));
      if (!issue) throw new HttpFailure(404, "Not Found");
      if (method === "PATCH") {
        if (typeof body.body === "string") issue.body = body.body;
        if (body.state === "closed" && issue.state !== "closed") {
          Object.assign(issue, { state: "closed", closed_at: now(), updated_at: now() });
          issue.state_reason = issue.pull_request ? null : (body.state_reason ?? "completed");
          const pull = meta.pulls.find((p) => p.number === issue.number);
          if (pull) Object.assign(pull, { state: "closed", closed_at: issue.closed_at });
        }
        if (typeof body.body === "string") {
          const pull = meta.pulls.find((p) => p.number === issue.number);
          if (pull) pull.body = body.body;
        }
      }
      return [200, issue];
    }
    if (method === "GET" && (m = /^\/assignees\/([^/]+)$/.exec(rest))) {
      const login = decodeURIComponent(m[1]!).toLowerCase();
      if (!(options.assignable ?? []).some((a) => a.toLowerCase() === login))
        throw new HttpFailure(404, "Not Found");
      return [204, ""];
    }
    if (method === "POST" && (m = /^\/issues\/(\d+)\/assignees$/.exec(rest))) {
      const issue = issueOf(Number(m[1]));
      if (!issue) throw new HttpFailure(404, "Not Found");
      const held = (issue.assignees as { login: string }[] | undefined) ?? [];
      for (const login of (body.assignees as string[] | undefined) ?? [])
        if (!held.some((a) => a.login === login)) held.push({ login });
      issue.assignees = held;
      return [201, issue];
    }
    if (method === "PUT" && (m = /^\/issues\/(\d+)\/lock$/.exec(rest))) {
      const issue = issueOf(Number(m[1]));
      if (!issue) throw new HttpFailure(404, "Not Found");
      Object.assign(issue, { locked: true, active_lock_reason: body.lock_reason ?? null });
      return [204, ""];
    }
    if (method === "POST" && rest === "/issues") return created([201, newIssue(body)]);
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const number = Number(m[1]);
      if (!issueOf(number)) throw new HttpFailure(404, "Not Found");
      if (method === "POST") return created([201, newComment(number, String(body.body ?? ""))]);
      const all = meta.comments.filter((c) => c.issue_url === `${api}/issues/${number}`);
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      const page = Number(url.searchParams.get("page") ?? 1);
      return [200, all.slice((page - 1) * perPage, page * perPage)];
    }
    if (method === "POST" && rest === "/import/issues") {
      if (options.importAccepted === false)
        throw new HttpFailure(403, "Resource not accessible by integration");
      const fields = body.issue as ApiObject;
      const issue = newIssue(fields, String(fields.created_at ?? now()));
      for (const c of (body.comments as ApiObject[] | undefined) ?? [])
        newComment(Number(issue.number), String(c.body), String(c.created_at ?? now()));
      if (fields.closed === true)
        Object.assign(issue, {
          state: "closed",
          state_reason: "completed",
          closed_at: fields.closed_at ?? now(),
        });
      if (fields.updated_at) issue.updated_at = fields.updated_at;
      const id = ++nextId;
      imports.set(id, { id, status: "imported", issue_url: issue.url });
      // GitHub answers "pending" and imports in the background.
      return created([202, { id, status: "pending", url: `${api}/import/issues/${id}` }]);
    }
    if (method === "GET" && (m = /^\/import\/issues\/(\d+)$/.exec(rest))) {
      const status = imports.get(Number(m[1]));
      if (!status) throw new HttpFailure(404, "Not Found");
      return [200, status];
    }

    // Pull requests from issues, branches
    if (method === "POST" && rest === "/pulls" && body.issue !== undefined) {
      const issue = issueOf(Number(body.issue));
      if (!issue || issue.pull_request || issue.state !== "open")
        throw new HttpFailure(422, "Validation Failed: the issue cannot be converted");
      const [head, base] = [String(body.head), String(body.base)];
      const [headSha, baseSha] = [await commitOf(`refs/heads/${head}`), await commitOf(`refs/heads/${base}`)];
      if (!headSha || !baseSha) throw new HttpFailure(422, "Validation Failed: head or base does not exist");
      const ancestor = await runGit(["merge-base", "--is-ancestor", headSha, baseSha], {
        env: { GIT_DIR: gitDir },
      });
      if (ancestor.code === 0)
        throw new HttpFailure(422, `Validation Failed: No commits between ${base} and ${head}`);
      issue.pull_request = { url: `${api}/pulls/${String(issue.number)}`, merged_at: null };
      const branch = (ref: string, sha: string) => ({
        label: `${repo.owner}:${ref}`,
        ref,
        sha,
        user: BOT,
        repo: { id: repo.id, full_name: full },
      });
      const pull = {
        url: `${api}/pulls/${String(issue.number)}`,
        id: ++nextId,
        number: issue.number,
        title: issue.title,
        body: issue.body,
        user: BOT,
        state: "open",
        locked: false,
        labels: issue.labels,
        assignees: [],
        milestone: issue.milestone,
        requested_reviewers: [],
        requested_teams: [],
        head: branch(head, headSha),
        base: branch(base, baseSha),
        merged_at: null,
        merge_commit_sha: null,
        draft: body.draft === true,
        author_association: "NONE",
        auto_merge: null,
        created_at: issue.created_at,
        updated_at: now(),
        closed_at: null,
      };
      meta.pulls.push(pull);
      return created([201, pull]);
    }
    if (method === "POST" && rest === "/git/refs") {
      const ref = String(body.ref);
      if (await commitOf(ref)) throw new HttpFailure(422, "Reference already exists");
      const kind = await runGit(["cat-file", "-t", String(body.sha)], { env: { GIT_DIR: gitDir } });
      if (kind.code !== 0 || kind.stdout.trim() !== "commit")
        throw new HttpFailure(422, "Object does not exist");
      await runGit(["update-ref", ref, String(body.sha)], { env: { GIT_DIR: gitDir } });
      return created([201, { ref, object: { sha: body.sha, type: "commit" } }]);
    }

    // Releases and assets
    if (method === "POST" && rest === "/releases") {
      const id = ++nextId;
      const release = {
        url: `${api}/releases/${id}`,
        upload_url: `${api}/releases/${id}/assets{?name,label}`,
        id,
        tag_name: body.tag_name,
        target_commitish: body.target_commitish ?? "main",
        name: body.name ?? null,
        body: body.body ?? null,
        draft: body.draft === true,
        prerelease: body.prerelease === true,
        author: BOT,
        created_at: now(),
        published_at: body.draft === true ? null : now(),
        assets: [] as ApiObject[],
      };
      meta.releases.push(release);
      return created([201, release]);
    }
    if ((m = /^\/releases\/(\d+)$/.exec(rest)) && (method === "GET" || method === "PATCH")) {
      const release = meta.releases.find((r) => r.id === Number(m![1]));
      if (!release) throw new HttpFailure(404, "Not Found");
      if (method === "PATCH" && body.draft === false && release.draft)
        Object.assign(release, { draft: false, published_at: now() });
      return [200, release];
    }
    if (method === "POST" && (m = /^\/releases\/(\d+)\/assets$/.exec(rest))) {
      const release = meta.releases.find((r) => r.id === Number(m![1]));
      if (!release) throw new HttpFailure(404, "Not Found");
      const bytes = body.bytes as Buffer;
      const name = url.searchParams.get("name") ?? "";
      const assets = release.assets as ApiObject[];
      if (assets.some((a) => a.name === name))
        throw new HttpFailure(422, "Validation Failed: already_exists");
      const id = ++nextId;
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const asset = {
        url: `${api}/releases/assets/${id}`,
        id,
        name,
        label: url.searchParams.get("label"),
        state: "uploaded",
        content_type: "application/octet-stream",
        size: bytes.length,
        digest: `sha256:${sha256}`,
        download_count: 0,
        uploader: BOT,
        created_at: now(),
        updated_at: now(),
      };
      assets.push(asset);
      meta.assetBytes.set(id, bytes);
      log.uploads.set(id, sha256);
      return created([201, asset]);
    }
    if (method === "DELETE" && (m = /^\/releases\/assets\/(\d+)$/.exec(rest))) {
      const id = Number(m[1]);
      for (const release of meta.releases) {
        const assets = release.assets as ApiObject[];
        const at = assets.findIndex((a) => a.id === id);
        if (at !== -1) assets.splice(at, 1);
      }
      meta.assetBytes.delete(id);
      return [204, ""];
    }
    return undefined;
  };
  github.routes.push(route);
  return log;
}
