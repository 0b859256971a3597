// How we reach git-upload-pack: a local `git upload-pack` over stdio for paths and file://, or
// smart HTTP for http(s)://. Both speak protocol v2; credentials travel only in headers.
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { RepositoryNotFoundError, SourceError } from "../errors.js";
import type { GitRemote } from "../ports.js";
import { startGit, type GitRun } from "./exec.js";
import { FLUSH, PktReader } from "./pkt-line.js";

export interface UploadPackConnection {
  /** Capability lines the server advertised ("fetch=shallow", "object-format=sha1", ...). */
  capabilities: string[];
  /** Sends one command request (already pkt-encoded) and gives a reader of its response. */
  request(body: Buffer): Promise<PktReader>;
  /**
   * Ends the conversation and waits for the server process, if any, to be gone. `abandon`: the
   * caller stopped reading before the end (an error elsewhere); a local upload-pack blocked on a
   * full pipe would never exit by itself, so it is killed.
   */
  close(abandon?: boolean): Promise<void>;
}

/** A URL safe to print: no userinfo, no query. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "file:") return url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url;
  }
}

export async function connect(remote: GitRemote): Promise<UploadPackConnection> {
  if (/^https?:\/\//i.test(remote.url)) return connectHttp(remote);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote.url) && !remote.url.startsWith("file://")) {
    throw new SourceError(
      `unsupported git URL scheme in ${displayUrl(remote.url)} (use a path, file:// or http(s)://)`,
      {
        permanent: true,
      },
    );
  }
  return connectLocal(remote.url.startsWith("file://") ? fileURLToPath(remote.url) : remote.url);
}

async function readAdvertisement(reader: PktReader, where: string): Promise<string[]> {
  let lines = await reader.lines();
  if (lines[0]?.startsWith("# service=")) lines = await reader.lines();
  if (lines[0] !== "version 2") {
    throw new SourceError(
      `${where} did not answer with git protocol v2 (got ${JSON.stringify(lines[0] ?? "")})`,
    );
  }
  return lines.slice(1);
}

async function connectLocal(path: string): Promise<UploadPackConnection> {
  // Filters on, as GitHub has them: the tag probe (upload-pack.ts, commitsAmong) asks for tree:0.
  const run: GitRun = startGit(["-c", "uploadpack.allowFilter=true", "upload-pack", path], {
    env: { GIT_PROTOCOL: "version=2" },
    stdin: "pipe",
  });
  run.done.catch(() => undefined); // reported through the reader or close()
  run.child.stdin!.on("error", () => undefined); // a dead upload-pack shows up as a short read
  const failed = run.done.then(
    () => new SourceError(`git upload-pack for ${path} ended early`),
    (err: Error) => new SourceError(`cannot read repository at ${path}: ${err.message}`, { cause: err }),
  );
  const reader = new PktReader(run.child.stdout!, () => ` (${path})`);
  const guarded = async <T>(work: Promise<T>): Promise<T> => {
    const result = await Promise.race([work, failed.then((e) => Promise.reject(e))]);
    return result as T;
  };
  const capabilities = await guarded(readAdvertisement(reader, path));
  return {
    capabilities,
    async request(body) {
      run.child.stdin!.write(body);
      return reader;
    },
    async close(abandon = false) {
      run.child.stdin!.end(FLUSH);
      if (abandon && run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill("SIGKILL");
        run.child.stdout!.destroy();
      }
      await run.done.catch(() => undefined);
    },
  };
}

async function httpCall(remote: GitRemote, path: string, init: RequestInit): Promise<Readable> {
  const base = remote.url.replace(/\/+$/, "");
  const url = `${base}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: {
        "Git-Protocol": "version=2",
        "User-Agent": "git/infinity-backup",
        ...remote.headers,
        ...init.headers,
      },
    });
  } catch (err) {
    throw new SourceError(
      `cannot reach ${displayUrl(base)}: ${(err as Error).message}${networkReason(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const why =
      response.status === 401 || response.status === 403
        ? "access refused (check the credentials for this source)"
        : response.status === 404
          ? "repository not found"
          : `HTTP ${response.status}`;
    if (response.status === 404) throw new RepositoryNotFoundError(`${displayUrl(base)}: ${why}`);
    throw new SourceError(`${displayUrl(base)}: ${why}`);
  }
  const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  return Readable.from(namedFailures(body, displayUrl(base)), { objectMode: false });
}

/** fetch reports a connection lost mid-body as a bare "TypeError: terminated": say which source. */
async function* namedFailures(body: Readable, where: string): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (err) {
    const detail = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new SourceError(`${where}: the connection broke mid-response (${detail})`, { cause: err });
  }
}

async function connectHttp(remote: GitRemote): Promise<UploadPackConnection> {
  const where = displayUrl(remote.url);
  const advertised = await httpCall(remote, "/info/refs?service=git-upload-pack", { method: "GET" });
  const capabilities = await readAdvertisement(new PktReader(advertised, () => ` (${where})`), where);
  advertised.destroy();
  return {
    capabilities,
    async request(body) {
      const response = await httpCall(remote, "/git-upload-pack", {
        method: "POST",
        body: new Uint8Array(body),
        headers: {
          "Content-Type": "application/x-git-upload-pack-request",
          Accept: "application/x-git-upload-pack-result",
        },
      });
      return new PktReader(response, () => ` (${where})`);
    },
    async close() {},
  };
}

/** fetch says only "fetch failed": what failed is in its cause (a refused TLS version, a certificate, ECONNREFUSED). */
function networkReason(err: unknown): string {
  const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
  if (!(cause instanceof Error)) return "";
  // OpenSSL's own text is a long line of internals; its code says the same.
  const reason = cause.code?.startsWith("ERR_SSL_") ? cause.code : cause.message || cause.code;
  return reason ? ` (${reason})` : "";
}
