// Opens an attachment's bytes as a stream. A link on GitHub's web origin is asked for with the
// installation token (the client adds it); its redirect to the storage host, and every link on an
// image host, is followed without it: a storage URL carries its own grant, and a second grant makes
// such hosts refuse. A private image the token cannot open (GitHub refuses App tokens there) is
// asked for again through the Markdown API, which answers it as a short-lived signed URL.
// Neither a signed URL nor a pasted JWT ever reaches an error, a log line or a file.
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DeadlineError, SourceError } from "../../core/errors.js";
import type { AttachmentLink, UserContentHosts } from "./attachment-urls.js";
import { Unavailable, type RepoApi } from "./metadata-http.js";

export type Opened =
  | { found: true; body: Readable; contentType: string | null; length?: number }
  /** Not there (404, 410), or refused (401, 403, 451…): recorded, never a failure. */
  | { found: false; status: number };

const MAX_HOPS = 5;
const ATTEMPTS = 3;

export class AttachmentOpener {
  constructor(
    private readonly api: RepoApi,
    private readonly hosts: UserContentHosts,
    private readonly signal?: AbortSignal,
  ) {}

  /** The bytes `link` names. Throws SourceError for what is not an answer about it (5xx, unreachable). */
  async open(link: AttachmentLink, what: string): Promise<Opened> {
    const opened = await this.follow(link.fetch, MAX_HOPS, what);
    if (opened.found || opened.status !== 404 || !link.web || !link.image) return opened;
    const signed = await this.signedUrl(link.url, what);
    return signed ? this.follow(signed, MAX_HOPS, what) : opened;
  }

  private async follow(url: string, hops: number, what: string): Promise<Opened> {
    const onWeb = new URL(url).origin === this.hosts.web;
    const answer = onWeb ? await this.api.getWeb(url, what) : await this.fetchPlain(url, what);
    if (answer.status === 200 && answer.body) {
      const length = Number(header(answer.headers, "content-length"));
      return {
        found: true,
        body: Readable.fromWeb(answer.body),
        contentType: header(answer.headers, "content-type") ?? null,
        ...(Number.isFinite(length) && length >= 0 ? { length } : {}),
      };
    }
    await answer.body?.cancel().catch(() => undefined);
    const location = header(answer.headers, "location");
    if (answer.status >= 300 && answer.status < 400 && location) {
      if (hops <= 0) throw new SourceError(`${what}: too many redirects`, { permanent: false });
      return this.follow(new URL(location, url).href, hops - 1, what);
    }
    if (answer.status >= 400) return { found: false, status: answer.status };
    throw new SourceError(`${what}: GitHub answered HTTP ${answer.status} without the attachment`, {
      permanent: false,
    });
  }

  /** A GET without credentials, retried on 5xx, 429 and network failures. */
  private async fetchPlain(
    url: string,
    what: string,
  ): Promise<{ status: number; headers: Record<string, unknown>; body?: WebReadableStream }> {
    for (let attempt = 1; ; attempt++) {
      if (this.signal?.aborted) throw this.aborted();
      this.api.counts.total++;
      let response: Response | undefined;
      try {
        response = await fetch(url, { redirect: "manual", signal: this.signal ?? null });
      } catch {
        if (this.signal?.aborted) throw this.aborted();
        // The URL may carry a grant: neither it nor fetch's error (which may quote it) goes on.
        if (attempt >= ATTEMPTS) throw new SourceError(`${what}: the attachment's host could not be reached`);
      }
      if (response && response.status < 500 && response.status !== 429)
        return {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          ...(response.body ? { body: response.body as WebReadableStream } : {}),
        };
      await response?.body?.cancel().catch(() => undefined);
      if (attempt >= ATTEMPTS)
        throw new SourceError(
          `${what}: the attachment's host answered HTTP ${response?.status ?? "nothing"} ${attempt} times`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt * attempt));
    }
  }

  /**
   * GitHub renders a private image as a signed URL on its image host, valid a few minutes: the one
   * way an App reaches it. Undefined when the rendering has none (the image is really gone).
   */
  private async signedUrl(url: string, what: string): Promise<string | undefined> {
    let html: unknown;
    try {
      html = await this.api.post(
        "/markdown",
        { text: `![](${url})`, mode: "gfm", context: this.api.repo },
        what,
      );
    } catch (err) {
      if (err instanceof Unavailable) return undefined;
      throw err;
    }
    if (typeof html !== "string") return undefined;
    for (const [, src] of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) {
      const candidate = src!.replace(/&amp;/g, "&");
      let parsed: URL;
      try {
        parsed = new URL(candidate);
      } catch {
        continue;
      }
      if (this.hosts.images.includes(parsed.origin) && parsed.searchParams.has("jwt")) return parsed.href;
    }
    return undefined;
  }

  private aborted(): Error {
    const reason: unknown = this.signal?.reason;
    if (reason instanceof Error && reason.name !== "AbortError") return reason;
    return new DeadlineError(`collecting the attachments of ${this.api.repo} was stopped before it finished`);
  }
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return value === undefined || value === null ? undefined : String(value);
}
