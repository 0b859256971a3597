// Ports that try a transient failure again: a KMS or Firestore hiccup, a busy SQLite file, a
// dropped connection. Only calls that are safe to repeat are retried (every SnapshotIndex and
// KeyWrapper method; opening, stating and deleting blobs); a blob's put consumes its stream once
// and is never repeated here (its caller's whole run is retried: a redelivery, the next schedule).
import { BackupError } from "./errors.js";
import type { BlobStore, KeyWrapper, SnapshotIndex } from "./ports.js";

export interface RetryPolicy {
  /** Waits before the second, third, ... try; its length is how many retries there are. */
  delaysMs: readonly number[];
}

/** Three more tries over about five seconds: long enough for a blip, short beside a lease. */
export const DEFAULT_RETRY: RetryPolicy = { delaysMs: [200, 1000, 4000] };

/** Our own errors not marked permanent; anything else (a bug, a refusal) fails at once. */
export function isTransient(err: unknown): boolean {
  return err instanceof BackupError && !err.permanent;
}

/** Runs `call`, trying again after each delay while it fails transiently; the last error wins. */
export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const delay = policy.delaysMs[attempt];
      if (delay === undefined || !isTransient(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** `target` with the named promise-returning methods retried; every other member as it is. */
function retrying<T extends object>(target: T, methods: readonly (keyof T)[], policy: RetryPolicy): T {
  const retried = new Set<PropertyKey>(methods);
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!retried.has(key)) return method.bind(obj);
      return (...args: unknown[]) => withRetry(() => method.apply(obj, args) as Promise<unknown>, policy);
    },
  });
}

const INDEX_METHODS = [
  "commit",
  "get",
  "latest",
  "atOrBefore",
  "list",
  "listMany",
  "listAll",
  "repos",
  "confirm",
  "recordVerification",
  "setHold",
  "remove",
  "acquireLease",
  "releaseLease",
  "leases",
  "recordAttempt",
  "attempts",
] as const satisfies readonly (keyof SnapshotIndex)[];

/** Every index call retried: each is idempotent by the port's contract (commit included). */
export function retryingIndex<T extends SnapshotIndex>(index: T, policy = DEFAULT_RETRY): T {
  return retrying(index, INDEX_METHODS, policy);
}

export function retryingKeys<T extends KeyWrapper>(keys: T, policy = DEFAULT_RETRY): T {
  return retrying(keys, ["wrap", "unwrap"], policy);
}

/** Opening, stating, deleting and lifecycle changes retried; put and list are not. */
export function retryingStore<T extends BlobStore>(store: T, policy = DEFAULT_RETRY): T {
  return retrying(store, ["get", "stat", "delete", "setLifecycle"], policy);
}
