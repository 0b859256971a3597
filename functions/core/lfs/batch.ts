// The Git LFS batch API (https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md): one POST
// to "<repo>.git/info/lfs/objects/batch" says where each object can be downloaded; each object is
// then one GET of its `actions.download.href` with that action's headers. The remote's credentials
// go to the git host only, never to another host the server points at.
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { SourceError } from "../errors.js";
import { displayUrl } from "../git/transport.js";
import type { GitRemote } from "../ports.js";
import type { LfsPointer } from "./pointer.js";
import type { LfsLocated, LfsObjectSource, LfsUnavailable } from "./source.js";

/** How often and how long a transient failure (5xx, 429, a dropped connection) is retried. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  /** The longest wait, also for a server's retry-after. */
  maxDelayMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };
const MEDIA_TYPE = "application/vnd.git-lfs+json";

const batchResponseSchema = z.object({
  transfer: z.string().optional(),
  objects: z.array(
    z.object({
      oid: z.string(),
      size: z.number().int().nonnegative().optional(),
      actions: z
        .object({
          download: z
            .object({ href: z.url(), header: z.record(z.string(), z.string()).optional() })
            .optional(),
        })
        .optional(),
      error: z.object({ code: z.number().int(), message: z.string() }).optional(),
    }),
  ),
});

/** The LFS server's root for a git remote: "<repo>.git/info/lfs", as git-lfs derives it. */
export function lfsEndpoint(gitUrl: string): string {
  const base = gitUrl.replace(/\/+$/, "");
  return `${base.endsWith(".git") ? base : `${base}.git`}/info/lfs`;
}

export class LfsBatchSource implements LfsObjectSource {
  readonly batchSize = 100;
  readonly where: string;
  private readonly endpoint: string;

  constructor(
    private readonly remote: GitRemote,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.endpoint = lfsEndpoint(remote.url);
    this.where = `the LFS server of ${displayUrl(remote.url)}`;
  }

  locate(pointers: LfsPointer[], signal?: AbortSignal): Promise<LfsLocated[]> {
    return this.ask(pointers, signal, false);
  }

  /** One batch request; `renewed`: these actions replace expired ones and are not renewed again. */
  private async ask(
    pointers: LfsPointer[],
    signal: AbortSignal | undefined,
    renewed: boolean,
  ): Promise<LfsLocated[]> {
    const url = `${this.endpoint}/objects/batch`;
    const response = await this.send(url, signal, {
      method: "POST",
      headers: {
        "User-Agent": "git-lfs/3 (infinity-backup)",
        ...this.remote.headers,
        Accept: MEDIA_TYPE,
        "Content-Type": MEDIA_TYPE,
      },
      body: JSON.stringify({
        operation: "download",
        transfers: ["basic"],
        objects: pointers.map(({ oid, size }) => ({ oid, size })),
        hash_algo: "sha256",
      }),
    });
    if (response.status === 401)
      throw new SourceError(`${this.where}: access refused (check the credentials for this source)`);
    if (!response.ok) {
      // The server will not say for any of them (403 no access to LFS, 404, 422…): each is unavailable.
      const reason = `the LFS server refused the batch request: ${await errorText(response)}`;
      return pointers.map((pointer) => ({ pointer, unavailable: { status: response.status, reason } }));
    }
    let parsed: z.infer<typeof batchResponseSchema>;
    try {
      parsed = batchResponseSchema.parse(await response.json());
    } catch (err) {
      throw new SourceError(`${this.where} answered the batch request with an unreadable body`, {
        cause: err,
      });
    }
    if (parsed.transfer && parsed.transfer !== "basic")
      throw new SourceError(`${this.where} chose transfer "${parsed.transfer}", not "basic"`);
    const answers = new Map(parsed.objects.map((o) => [o.oid, o]));
    return pointers.map((pointer): LfsLocated => {
      const answer = answers.get(pointer.oid);
      if (!answer) return { pointer, unavailable: { reason: "the LFS server did not answer for it" } };
      if (answer.error)
        return { pointer, unavailable: { status: answer.error.code, reason: answer.error.message } };
      const download = answer.actions?.download;
      if (!download) return { pointer, unavailable: { reason: "the LFS server gave no download action" } };
      if (!/^https?:$/.test(new URL(download.href).protocol))
        return { pointer, unavailable: { reason: "the LFS server gave a download URL that is not http(s)" } };
      return {
        pointer,
        open: () => this.download(pointer, download.href, download.header ?? {}, signal, renewed),
      };
    });
  }

  private async download(
    pointer: LfsPointer,
    href: string,
    header: Record<string, string>,
    signal: AbortSignal | undefined,
    renewed = false,
  ): Promise<Readable | LfsUnavailable> {
    // git-lfs sends the remote's credentials only to the git host itself, and only when the
    // action brings no Authorization of its own.
    const sameHost = new URL(href).origin === new URL(this.endpoint).origin;
    const ownAuth = Object.keys(header).some((name) => name.toLowerCase() === "authorization");
    const headers = { ...(sameHost && !ownAuth ? this.remote.headers : {}), ...header };
    const response = await this.send(href, signal, { method: "GET", headers });
    if ((response.status === 401 || response.status === 403) && !renewed) {
      // A download action expires (GitHub's last minutes to an hour): ask the batch API again, once.
      await response.body?.cancel();
      const [fresh] = await this.ask([pointer], signal, true);
      if (!fresh) return { reason: "the LFS server did not answer for it" };
      return "unavailable" in fresh ? fresh.unavailable : fresh.open();
    }
    if (response.status === 404 || response.status === 410 || response.status === 403) {
      await response.body?.cancel();
      return { status: response.status, reason: `the object's download answered HTTP ${response.status}` };
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new SourceError(
        `LFS object ${pointer.oid}: ${displayUrl(href)} answered HTTP ${response.status}`,
      );
    }
    const where = displayUrl(href);
    const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
    return Readable.from(brokenConnectionNamed(body, `LFS object ${pointer.oid} from ${where}`), {
      objectMode: false,
    });
  }

  /** One request, retried on 5xx, 429 (after its retry-after) and connection failures. */
  private async send(url: string, signal: AbortSignal | undefined, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await fetch(url, { ...init, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (signal?.aborted) throw err;
        failure = err;
      }
      const transient = !response || response.status >= 500 || response.status === 429;
      if (!transient) return response!;
      if (attempt >= this.retry.attempts) {
        await response?.body?.cancel();
        const why = response ? `HTTP ${response.status}` : (failure as Error).message;
        throw new SourceError(`${displayUrl(url)}: ${why} after ${attempt} attempts`, {
          ...(failure ? { cause: failure } : {}),
        });
      }
      const wait = retryAfterMs(response) ?? this.retry.baseDelayMs * 2 ** (attempt - 1);
      await response?.body?.cancel();
      await sleep(Math.min(wait, this.retry.maxDelayMs), undefined, signal ? { signal } : {});
    }
  }
}

/** A retry-after header (seconds or an HTTP date) in milliseconds, when there is one. */
function retryAfterMs(response: Response | undefined): number | undefined {
  const value = response?.headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The server's message from an error answer (its JSON `message`, else the status), kept short. */
async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === "string") return `HTTP ${response.status}: ${message.slice(0, 200)}`;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP ${response.status}`;
}

/** fetch reports a connection lost mid-body as a bare "terminated": say which object. */
async function* brokenConnectionNamed(body: Readable, what: string): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (err) {
    const detail = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new SourceError(`${what}: the connection broke mid-download (${detail})`, { cause: err });
  }
}
