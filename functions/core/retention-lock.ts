// Archives are written under retention: the store refuses to delete or replace one before the
// time the retention policy promises every snapshot (its `within` window: a snapshot stays inside
// it at least that long after it was taken). Prune later moves the retention forward to the plan's
// keep-until, never back; so neither a stolen credential nor a mistake removes a backup early.
import type { Clock, BlobStore, PutOptions } from "./ports.js";
import { ARCHIVES_PREFIX, LAYERS_PREFIX } from "./object-keys.js";
import { addDuration } from "./retention-duration.js";
import type { RetentionPolicy } from "./retention-policy.js";

/** How long after its write an archive is retained at least, by the policy; undefined: not at all. */
export function retentionOnWrite(policy: RetentionPolicy): ((writtenAt: number) => number) | undefined {
  const within = policy.within;
  if (!within) return undefined;
  return (writtenAt) => addDuration(writtenAt, within);
}

/**
 * `store`, with every archive (keys under ARCHIVES_PREFIX or LAYERS_PREFIX) put with a retain-until from `until`,
 * unless the caller gave one. Everything else passes through unchanged.
 */
export function retainingStore(
  store: BlobStore,
  until: ((writtenAt: number) => number) | undefined,
  clock: Clock,
): BlobStore {
  if (!until) return store;
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name !== "put") return Reflect.get(target, name, receiver);
      return (key: string, body: Parameters<BlobStore["put"]>[1], options: PutOptions = {}) =>
        target.put(
          key,
          body,
          (key.startsWith(ARCHIVES_PREFIX) || key.startsWith(LAYERS_PREFIX)) &&
            options.retainUntil === undefined
            ? { ...options, retainUntil: new Date(until(clock.now().getTime())).toISOString() }
            : options,
        );
    },
  });
}
