// Faulty ports for tests, after restic's and kopia's faulty backends: a wrapper that passes every
// call to the real adapter except the ones a rule picks, which fail, wait, or have their bytes
// damaged. Rules compose (a list per wrapper, and wrappers wrap wrappers); each wrapper counts
// the calls it saw so a test can say what happened.
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream";
import { BackupError, KeyError, SourceError } from "../../functions/core/errors.js";
import type {
  BlobStore,
  KeyWrapper,
  Publisher,
  SnapshotIndex,
  SourceHost,
} from "../../functions/core/ports.js";

/** Which calls of a method a rule applies to: the nth (1-based), a range, or every one. */
export type CallPick = { nth: number } | { from: number; to?: number } | "every";

export type Effect =
  /** Rejects without calling the adapter. */
  | { kind: "fail"; error: () => Error }
  /** Waits, then calls the adapter. */
  | { kind: "delay"; ms: number }
  /** Calls the adapter; the stream it resolves with has one bit flipped at `offset`. */
  | { kind: "flip"; offset: number; bit?: number }
  /** Calls the adapter; the stream it resolves with ends cleanly after `bytes`. */
  | { kind: "truncate"; bytes: number }
  /** For put: passes `bytes` of the body to the adapter, then fails it as a full disk would. */
  | { kind: "diskFull"; bytes: number };

export interface Rule {
  method: string;
  calls: CallPick;
  effect: Effect;
}

/** A transient failure (a retry may cure it): what an adapter raises for a service blip. */
export function transient(what = "injected transient fault"): () => Error {
  return () => new BackupError(what);
}

/** A permanent failure: retrying cannot help, a person must act. */
export function permanent(what = "injected permanent fault"): () => Error {
  return () => new BackupError(what, { permanent: true });
}

/** The error a write to a full disk gives, as the folder store translates it. */
export function enospc(what = "write"): Error {
  const cause = Object.assign(new Error(`ENOSPC: no space left on device, ${what}`), {
    code: "ENOSPC",
    errno: -28,
    syscall: what,
  });
  return new BackupError(`could not store blob in the folder: no space left on device (ENOSPC)`, { cause });
}

// Rule builders, so a test reads as the fault it injects.
export const failNth = (method: string, nth: number, error = transient()): Rule => ({
  method,
  calls: { nth },
  effect: { kind: "fail", error },
});
/** Fails the first call, lets the rest through. */
export const failOnce = (method: string, error = transient()): Rule => failNth(method, 1, error);
export const failAlways = (method: string, error = permanent()): Rule => ({
  method,
  calls: "every",
  effect: { kind: "fail", error },
});
export const delay = (method: string, ms: number, calls: CallPick = "every"): Rule => ({
  method,
  calls,
  effect: { kind: "delay", ms },
});
export const flipBitOnRead = (offset: number, calls: CallPick = "every", bit = 0): Rule => ({
  method: "get",
  calls,
  effect: { kind: "flip", offset, bit },
});
export const truncateOnRead = (bytes: number, calls: CallPick = "every"): Rule => ({
  method: "get",
  calls,
  effect: { kind: "truncate", bytes },
});
export const diskFull = (afterBytes: number, calls: CallPick = "every"): Rule => ({
  method: "put",
  calls,
  effect: { kind: "diskFull", bytes: afterBytes },
});

function picks(pick: CallPick, n: number): boolean {
  if (pick === "every") return true;
  if ("nth" in pick) return n === pick.nth;
  return n >= pick.from && (pick.to === undefined || n <= pick.to);
}

/** What a faulty wrapper adds: its rules (append to change them mid-test) and its call counts. */
export interface Faulty {
  readonly faults: { rules: Rule[]; calls: Record<string, number>; injected: Record<string, number> };
}

/**
 * Wraps `target`: each call of a method counts, and the rules for that method and call number
 * apply in order (delays first, then a failure, else the call goes through and its result's
 * bytes may be damaged). Methods in `iterables` return async iterables, failed when iterated.
 */
export function faulty<T extends object>(
  target: T,
  rules: Rule[],
  iterables: readonly string[] = [],
): T & Faulty {
  const faults = { rules, calls: {} as Record<string, number>, injected: {} as Record<string, number> };
  return new Proxy(target, {
    get(obj, key, receiver) {
      if (key === "faults") return faults;
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== "function" || typeof key !== "string") return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const n = (faults.calls[key] = (faults.calls[key] ?? 0) + 1);
        const effects = faults.rules
          .filter((r) => r.method === key && picks(r.calls, n))
          .map((r) => r.effect);
        if (effects.length) faults.injected[key] = (faults.injected[key] ?? 0) + 1;
        if (iterables.includes(key))
          return iterate(() => method.apply(obj, args) as AsyncIterable<unknown>, effects);
        return call(() => method.apply(obj, args), args, effects);
      };
    },
  }) as T & Faulty;
}

async function call(run: () => unknown, args: unknown[], effects: Effect[]): Promise<unknown> {
  for (const e of effects) if (e.kind === "delay") await new Promise((r) => setTimeout(r, e.ms));
  const failure = effects.find((e) => e.kind === "fail");
  if (failure?.kind === "fail") {
    // A put refused at once never reads its body; the writer sees the body fail and stops.
    // (As a real adapter's pipeline does: it listens for the body's error, then destroys it.)
    for (const arg of args)
      if (arg instanceof Readable) arg.on("error", () => undefined).destroy(failure.error());
    throw failure.error();
  }
  const full = effects.find((e) => e.kind === "diskFull");
  if (full?.kind === "diskFull") {
    const body = args[1] as Readable;
    args[1] = failAfter(body, full.bytes);
  }
  const result = await run();
  let out = result;
  for (const e of effects) {
    if (e.kind === "flip")
      out = damage(out as Readable, e.offset, (b, at) => {
        b[at] = b[at]! ^ (1 << (e.bit ?? 0));
      });
    if (e.kind === "truncate") out = cut(out as Readable, e.bytes);
  }
  return out;
}

async function* iterate(run: () => AsyncIterable<unknown>, effects: Effect[]): AsyncIterable<unknown> {
  for (const e of effects) if (e.kind === "delay") await new Promise((r) => setTimeout(r, e.ms));
  const failure = effects.find((e) => e.kind === "fail");
  if (failure?.kind === "fail") throw failure.error();
  yield* run();
}

/** Passes `limit` bytes of `body`, then errors with ENOSPC (the rest of the body is never read). */
function failAfter(body: Readable, limit: number): Readable {
  let passed = 0;
  const gate = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const room = limit - passed;
      if (chunk.length <= room) {
        passed += chunk.length;
        return done(null, chunk);
      }
      if (room > 0) this.push(chunk.subarray(0, room));
      passed = limit;
      done(enospc());
    },
  });
  pipeline(body, gate, () => undefined);
  return gate;
}

/** `source` with `edit` applied to the byte at absolute `offset`. */
function damage(source: Readable, offset: number, edit: (chunk: Buffer, at: number) => void): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (offset >= seen && offset < seen + chunk.length) {
        chunk = Buffer.from(chunk);
        edit(chunk, offset - seen);
      }
      seen += chunk.length;
      done(null, chunk);
    },
  });
  pipeline(source, out, () => undefined);
  return out;
}

/** `source` ending cleanly after `bytes` (the rest is dropped unread). */
function cut(source: Readable, bytes: number): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const room = bytes - seen;
      seen += chunk.length;
      if (room <= 0) return done();
      done(null, chunk.length <= room ? chunk : chunk.subarray(0, room));
    },
  });
  pipeline(source, out, () => undefined);
  return out;
}

// One wrapper per port, typed as the port.
export const faultyStore = <T extends BlobStore>(store: T, ...rules: Rule[]) =>
  faulty(store, rules, ["list"]);
export const faultyIndex = <T extends SnapshotIndex>(index: T, ...rules: Rule[]) => faulty(index, rules);
export const faultyKeys = <T extends KeyWrapper>(keys: T, ...rules: Rule[]) => faulty(keys, rules);
export const faultyPublisher = <T extends Publisher>(publisher: T, ...rules: Rule[]) =>
  faulty(publisher, rules);
export const faultySource = <T extends SourceHost>(sources: T, ...rules: Rule[]) => faulty(sources, rules);

/** A key service that is unavailable for now (KMS UNAVAILABLE), or refuses for good. */
export const keyUnavailable = (): Error => new KeyError("injected: key service unavailable");
export const keyRefused = (): Error => new KeyError("injected: key refused", { permanent: true });
/** A source host that cannot be reached now (a 502 from GitHub). */
export const sourceUnreachable = (): Error => new SourceError("injected: source host unreachable");
