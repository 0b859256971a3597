// The GitHub stand-in's user-content hosts, each its own origin as GitHub's are: the web host
// (attachment paths, answered with a redirect to a signed storage URL; a private repository's only
// for its installation's token, or not even then for a file that `refusesToken`, as GitHub treats
// App tokens), the storage host, the old image host (public, refuses any Authorization like the
// real CDN), and the private image host (only behind a JWT that POST /markdown hands out).
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RepoMetadata } from "./github-standin-metadata.js";

/** What one attachment is, in a RepoMetadata's `attachments` (keyed by its path on its host). */
export interface StandinAttachment {
  host: "web" | "images" | "private-images";
  bytes: Buffer;
  contentType: string;
  /** The web host answers 404 to an installation token too (GitHub does so for Apps on private repositories). */
  refusesToken?: boolean;
  /** Send no Content-Length: the size shows only as the bytes come. */
  chunked?: boolean;
}

export interface UserContentOrigins {
  web: string;
  images: string;
  privateImages: string;
}

interface Repo {
  owner: string;
  name: string;
  private: boolean;
  metadata: RepoMetadata;
}

export interface UserContentRequest {
  host: "web" | "storage" | "images" | "private-images";
  path: string;
  /** The Authorization header's scheme, when one was sent (never its value). */
  auth?: string;
  status: number;
}

export class UserContentStandin {
  /** Every request the hosts received (paths without query: signatures and JWTs stay out). */
  readonly requests: UserContentRequest[] = [];
  readonly origins: UserContentOrigins = { web: "", images: "", privateImages: "" };
  /** Bytes are sent in chunks of this many (to show they are streamed). */
  chunkBytes = 16 * 1024;
  /** Answers the next `times` requests to `host` with `status` instead. */
  readonly faults: { host: UserContentRequest["host"]; status: number; times: number }[] = [];
  private storageUrl = "";
  private readonly signed = new Map<string, StandinAttachment>();
  private readonly jwts = new Map<string, { attachment: StandinAttachment; expires: number }>();
  private readonly servers: Server[];

  constructor(
    private readonly repos: () => readonly Repo[],
    /** The org whose installation token `authorization` carries, or undefined. */
    private readonly orgOf: (authorization: string) => string | undefined,
  ) {
    this.servers = [
      createServer((req, res) => this.web(req, res)),
      createServer((req, res) => this.storage(req, res)),
      createServer((req, res) => this.images(req, res, "images")),
      createServer((req, res) => this.images(req, res, "private-images")),
    ];
  }

  async start(): Promise<void> {
    for (const server of this.servers) server.listen(0, "127.0.0.1");
    await Promise.all(this.servers.map((s) => once(s, "listening")));
    const [web, storage, images, privateImages] = this.servers.map(
      (s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    );
    Object.assign(this.origins, { web, images, privateImages });
    this.storageUrl = storage!;
  }

  async close(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /**
   * GitHub's Markdown API for `context`'s repository: an image on the web host that the installation
   * of `org` may see comes out as a JWT URL on the private image host, valid a few minutes.
   */
  renderMarkdown(text: string, context: string, org: string): string {
    const html = text.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_all, alt: string, src: string) => {
      let url = src;
      const parsed = new URL(src, "http://invalid");
      const found = parsed.origin === this.origins.web ? this.find("web", parsed.pathname) : undefined;
      if (
        found &&
        found.repo.owner.toLowerCase() === org &&
        `${found.repo.owner}/${found.repo.name}`.toLowerCase() === context.toLowerCase()
      ) {
        const jwt = randomBytes(16).toString("base64url");
        this.jwts.set(jwt, { attachment: found.attachment, expires: Date.now() + 5 * 60_000 });
        url = `${this.origins.privateImages}${parsed.pathname}?jwt=${jwt}`;
      }
      return `<a target="_blank" rel="noopener noreferrer" href="${url.replace(/&/g, "&amp;")}"><img src="${url.replace(/&/g, "&amp;")}" alt="${alt}" style="max-width: 100%;"></a>`;
    });
    return `<p>${html}</p>\n`;
  }

  private find(host: StandinAttachment["host"], path: string) {
    for (const repo of this.repos()) {
      const attachment = repo.metadata.attachments.get(path);
      if (attachment?.host === host) return { repo, attachment };
    }
    return undefined;
  }

  private note(
    host: UserContentRequest["host"],
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string> = {},
  ): ServerResponse {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const auth = req.headers.authorization?.split(" ")[0];
    this.requests.push({ host, path, ...(auth ? { auth } : {}), status });
    return res.writeHead(status, headers);
  }

  private faulted(host: UserContentRequest["host"], req: IncomingMessage, res: ServerResponse): boolean {
    const fault = this.faults.find((f) => f.host === host && f.times > 0);
    if (!fault) return false;
    fault.times--;
    this.note(host, req, res, fault.status).end();
    return true;
  }

  private web(req: IncomingMessage, res: ServerResponse): void {
    if (this.faulted("web", req, res)) return;
    const path = new URL(req.url ?? "/", this.origins.web).pathname;
    const found = this.find("web", path);
    const org = this.orgOf(req.headers.authorization ?? "");
    const mayRead =
      found &&
      (!found.repo.private || (org === found.repo.owner.toLowerCase() && !found.attachment.refusesToken));
    if (!found || !mayRead) return void this.note("web", req, res, 404).end("Not Found");
    const sig = randomBytes(12).toString("hex");
    this.signed.set(sig, found.attachment);
    const location = `${this.storageUrl}/storage/${randomBytes(4).toString("hex")}?X-Amz-Signature=${sig}`;
    this.note("web", req, res, 302, { Location: location }).end();
  }

  private storage(req: IncomingMessage, res: ServerResponse): void {
    if (this.faulted("storage", req, res)) return;
    const sig = new URL(req.url ?? "/", this.storageUrl).searchParams.get("X-Amz-Signature") ?? "";
    const attachment = this.signed.get(sig);
    // S3-like: a second grant (an Authorization header) is refused.
    if (req.headers.authorization) return void this.note("storage", req, res, 400).end();
    if (!attachment) return void this.note("storage", req, res, 403).end();
    this.signed.delete(sig);
    this.send("storage", req, res, attachment);
  }

  private images(req: IncomingMessage, res: ServerResponse, host: "images" | "private-images"): void {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers.authorization) return void this.note(host, req, res, 400).end();
    let attachment = this.find(host, url.pathname)?.attachment;
    if (host === "private-images") {
      const jwt = this.jwts.get(url.searchParams.get("jwt") ?? "");
      attachment = jwt && jwt.expires > Date.now() ? jwt.attachment : undefined;
    }
    if (!attachment) return void this.note(host, req, res, 404).end();
    this.send(host, req, res, attachment);
  }

  private send(
    host: UserContentRequest["host"],
    req: IncomingMessage,
    res: ServerResponse,
    a: StandinAttachment,
  ) {
    this.note(host, req, res, 200, {
      "Content-Type": a.contentType,
      ...(a.chunked ? {} : { "Content-Length": String(a.bytes.length) }),
    });
    for (let at = 0; at < a.bytes.length; at += this.chunkBytes)
      res.write(a.bytes.subarray(at, at + this.chunkBytes));
    res.end();
  }
}
