// A crash injected into one run of a use case: the ports' writes (the LayerIndex's transactions and
// the BlobStore's put and delete) are counted across both ports, and the nth one fails, either
// before it reaches the adapter or after it landed (the process died before it heard back). From
// then on every write fails too, as nothing more is written by a process that is gone. Reads pass.
import { Readable } from "node:stream";
import type { Deps } from "../../functions/core/deps.js";
import type { BlobStore, LayerIndex } from "../../functions/core/ports.js";

/** The writes a crash can hit. */
const LAYER_WRITES = [
  "commitLayered",
  "commitMerge",
  "markDead",
  "markObjectDeleted",
  "forgetLayer",
  "commitFold",
] as const;
const STORE_WRITES = ["put", "delete"] as const;

export interface CrashPoint {
  /** The write that fails (1-based, counted over both ports). */
  nth: number;
  /** "after": the write lands, then the caller sees the crash. */
  when: "before" | "after";
}

export class InjectedCrash extends Error {
  constructor(what: string) {
    super(`injected crash at ${what}`);
    this.name = "InjectedCrash";
  }
}

/** The writes seen and the one the crash hit, if it came. */
export interface CrashLog {
  writes: string[];
  crashedAt?: string;
}

/** `deps` with its layer index and store wrapped to crash at `point`. */
export function crashingDeps<D extends Deps>(deps: D, point: CrashPoint): { deps: D; log: CrashLog } {
  const log: CrashLog = { writes: [] };
  const wrap = <T extends object>(target: T, writes: readonly string[]): T =>
    new Proxy(target, {
      get(obj, key, receiver) {
        const value: unknown = Reflect.get(obj, key, receiver);
        if (typeof value !== "function" || typeof key !== "string" || !writes.includes(key)) return value;
        const method = value as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          const what = `${key} #${log.writes.length + 1}`;
          log.writes.push(key);
          const dead = log.crashedAt !== undefined;
          const hit = !dead && log.writes.length === point.nth;
          if (dead || (hit && point.when === "before")) {
            if (hit) log.crashedAt = `${what} (before it landed)`;
            const crash = new InjectedCrash(log.crashedAt ?? what);
            // A put refused at once never reads its body: end it, as an adapter's pipeline would.
            for (const arg of args)
              if (arg instanceof Readable) arg.on("error", () => undefined).destroy(crash);
            throw crash;
          }
          const result = await method.apply(obj, args);
          if (hit) {
            log.crashedAt = `${what} (after it landed)`;
            throw new InjectedCrash(log.crashedAt);
          }
          return result;
        };
      },
    });
  const layers: LayerIndex | undefined = deps.layers ? wrap(deps.layers, LAYER_WRITES) : undefined;
  const store: BlobStore = wrap(deps.store, STORE_WRITES);
  return { deps: { ...deps, store, ...(layers ? { layers } : {}) }, log };
}
