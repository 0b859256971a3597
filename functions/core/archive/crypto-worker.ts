// The archive's AES-GCM segments and its SHA-256 on a worker thread, beside the thread that reads
// git's output, checks the pack and frames the tar. One worker per process, started on first use
// and unreferenced while idle (it never keeps a process alive by itself).
//
// Memory: every buffer crosses between the threads by transfer, never by copy, and whatever the
// worker holds goes back: a segment's plaintext returns with its ciphertext (the caller refills it
// for a later segment), and the ciphertext is the cipher's own output. The worker thus keeps no
// buffer after a message; V8 collects there rarely (its heap hardly grows), so a buffer left
// behind would stay in memory for a long time.
import { Worker } from "node:worker_threads";
import { BackupError } from "../errors.js";

type Request =
  | { op: "hash"; id: number }
  | { op: "update"; id: number; data: Uint8Array }
  | { op: "digest"; id: number; req: number }
  | { op: "drop"; id: number }
  | { op: "seal"; req: number; key: Uint8Array; nonce: Uint8Array; plaintext: Uint8Array; hash: number };

type Done = { req: number; data: Uint8Array; tag?: Uint8Array; plaintext?: Uint8Array };
type Reply = Done | { req: number; error: { name: string; message: string }; plaintext?: Uint8Array };

/**
 * The worker's whole program. It runs from its source text (`eval`), so it must not close over
 * anything of this module, and it uses only anonymous functions: tsx and vitest compile with
 * esbuild's keepNames, which wraps a named one in a `__name` helper (defined as a no-op below).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function workerProgram(): void {
  const { createCipheriv, createHash } = require("node:crypto") as typeof import("node:crypto");
  const { parentPort } = require("node:worker_threads") as typeof import("node:worker_threads");
  const hashes = new Map<number, import("node:crypto").Hash>();
  parentPort!.on("message", (msg: Request) => {
    try {
      if (msg.op === "hash") {
        hashes.set(msg.id, createHash("sha256"));
      } else if (msg.op === "update") {
        hashes.get(msg.id)?.update(msg.data);
      } else if (msg.op === "drop") {
        hashes.delete(msg.id);
      } else if (msg.op === "digest") {
        const hash = hashes.get(msg.id);
        hashes.delete(msg.id);
        if (!hash) throw new Error(`no hash ${msg.id} on the crypto worker`);
        const data = new Uint8Array(hash.digest());
        parentPort!.postMessage({ req: msg.req, data } satisfies Reply, [data.buffer]);
      } else {
        const cipher = createCipheriv("aes-256-gcm", msg.key, msg.nonce);
        const body = cipher.update(msg.plaintext);
        cipher.final();
        const tag = new Uint8Array(cipher.getAuthTag());
        const hash = msg.hash ? hashes.get(msg.hash) : undefined;
        hash?.update(body);
        hash?.update(tag);
        // The cipher's output is a buffer of its own (node allocates it exactly): handed over whole.
        const data =
          body.byteOffset === 0 && body.buffer.byteLength === body.length ? body : new Uint8Array(body);
        const reply: Reply = { req: msg.req, data, tag, plaintext: msg.plaintext };
        parentPort!.postMessage(reply, [
          data.buffer as ArrayBuffer,
          tag.buffer,
          msg.plaintext.buffer as ArrayBuffer,
        ]);
      }
    } catch (err) {
      const e = err as Error;
      if ("req" in msg) {
        const plaintext = msg.op === "seal" ? msg.plaintext : undefined;
        const reply: Reply = { req: msg.req, error: { name: e.name, message: e.message }, plaintext };
        parentPort!.postMessage(reply, plaintext ? [plaintext.buffer as ArrayBuffer] : []);
      }
    }
  });
}
/* eslint-enable @typescript-eslint/no-require-imports */

const SOURCE = `"use strict";\nvar __name = (f) => f;\n(${workerProgram.toString()})();\n`;

/** An error thrown on the worker, rebuilt with its own class where it is a standard one. */
function rebuild(error: { name: string; message: string }): Error {
  const Kind = error.name === "RangeError" ? RangeError : error.name === "TypeError" ? TypeError : Error;
  return new Kind(error.message);
}

/** A copy of `bytes` in a buffer of its own, to transfer. */
function ownCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

export interface Sealed {
  /** Ciphertext, then the 16-byte tag. */
  body: Buffer;
  tag: Buffer;
  /** The plaintext buffer that was handed over, back for reuse (its bytes are unchanged). */
  plaintext: Uint8Array;
}

interface Waiter {
  resolve: (reply: Done) => void;
  reject: (err: Error) => void;
}

export class CryptoWorker {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;

  private port(): Worker {
    if (this.worker) return this.worker;
    // No inherited node options: the program is CommonJS whatever `--input-type` the process had.
    const worker = new Worker(SOURCE, { eval: true, execArgv: [] });
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const waiter = this.waiting.get(reply.req);
      if (!waiter) return;
      this.waiting.delete(reply.req);
      if (this.waiting.size === 0) worker.unref();
      if ("error" in reply) waiter.reject(rebuild(reply.error));
      else waiter.resolve(reply);
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const failure = new BackupError(`the archive crypto worker stopped: ${err.message}`, { cause: err });
      for (const waiter of this.waiting.values()) waiter.reject(failure);
      this.waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private ask(message: Request & { req: number }, transfer: ArrayBuffer[] = []): Promise<Done> {
    const worker = this.port();
    const reply = new Promise<Done>((resolve, reject) => this.waiting.set(message.req, { resolve, reject }));
    if (this.waiting.size === 1) worker.ref(); // a process waiting on the worker stays alive
    worker.postMessage(message, transfer);
    return reply;
  }

  /** Stops the worker; whatever waits on it rejects. The next call starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  /** A SHA-256 computed on the worker, fed in the order of everything sent to it. */
  hash(): WorkerHash {
    const id = this.nextId++;
    this.port().postMessage({ op: "hash", id } satisfies Request);
    return new WorkerHash(this, id, this.worker!);
  }

  /** @internal (WorkerHash) Small inputs only: they are copied. */
  update(id: number, data: Uint8Array): void {
    const copy = ownCopy(data);
    this.port().postMessage({ op: "update", id, data: copy } satisfies Request, [copy.buffer as ArrayBuffer]);
  }

  /** @internal (WorkerHash) */
  async digest(id: number): Promise<Buffer> {
    const reply = await this.ask({ op: "digest", id, req: this.nextId++ });
    return Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength);
  }

  /** @internal (WorkerHash) */
  drop(id: number): void {
    this.port().postMessage({ op: "drop", id } satisfies Request);
  }

  /** @internal (WorkerHash) */
  isCurrent(worker: Worker): boolean {
    return this.worker === worker;
  }

  /**
   * AES-256-GCM of `plaintext` under `key` and `nonce`. `plaintext` must be a view of an
   * ArrayBuffer of its own: it is transferred (unusable here) until it comes back in the result.
   * With `hash`, the worker feeds it the ciphertext and then the tag.
   */
  async seal(key: Buffer, nonce: Buffer, plaintext: Uint8Array, hash?: WorkerHash): Promise<Sealed> {
    const reply = await this.ask(
      { op: "seal", req: this.nextId++, key, nonce, plaintext, hash: hash?.id ?? 0 },
      [plaintext.buffer as ArrayBuffer],
    );
    const view = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    return { body: view(reply.data), tag: view(reply.tag!), plaintext: reply.plaintext! };
  }
}

/** A SHA-256 on the crypto worker. Call digest() or dispose() once, at the end. */
export class WorkerHash {
  private done = false;

  constructor(
    private readonly owner: CryptoWorker,
    readonly id: number,
    private readonly worker: Worker,
  ) {}

  /** Adds `data` (copied: for small inputs; large ones reach the hash through seal). */
  update(data: Uint8Array): void {
    if (this.owner.isCurrent(this.worker)) this.owner.update(this.id, data);
  }

  /** The digest of everything fed to it. Rejects if the worker stopped meanwhile. */
  async digest(): Promise<Buffer> {
    this.done = true;
    if (!this.owner.isCurrent(this.worker))
      throw new BackupError("the archive crypto worker stopped while hashing");
    return this.owner.digest(this.id);
  }

  /** Frees the hash on the worker when it will not be digested (an error path). */
  dispose(): void {
    if (this.done) return;
    this.done = true;
    if (this.owner.isCurrent(this.worker)) this.owner.drop(this.id);
  }
}

let shared: CryptoWorker | undefined;

/** The process's crypto worker. */
export function cryptoWorker(): CryptoWorker {
  return (shared ??= new CryptoWorker());
}
