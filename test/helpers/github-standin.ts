// A stand-in for the GitHub REST endpoints our GitHub App source and metadata collection call, for
// the real @octokit clients to talk to: app JWTs checked (RS256) against the app's public key,
// installation tokens issued with an expiry and required on installation routes, lists paginated
// with Link headers, ETags and 304s, injected faults (rate limits, 5xx, garbage), and release assets
// redirected to a separate asset host that must never see a token.
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { runGit } from "../../functions/core/git/exec.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import { answerGraphql } from "./github-standin-graphql.js";
import { emptyOrg, routeOrg, type OrgMetadata } from "./github-standin-org.js";
import { emptyMetadata, routeMetadata, type RepoMetadata, type Reply } from "./github-standin-metadata.js";
import { UserContentStandin } from "./github-standin-usercontent.js";

export interface GitHubStandinOptions {
  appId: number;
  /** The app's public key (PEM or KeyObject): what GitHub keeps to check the app's JWTs. */
  publicKey: string | KeyObject;
  /** Where clone_url points ("http://127.0.0.1:<port>" of the git server); "<gitUrl>/<owner>/<name>.git". */
  gitUrl: string;
  /** The git server's folder: POST /orgs/:org/repos creates "<gitRoot>/<org>/<name>.git" there. */
  gitRoot: string;
}

export type Repo = {
  id: number;
  owner: string;
  name: string;
  fork: boolean;
  archived: boolean;
  private: boolean;
  /** KiB, as GitHub reports it. */ size?: number;
  /** GitHub's has_wiki: the repository has a wiki at "<name>.wiki.git". */
  hasWiki?: boolean;
  /** The App may not read it at all: every /repos/{o}/{r} route answers 403. */
  forbidden?: boolean;
  metadata: RepoMetadata;
};

/** An answer the stand-in gives instead of the real one, `times` times, to requests that match. */
export interface Fault {
  /** "owner/name"; the fault applies to its /repos/{o}/{r}… routes. */
  repo: string;
  /** Tested against the path after /repos/{o}/{r} plus the query ("" for the repository itself). */
  path?: RegExp;
  times: number;
  status: number;
  /** A JSON body, or raw text sent as application/json (garbage). */
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** An answer POST /graphql gives instead of the real one, `times` times, to queries that match. */
export interface GraphqlFault {
  /** Tested against the query text (its operation name, say); every query when absent. */
  query?: RegExp;
  times: number;
  status: number;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export interface StandinRequest {
  method: string;
  /** Path with query. */
  url: string;
  /** The Authorization scheme used ("token", "bearer", ""). */
  auth: string;
  /** Whether it carried If-None-Match. */
  conditional: boolean;
  /** The status answered. */
  status: number;
}
type IssuedToken = { installationId: number; expiresAt: number };

/** A route added to the stand-in (write endpoints live in their own files): undefined when not its own. */
export type ExtraRoute = (request: {
  method: string;
  /** The path after /repos/{o}/{r}. */
  rest: string;
  url: URL;
  body: Record<string, unknown>;
  repo: Repo;
  /** The repository's bare git folder on the git server. */
  gitDir: string;
}) => Promise<[number, unknown, Record<string, string>?] | undefined> | [number, unknown] | undefined;

/** What an installation may do, as GitHub lists an installation's permissions. */
export const FULL_RESTORE_PERMISSIONS: Readonly<Record<string, string>> = {
  metadata: "read",
  contents: "write",
  administration: "write",
  issues: "write",
  pull_requests: "write",
  repository_hooks: "write",
};

export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class GitHubStandin {
  url = "";
  /** Lifetime of the installation tokens it issues; GitHub's is one hour. */
  tokenLifetimeMs = 60 * 60_000;
  /** Every request, for assertions: method, path with query, Authorization scheme, conditional, status. */
  readonly requests: StandinRequest[] = [];
  /** Requests the asset host received: path (never the signature), and any Authorization sent. */
  readonly assetRequests: { path: string; authorization?: string }[] = [];
  /** Where the asset host is: a different origin from the API, as GitHub's is. */
  assetUrl = "";
  /** Assets are served in chunks of this many bytes (to show they are streamed). */
  assetChunkBytes = 64 * 1024;
  private readonly faults: Fault[] = [];
  /** Routes under /repos/{o}/{r} tried before the read-only ones (any method), in order. */
  readonly routes: ExtraRoute[] = [];
  /** The permissions every installation has (GitHub lists them on the installation). */
  permissions: Record<string, string> = { ...FULL_RESTORE_PERMISSIONS };
  private readonly graphqlFaults: GraphqlFault[] = [];
  /** GraphQL's hourly points, as its rate-limit headers count them down (one a query here). */
  graphqlRemaining = 5000;
  /**
   * The installation's REST budget, when a test sets one: each installation request answered other
   * than 304 spends one, every answer carries GitHub's x-ratelimit-* headers, GET /rate_limit tells
   * it (for free), and a spent budget answers 403 until `resetAt` (epoch seconds), as GitHub does.
   */
  restBudget?: { limit: number; remaining: number; resetAt: number };
  /** The GraphQL queries answered, with their variables, for assertions. */
  readonly graphqlQueries: { query: string; variables: Record<string, unknown> }[] = [];
  private readonly signedAssets = new Map<string, { repo: string; id: number }>();
  private readonly assetServer = createServer((req, res) => void this.serveAsset(req, res));
  tokensIssued = 0;
  /** GitHub's user-content hosts: web (attachment paths), storage, old images, private images. */
  readonly userContent = new UserContentStandin(
    () => this.repos,
    (authorization) => {
      try {
        return this.orgOf(this.checkToken(authorization));
      } catch {
        return undefined;
      }
    },
  );
  private readonly publicKey: KeyObject;
  private readonly installations = new Map<string, number>();
  /** Organizations whose own endpoints are served (orgMetadata adds one), by lower-case login. */
  private readonly orgs = new Map<string, OrgMetadata>();
  private readonly repos: Repo[] = [];
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private nextId = 1000;

  constructor(private readonly options: GitHubStandinOptions) {
    this.publicKey =
      typeof options.publicKey === "string" ? createPublicKey(options.publicKey) : options.publicKey;
  }

  async start(): Promise<this> {
    this.server.listen(0, "127.0.0.1");
    this.assetServer.listen(0, "127.0.0.1");
    await Promise.all([
      once(this.server, "listening"),
      once(this.assetServer, "listening"),
      this.userContent.start(),
    ]);
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.assetUrl = `http://127.0.0.1:${(this.assetServer.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    await this.userContent.close();
    for (const server of [this.server, this.assetServer]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** The repository's metadata, to fill or change in place (it is served as it is at each request). */
  metadata(fullName: string): RepoMetadata {
    const [owner, name] = fullName.split("/") as [string, string];
    const repo = this.find(owner, name);
    if (!repo) throw new Error(`no repository ${fullName} in the stand-in`);
    return repo.metadata;
  }

  /** The organization's own metadata (settings, teams, rulesets, projects), created empty on first use. */
  orgMetadata(login: string): OrgMetadata {
    const key = login.toLowerCase();
    let org = this.orgs.get(key);
    if (!org) this.orgs.set(key, (org = emptyOrg(login, this.nextId++)));
    return org;
  }

  /** Answers matching requests with the fault instead, `fault.times` times. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Answers matching GraphQL queries with the fault instead, `fault.times` times. */
  injectGraphql(fault: GraphqlFault): void {
    this.graphqlFaults.push({ ...fault });
  }

  /** Forgets every injected fault not yet used up. */
  clearFaults(): void {
    this.faults.length = 0;
    this.graphqlFaults.length = 0;
  }

  /** The primary rate limit spent until `resetInSeconds` from now, for `times` matching requests. */
  primaryRateLimit(repo: string, path: RegExp, times: number, resetInSeconds = 1): void {
    const reset = String(Math.ceil(Date.now() / 1000) + resetInSeconds);
    this.inject({
      repo,
      path,
      times,
      status: 403,
      json: { message: "API rate limit exceeded for installation ID 1." },
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": reset },
    });
  }

  /** A secondary rate limit with retry-after, for `times` matching requests. */
  secondaryRateLimit(repo: string, path: RegExp, times: number, retryAfterSeconds = 1): void {
    this.inject({
      repo,
      path,
      times,
      status: 403,
      json: {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      },
      headers: { "retry-after": String(retryAfterSeconds) },
    });
  }

  /** Installs the app on `org` (an organization, with its own endpoints, as on GitHub); returns the installation id. */
  install(org: string): number {
    const id = this.nextId++;
    this.installations.set(org.toLowerCase(), id);
    this.orgMetadata(org);
    return id;
  }

  /** Lists a repository (metadata only: the test makes its git data, if it reads any). */
  addRepo(
    fullName: string,
    flags: {
      fork?: boolean;
      archived?: boolean;
      private?: boolean;
      size?: number;
      hasWiki?: boolean;
      forbidden?: boolean;
    } = {},
  ): RepoMetadata {
    const [owner, name] = fullName.split("/") as [string, string];
    const metadata = emptyMetadata();
    this.repos.push({
      id: this.nextId++,
      owner,
      name,
      fork: false,
      archived: false,
      private: true,
      ...flags,
      metadata,
    });
    return metadata;
  }

  /**
   * Renames or transfers a repository as GitHub does: same id, new owner and name (the test moves
   * its git data). Returns the repository's JSON as webhooks carry it.
   */
  moveRepo(from: string, to: string): ReturnType<GitHubStandin["repoJson"]> {
    const [owner, name] = from.split("/") as [string, string];
    const repo = this.find(owner, name);
    if (!repo) throw new Error(`no repository ${from} in the stand-in`);
    [repo.owner, repo.name] = to.split("/") as [string, string];
    return this.repoJson(repo);
  }

  /** The repository's JSON as the API and webhooks give it (its id included). */
  repository(fullName: string): ReturnType<GitHubStandin["repoJson"]> {
    const [owner, name] = fullName.split("/") as [string, string];
    const repo = this.find(owner, name);
    if (!repo) throw new Error(`no repository ${fullName} in the stand-in`);
    return this.repoJson(repo);
  }

  /** The installation id on `owner`, as webhooks name it. */
  installationOf(owner: string): number | undefined {
    return this.installations.get(owner.toLowerCase());
  }

  /** Removes a repository, as when it is deleted on GitHub. */
  removeRepo(fullName: string): void {
    const [owner, name] = fullName.split("/") as [string, string];
    const repo = this.find(owner, name);
    if (repo) this.repos.splice(this.repos.indexOf(repo), 1);
  }

  /** Whether `token` is a live installation token of the installation on `repo`'s owner: the git server's check. */
  canRead(token: string, repo: string): boolean {
    const issued = this.tokens.get(token);
    const owner = repo.split("/")[0]?.toLowerCase() ?? "";
    return (
      !!issued && issued.expiresAt > Date.now() && this.installations.get(owner) === issued.installationId
    );
  }

  /** Forgets every token issued so far, as when GitHub revokes them. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const authorization = req.headers.authorization ?? "";
    const auth = authorization.split(" ")[0] ?? "";
    const ifNoneMatch = req.headers["if-none-match"];
    const entry: StandinRequest = {
      method: req.method ?? "",
      url: url.pathname + url.search,
      auth,
      conditional: !!ifNoneMatch,
      status: 0,
    };
    this.requests.push(entry);
    let reply: Reply;
    const budget = this.budgetFor(auth, url.pathname);
    try {
      if (budget && budget.remaining <= 0)
        throw new HttpFailure(403, "API rate limit exceeded for installation.", this.budgetHeaders(budget));
      // A release asset upload's body is the asset's bytes (any content type), handed on as `bytes`.
      const body = !["POST", "PUT", "PATCH"].includes(req.method ?? "")
        ? {}
        : /\/releases\/\d+\/assets$/.test(url.pathname)
          ? { bytes: Buffer.concat(await req.toArray()) }
          : await readJson(req);
      const routed = await this.route(
        req.method ?? "GET",
        url,
        authorization,
        body,
        req.headers.accept ?? "",
      );
      reply = Array.isArray(routed)
        ? { status: routed[0], json: routed[1], headers: routed[2] ?? {} }
        : routed;
    } catch (err) {
      const status = err instanceof HttpFailure ? err.status : 500;
      const headers = err instanceof HttpFailure ? err.headers : {};
      reply = { status, json: { message: (err as Error).message }, headers };
    }
    const headers: Record<string, string> = {
      "Content-Type": "application/json; charset=utf-8",
      ...reply.headers,
    };
    let bytes: Buffer | string;
    if ("raw" in reply) bytes = reply.raw;
    else {
      bytes = JSON.stringify(reply.json);
      if (req.method === "GET" && reply.status === 200) {
        // GitHub's validator: a hash of the answer; the same answer to If-None-Match is a 304.
        const etag = `W/"${createHash("sha1").update(bytes).digest("hex")}"`;
        headers.ETag = etag;
        if (ifNoneMatch === etag) [reply.status, bytes] = [304, ""];
      }
    }
    entry.status = reply.status;
    if (budget) {
      if (reply.status !== 304 && budget.remaining > 0) budget.remaining--;
      Object.assign(headers, this.budgetHeaders(budget));
    }
    res.writeHead(reply.status, headers);
    res.end(bytes);
  }

  /** The REST budget a request spends from: installation requests, but GraphQL and /rate_limit. */
  private budgetFor(
    auth: string,
    path: string,
  ): { limit: number; remaining: number; resetAt: number } | undefined {
    const budget = this.restBudget;
    if (!budget || auth.toLowerCase() === "bearer" || path === "/graphql" || path === "/rate_limit")
      return undefined;
    if (Date.now() / 1000 >= budget.resetAt) {
      budget.remaining = budget.limit;
      budget.resetAt = Math.ceil(Date.now() / 1000) + 3600;
    }
    return budget;
  }

  private budgetHeaders(budget: {
    limit: number;
    remaining: number;
    resetAt: number;
  }): Record<string, string> {
    return {
      "x-ratelimit-limit": String(budget.limit),
      "x-ratelimit-remaining": String(budget.remaining),
      "x-ratelimit-used": String(budget.limit - budget.remaining),
      "x-ratelimit-reset": String(budget.resetAt),
      "x-ratelimit-resource": "core",
    };
  }

  private async route(
    method: string,
    url: URL,
    authorization: string,
    body: Record<string, unknown>,
    accept = "",
  ): Promise<[number, unknown, Record<string, string>?] | Reply> {
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (method === "GET" && path === "/rate_limit") {
      this.checkToken(authorization);
      const core = this.restBudget ?? {
        limit: 5000,
        remaining: 5000,
        resetAt: Math.ceil(Date.now() / 1000) + 3600,
      };
      const rate = {
        limit: core.limit,
        remaining: core.remaining,
        used: core.limit - core.remaining,
        reset: core.resetAt,
      };
      const graphql = {
        limit: 5000,
        remaining: this.graphqlRemaining,
        used: 5000 - this.graphqlRemaining,
        reset: Math.ceil(Date.now() / 1000) + 3600,
      };
      return [200, { resources: { core: rate, graphql }, rate }];
    }
    if (method === "GET" && path === "/app") {
      checkAppJwt(authorization, this.publicKey, this.options.appId);
      return [200, { id: this.options.appId, slug: "infinity-backup", name: "infinity-backup" }];
    }
    if (method === "GET" && (m = /^\/orgs\/([^/]+)\/installation$/.exec(path))) {
      checkAppJwt(authorization, this.publicKey, this.options.appId);
      const id = this.installations.get(m[1]!.toLowerCase());
      if (id === undefined) throw new HttpFailure(404, "Not Found");
      const account = { login: m[1], type: "Organization" };
      return [200, { id, app_id: this.options.appId, account, permissions: this.permissions }];
    }
    if (method === "GET" && path === "/app/installations") {
      checkAppJwt(authorization, this.publicKey, this.options.appId);
      const all = [...this.installations].map(([login, id]) => ({
        id,
        app_id: this.options.appId,
        account: { login, type: "Organization" },
        permissions: this.permissions,
      }));
      return [200, all];
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path))) {
      checkAppJwt(authorization, this.publicKey, this.options.appId);
      const id = this.installations.get(m[1]!.toLowerCase());
      if (id === undefined || !this.find(m[1]!, m[2]!)) throw new HttpFailure(404, "Not Found");
      const account = { login: m[1], type: "Organization" };
      return [200, { id, app_id: this.options.appId, account, permissions: this.permissions }];
    }
    if (method === "POST" && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
      checkAppJwt(authorization, this.publicKey, this.options.appId);
      const installationId = Number(m[1]);
      if (![...this.installations.values()].includes(installationId)) throw new HttpFailure(404, "Not Found");
      const token = `ghs_${randomBytes(18).toString("base64url")}`;
      const expiresAt = Date.now() + this.tokenLifetimeMs;
      this.tokens.set(token, { installationId, expiresAt });
      this.tokensIssued++;
      const expires_at = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"); // GitHub's form
      return [201, { token, expires_at, permissions: this.permissions }];
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(path))) {
      // A file of the default branch, read from the git server's repository (base64, as GitHub does).
      this.checkToken(authorization);
      const repo = this.find(m[1]!, m[2]!);
      if (!repo) throw new HttpFailure(404, "Not Found");
      const file = decodeURIComponent(m[3]!);
      const shown = await runGit(["show", `HEAD:${file}`], {
        env: { GIT_DIR: join(this.options.gitRoot, repo.owner, `${repo.name}.git`) },
      });
      if (shown.code !== 0) throw new HttpFailure(404, "Not Found");
      const content = Buffer.from(shown.stdout, "utf8").toString("base64");
      return [200, { type: "file", path: file, name: file.split("/").pop(), encoding: "base64", content }];
    }
    if (method === "POST" && path === "/graphql") return this.graphql(this.checkToken(authorization), body);
    if (method === "POST" && path === "/markdown") {
      const org = this.orgOf(this.checkToken(authorization));
      const html = this.userContent.renderMarkdown(String(body.text ?? ""), String(body.context ?? ""), org);
      return { status: 200, raw: html, headers: { "Content-Type": "text/html;charset=utf-8" } };
    }
    if (method === "GET" && path === "/installation/repositories") {
      const org = this.orgOf(this.checkToken(authorization));
      const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1));
      const all = this.repos.filter((r) => r.owner.toLowerCase() === org);
      const pages = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) =>
        `<${this.url}${path}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
      const links = [
        ...(page < pages ? [link(page + 1, "next"), link(pages, "last")] : []),
        ...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []),
      ];
      const repositories = all.slice((page - 1) * perPage, page * perPage).map((r) => this.repoJson(r));
      const headers = links.length ? { Link: links.join(", ") } : undefined;
      return [200, { total_count: all.length, repositories }, headers];
    }
    if (method === "POST" && (m = /^\/orgs\/([^/]+)\/repos$/.exec(path))) {
      const org = m[1]!;
      if (this.orgOf(this.checkToken(authorization)) !== org.toLowerCase())
        throw new HttpFailure(403, "Resource not accessible by integration");
      const name = String(body.name ?? "");
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new HttpFailure(422, "Validation Failed");
      if (this.find(org, name))
        throw new HttpFailure(422, "Repository creation failed: name already exists on this account");
      await mkdir(join(this.options.gitRoot, org), { recursive: true });
      await initBare(join(this.options.gitRoot, org, `${name}.git`));
      this.addRepo(`${org}/${name}`, { private: body.private !== false });
      return [201, this.repoJson(this.find(org, name)!)];
    }
    if (method === "GET" && (m = /^\/orgs\/([^/]+)(\/.*)?$/.exec(path))) {
      // The organization's own endpoints (github-standin-org.ts), for its installation only.
      const org = this.orgs.get(m[1]!.toLowerCase());
      if (!org || this.orgOf(this.checkToken(authorization)) !== m[1]!.toLowerCase())
        throw new HttpFailure(404, "Not Found");
      const reply = routeOrg(org, m[2] ?? "", url, { baseUrl: this.url, assetUrl: () => "" });
      if (reply) return reply;
      throw new HttpFailure(404, "Not Found");
    }
    if (this.routes.length && (m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path))) {
      const org = this.orgOf(this.checkToken(authorization));
      const repo = this.find(m[1]!, m[2]!);
      if (repo && repo.owner.toLowerCase() === org) {
        const rest = m[3] ?? "";
        const fault = this.takeFault(`${repo.owner}/${repo.name}`, rest + url.search);
        if (fault) return fault;
        const gitDir = join(this.options.gitRoot, repo.owner, `${repo.name}.git`);
        for (const extra of this.routes) {
          const answered = await extra({ method, rest, url, body, repo, gitDir });
          if (answered) return answered;
        }
      }
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path))) {
      const org = this.orgOf(this.checkToken(authorization));
      const repo = this.find(m[1]!, m[2]!);
      if (!repo || repo.owner.toLowerCase() !== org) throw new HttpFailure(404, "Not Found");
      const rest = m[3] ?? "";
      if (rest === "/installation") throw new HttpFailure(404, "Not Found"); // an app route, above
      const fault = this.takeFault(`${repo.owner}/${repo.name}`, rest + url.search);
      if (fault) return fault;
      if (repo.forbidden) throw new HttpFailure(403, "Resource not accessible by integration");
      if (rest === "") return [200, { ...this.repoJson(repo), ...repo.metadata.settings }];
      const reply = routeMetadata(repo.metadata, rest, url, accept, {
        baseUrl: this.url,
        assetUrl: (id) => this.signAsset(`${repo.owner}/${repo.name}`, id),
      });
      if (reply) return reply;
    }
    throw new HttpFailure(404, "Not Found");
  }

  /** GitHub's GraphQL endpoint: always HTTP 200 (with `errors` for a refused query), and its rate-limit headers. */
  private graphql(installationId: number, body: Record<string, unknown>): Reply {
    const org = this.orgOf(installationId);
    const query = String(body.query ?? "");
    const headers = {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(Math.max(0, --this.graphqlRemaining)),
      "x-ratelimit-used": String(5000 - this.graphqlRemaining),
      "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600),
      "x-ratelimit-resource": "graphql",
    };
    const fault = this.graphqlFaults.find((f) => f.times > 0 && (!f.query || f.query.test(query)));
    if (fault) {
      fault.times--;
      const faultHeaders = { ...headers, ...fault.headers };
      if (fault.raw !== undefined) return { status: fault.status, raw: fault.raw, headers: faultHeaders };
      return {
        status: fault.status,
        json: fault.json ?? { message: `HTTP ${fault.status}` },
        headers: faultHeaders,
      };
    }
    this.graphqlQueries.push({ query, variables: (body.variables ?? {}) as Record<string, unknown> });
    const readable = this.repos.filter((r) => r.owner.toLowerCase() === org && !r.forbidden);
    const json = answerGraphql(body, {
      repository: (owner, name) => {
        const repo = readable.find(
          (r) => r.owner.toLowerCase() === owner.toLowerCase() && r.name.toLowerCase() === name.toLowerCase(),
        );
        return (
          repo && { nameWithOwner: `${repo.owner}/${repo.name}`, databaseId: repo.id, meta: repo.metadata }
        );
      },
      readable: () => readable.map((r) => r.metadata),
      organization: (login) => (login.toLowerCase() === org ? this.orgs.get(org) : undefined),
    });
    return { status: 200, json, headers };
  }

  private takeFault(repo: string, rest: string): Reply | undefined {
    const fault = this.faults.find(
      (f) => f.times > 0 && f.repo.toLowerCase() === repo.toLowerCase() && (!f.path || f.path.test(rest)),
    );
    if (!fault) return undefined;
    fault.times--;
    const headers = fault.headers ?? {};
    if (fault.raw !== undefined) return { status: fault.status, raw: fault.raw, headers };
    return { status: fault.status, json: fault.json ?? { message: `HTTP ${fault.status}` }, headers };
  }

  /** A one-use signed URL of the asset host, as GitHub's are (the signature is the grant). */
  private signAsset(repo: string, id: number): string {
    const signature = randomBytes(12).toString("hex");
    this.signedAssets.set(signature, { repo, id });
    return `${this.assetUrl}/download/${id}?sig=${signature}`;
  }

  private serveAsset(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.assetUrl);
    const authorization = req.headers.authorization;
    this.assetRequests.push({ path: url.pathname, ...(authorization ? { authorization } : {}) });
    const signed = this.signedAssets.get(url.searchParams.get("sig") ?? "");
    const bytes = signed && this.metadata(signed.repo).assetBytes.get(signed.id);
    if (!signed || !bytes || authorization) {
      // S3-like hosts refuse a request with two grants, and so does this one.
      res.writeHead(authorization ? 400 : 403).end();
      return;
    }
    this.signedAssets.delete(url.searchParams.get("sig")!);
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(bytes.length),
    });
    for (let at = 0; at < bytes.length; at += this.assetChunkBytes)
      res.write(bytes.subarray(at, at + this.assetChunkBytes));
    res.end();
  }

  /** Checks "token <installation token>"; returns the installation id. */
  private checkToken(authorization: string): number {
    const [scheme, token = ""] = authorization.split(" ");
    const issued = scheme?.toLowerCase() === "token" ? this.tokens.get(token) : undefined;
    if (!issued || issued.expiresAt <= Date.now()) throw new HttpFailure(401, "Bad credentials");
    return issued.installationId;
  }

  private orgOf(installationId: number): string {
    return [...this.installations].find(([, id]) => id === installationId)?.[0] ?? "";
  }

  private find(owner: string, name: string): Repo | undefined {
    return this.repos.find(
      (r) => r.owner.toLowerCase() === owner.toLowerCase() && r.name.toLowerCase() === name.toLowerCase(),
    );
  }

  private repoJson(r: Repo) {
    const full_name = `${r.owner}/${r.name}`;
    return {
      id: r.id,
      name: r.name,
      full_name,
      owner: { login: r.owner, type: "Organization" },
      private: r.private,
      fork: r.fork,
      archived: r.archived,
      clone_url: `${this.options.gitUrl}/${full_name}.git`,
      size: r.size ?? 0,
      has_wiki: r.hasWiki ?? false,
      // Fields GitHub always sends for a repository (fixed times: the stand-in has no clock of its own).
      default_branch: "main",
      visibility: r.private ? "private" : "public",
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      pushed_at: "2024-01-01T00:00:00Z",
    };
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await text(req);
  try {
    return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  } catch {
    throw new HttpFailure(400, "Problems parsing JSON");
  }
}

/** Starts a stand-in on a random port of 127.0.0.1. */
export function startGitHubStandin(options: GitHubStandinOptions): Promise<GitHubStandin> {
  return new GitHubStandin(options).start();
}

const BAD_JWT = "A JSON web token could not be decoded";

/** Checks "Bearer <JWT>" as GitHub does: RS256 by the app's key, iss = app id, alive, at most 10 minutes long. */
function checkAppJwt(authorization: string, publicKey: KeyObject, appId: number): void {
  const [scheme, jwt = ""] = authorization.split(" ");
  const [head = "", payload = "", signature = ""] = jwt.split(".");
  const decode = (part: string) =>
    JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  let header: Record<string, unknown>, claims: Record<string, unknown>;
  try {
    [header, claims] = [decode(head), decode(payload)];
  } catch {
    throw new HttpFailure(401, BAD_JWT);
  }
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${head}.${payload}`),
    publicKey,
    Buffer.from(signature, "base64url"),
  );
  if (scheme?.toLowerCase() !== "bearer" || header.alg !== "RS256" || !signed)
    throw new HttpFailure(401, BAD_JWT);
  const now = Math.floor(Date.now() / 1000);
  const [iat, exp] = [Number(claims.iat), Number(claims.exp)];
  if (String(claims.iss) !== String(appId))
    throw new HttpFailure(401, "'Issuer' claim ('iss') must be the app id");
  if (!(exp > now) || exp - iat > 600 || iat > now + 60)
    throw new HttpFailure(401, "'Expiration time' claim ('exp') is invalid");
}
