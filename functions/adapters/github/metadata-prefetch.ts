// The conditional requests of a checkpoint, sent a few at a time instead of one after another: a
// follow-up snapshot asks about some thirty kinds, nearly all answered 304, and each answer waited
// for the one before. GitHub asks clients not to send many requests at once; PREFETCH_WINDOW stays
// far below its limit of 100 concurrent requests and under the throttling plugin's own 10.
import type { MetadataCheckpoint } from "../../core/metadata/checkpoint.js";
import type { RepoKind } from "../../core/metadata/kinds.js";
import type { RepoApi } from "./metadata-http.js";

/** Conditional requests in flight at once. */
export const PREFETCH_WINDOW = 6;

type Entry = NonNullable<MetadataCheckpoint["kinds"][RepoKind]>;

/**
 * Whether any of `kinds` changed since its checkpoint entry, asked PREFETCH_WINDOW at a time:
 * resolves true as soon as one answers other than 304 (no further check is started), false when
 * all are unchanged. Rejects with the first failure that is not an answer about the data.
 */
export async function anyChanged(
  api: RepoApi,
  kinds: readonly (readonly [RepoKind, Entry])[],
  what: (kind: RepoKind) => string,
): Promise<boolean> {
  let next = 0;
  let changed = false;
  const worker = async () => {
    while (!changed && next < kinds.length) {
      const [kind, entry] = kinds[next++]!;
      if (!(await api.unchanged(entry.requests, what(kind)))) changed = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PREFETCH_WINDOW, kinds.length) }, worker));
  return changed;
}

/**
 * Starts `check` for every key, PREFETCH_WINDOW at a time, and hands back each one's promise so a
 * reader awaits them in its own order. A rejection is kept for whoever awaits it, never unhandled.
 */
export function prefetch<K, T>(keys: readonly K[], check: (key: K) => Promise<T>): Map<K, Promise<T>> {
  const started = new Map<K, Promise<T>>();
  let free = PREFETCH_WINDOW;
  const waiting: (() => void)[] = [];
  const turn = async () => {
    if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    else free--;
  };
  const done = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  for (const key of keys) {
    const promise = turn().then(() => check(key).finally(done));
    promise.catch(() => undefined);
    started.set(key, promise);
  }
  return started;
}
