// A real git smart-HTTP server for tests: `git http-backend` as CGI behind node:http on 127.0.0.1,
// serving bare repos under one folder, with optional Basic auth and a knob to cut a pack mid-way.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gitEnv } from "../../functions/core/git/exec.js";

export interface GitHttpServerOptions {
  /** Folder of bare repositories, laid out "<owner>/<name>.git". */
  root: string;
  /**
   * When given, every request needs `Authorization: Basic` whose password passes this check
   * (given the "owner/name" the path points at); anything else is answered 401.
   */
  checkPassword?: (password: string, repo: string) => boolean;
  /** Serves "<repo>.git/info/lfs/…" (the LFS batch API lives on the git host), after the check above. */
  lfs?: (req: IncomingMessage, res: ServerResponse, repo: string) => Promise<void>;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as the client sent them: tests check no credential ever rides in a URL. */
  url: string;
  status: number;
  /** The Authorization header's password, or undefined when none was sent. */
  password?: string;
}

export interface GitHttpServer {
  /** "http://127.0.0.1:<port>". */
  url: string;
  root: string;
  /** The smart-HTTP URL of "owner/name". */
  remoteUrl(repo: string): string;
  /** Fault injection: cut every git-upload-pack POST response after this many body bytes. */
  faults: { cutUploadPackAfterBytes?: number };
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function basicPassword(req: IncomingMessage): { user: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Finds the end of the CGI header block ("\r\n\r\n", or "\n\n" from a lax CGI). */
function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return lf >= 0 ? { at: lf, length: 2 } : undefined;
}

/** Sets status and headers on `res` from CGI header lines ("Status: 404 Not Found", "Name: value"). */
function applyCgiHeaders(res: ServerResponse, block: string): void {
  for (const line of block.split(/\r?\n/).filter(Boolean)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") res.statusCode = Number.parseInt(value, 10);
    else res.setHeader(name, value);
  }
}

async function serve(
  options: GitHttpServerOptions,
  faults: GitHttpServer["faults"],
  req: IncomingMessage,
  res: ServerResponse,
  record: RecordedRequest,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const repo = /^\/([^/]+\/[^/]+?)(?:\.git)?\//.exec(url.pathname)?.[1] ?? "";
  const credentials = basicPassword(req);
  record.password = credentials?.password;
  if (options.checkPassword && !(credentials && options.checkPassword(credentials.password, repo))) {
    res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"', "Content-Type": "text/plain" });
    res.end("authentication required\n");
    return;
  }
  if (options.lfs && /\.git\/info\/lfs\//.test(url.pathname)) return options.lfs(req, res, repo);
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: options.root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: decodeURIComponent(url.pathname),
    REQUEST_METHOD: req.method ?? "GET",
    QUERY_STRING: url.search.replace(/^\?/, ""),
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    // Push is allowed to everyone who passed the check above (http-backend refuses anonymous push).
    // Fetch filters are on, as on GitHub (the tag probe of upload-pack.ts asks for one).
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: "true",
    GIT_CONFIG_KEY_1: "uploadpack.allowFilter",
    GIT_CONFIG_VALUE_1: "true",
  };
  if (credentials) env.REMOTE_USER = credentials.user;
  if (req.headers["content-type"]) env.CONTENT_TYPE = req.headers["content-type"];
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
  // A CGI host would hand the header over as HTTP_GIT_PROTOCOL, which git before 2.34 ignores.
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env.GIT_PROTOCOL = protocol;

  const child = spawn("git", ["http-backend"], { env: gitEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  child.stdin.on("error", () => undefined); // http-backend may exit before reading a refused body
  req.pipe(child.stdin);
  res.once("close", () => {
    if (!res.writableFinished) child.kill(); // the client went away mid-response
  });
  const exited = once(child, "close");

  const cutAfter =
    req.method === "POST" && url.pathname.endsWith("/git-upload-pack")
      ? faults.cutUploadPackAfterBytes
      : undefined;
  let pending: Buffer | undefined = Buffer.alloc(0); // header bytes until the header block ends
  let sent = 0;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    let body = chunk;
    if (pending) {
      pending = Buffer.concat([pending, chunk]);
      const end = headerEnd(pending);
      if (!end) continue;
      applyCgiHeaders(res, pending.subarray(0, end.at).toString("latin1"));
      body = pending.subarray(end.at + end.length);
      pending = undefined;
    }
    if (cutAfter !== undefined && sent + body.length >= cutAfter) {
      // Deliver exactly `cutAfter` bytes, then drop the TCP connection: a source dying mid-pack.
      await new Promise<void>((resolve) => res.write(body.subarray(0, cutAfter - sent), () => resolve()));
      child.kill();
      res.socket?.destroy();
      return;
    }
    sent += body.length;
    if (!res.write(body)) await once(res, "drain");
  }
  const [code] = (await exited) as [number | null];
  if (pending) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(`git http-backend exited ${code} without a response: ${stderr}`);
    return;
  }
  res.end();
}

/** Starts the server on a random port of 127.0.0.1. */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const requests: RecordedRequest[] = [];
  const faults: GitHttpServer["faults"] = {};
  const server = createServer((req, res) => {
    const record: RecordedRequest = { method: req.method ?? "", url: req.url ?? "", status: 0 };
    requests.push(record);
    res.once("finish", () => (record.status = res.statusCode));
    serve(options, faults, req, res, record).catch((err: Error) => {
      if (res.headersSent) return void res.socket?.destroy();
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`git http server: ${err.message}`);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    root: options.root,
    remoteUrl: (repo) => `${url}/${repo}.git`,
    faults,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
