// A request body read by us, not by the Functions Framework. The framework parses every body (JSON,
// text, forms, raw) with body-parser up to 1 GB before a function runs: an unsigned 30 MB nested
// JSON array costs over a gigabyte. A function marked with rawBodyFunction gets its request first:
// headers checked before a byte of the body is read, the body read to a cap (413 past it, nothing
// more buffered), and only then the framework, which skips a body already read (req.rawBody holds
// it). The framework has no hook for this, so getServer is wrapped where main.js and testing.js
// call it (build/src/server.js); installRawBodyGate fails loudly if that module changes shape.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { log } from "../log.js";

/** A refusal decided on the headers alone. */
export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export interface RawBodyOptions {
  /** Bodies past this many bytes are answered 413, by Content-Length or once read that far. */
  maxBytes: number;
  /** Bytes all gated requests of this process may hold at once; past it, 503 with Retry-After. */
  budgetBytes: number;
  /** Looks at the method and headers before the body is read: a Refusal is answered at once. */
  precheck?: (req: IncomingMessage) => Refusal | undefined;
}

type Handler = (req: never, res: never) => unknown;
const GATE = Symbol.for("infinity-backup.raw-body-gate");
type Marked = Handler & { [GATE]?: RawBodyOptions & { name: string } };

/** Marks an HTTP function so that its server reads the body through the gate. */
export function rawBodyFunction<F extends Handler>(name: string, fn: F, options: RawBodyOptions): F {
  installRawBodyGate();
  (fn as Marked)[GATE] = { ...options, name };
  return fn;
}

type GetServer = (userFunction: unknown, options: unknown) => Server;
let installed = false;

/** Wraps the framework's getServer once per process; servers of unmarked functions are unchanged. */
export function installRawBodyGate(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@google-cloud/functions-framework");
  const serverModule = require(join(dirname(entry), "server.js")) as { getServer?: GetServer };
  const original = serverModule.getServer;
  if (typeof original !== "function") {
    throw new Error(
      "@google-cloud/functions-framework has no build/src/server.js getServer: the webhook's body gate " +
        "cannot be installed (functions/handlers/raw-body.ts)",
    );
  }
  serverModule.getServer = (userFunction, options) => {
    const server = original(userFunction, options);
    const gate = (userFunction as Marked | undefined)?.[GATE];
    if (gate) gateServer(server, gate);
    return server;
  };
  installed = true;
}

function gateServer(server: Server, options: RawBodyOptions & { name: string }): void {
  const app = server.listeners("request")[0] as RequestListener | undefined;
  if (!app) throw new Error("the framework's server has no request listener to gate");
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    void readGated(req, res, options).then((body) => {
      if (body === undefined) return;
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
      app(req, res);
    });
  });
}

let buffered = 0;

/** How long a refused sender may go on sending before its connection is cut. */
const DRAIN_MS = 10_000;

/** Bytes the gate holds right now (tests read it). */
export function gatedBytes(): number {
  return buffered;
}

/** The body, or undefined when the request was answered (refused) or went away. */
function readGated(
  req: IncomingMessage,
  res: ServerResponse,
  options: RawBodyOptions & { name: string },
): Promise<Buffer | undefined> {
  const refused = options.precheck?.(req);
  if (refused) return Promise.resolve(refuse(req, res, options.name, refused));
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    return Promise.resolve(refuse(req, res, options.name, tooLarge(options.maxBytes)));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let held = 0;
    const release = () => {
      buffered -= held;
      held = 0;
    };
    // The body is held until the function has answered (it reads req.rawBody until then).
    res.once("close", release);
    const stop = (refusal: Refusal | undefined) => {
      req.removeListener("data", onData);
      chunks.length = 0;
      release();
      resolve(refusal ? refuse(req, res, options.name, refusal) : undefined);
    };
    const onData = (chunk: Buffer) => {
      if (held + chunk.length > options.maxBytes) return stop(tooLarge(options.maxBytes));
      if (buffered + chunk.length > options.budgetBytes) {
        return stop({
          status: 503,
          message: "too many large requests at once; try again shortly",
          headers: { "Retry-After": "30" },
        });
      }
      held += chunk.length;
      buffered += chunk.length;
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, held)));
    req.once("error", () => stop(undefined));
    req.once("aborted", () => stop(undefined));
  });
}

function tooLarge(maxBytes: number): Refusal {
  return { status: 413, message: `request body is larger than ${maxBytes} bytes` };
}

/**
 * Answers a small JSON error. The unread rest of the body is read and dropped (not held), so that
 * the sender, still writing, gets the answer instead of a reset; a sender that keeps on past
 * DRAIN_MS is cut off.
 */
function refuse(req: IncomingMessage, res: ServerResponse, name: string, refusal: Refusal): undefined {
  log(refusal.status >= 500 ? "ERROR" : "WARNING", `${name}: ${refusal.message}`, {
    event: `${name}_error`,
    status: refusal.status,
  });
  if (!req.complete) {
    const cutOff = setTimeout(() => req.socket.destroy(), DRAIN_MS);
    cutOff.unref();
    req.once("end", () => clearTimeout(cutOff));
    req.once("close", () => clearTimeout(cutOff));
    req.resume();
  }
  if (!res.headersSent) {
    res.writeHead(refusal.status, {
      ...refusal.headers,
      "Content-Type": "application/json; charset=utf-8",
    });
    res.end(JSON.stringify({ error: refusal.message }));
  }
  return undefined;
}
