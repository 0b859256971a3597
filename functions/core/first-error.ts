// The first error is the one reported. Cleanup after a failure (releasing a lease, recording the
// failure, closing a store) can fail too, often for the same reason (a full disk); its error is
// attached to the first, never put in its place.
import type { EventEmitter } from "node:events";

/**
 * Attaches `cleanupErr` (from `what`) to `err`: listed in `err.cleanupErrors` and named after the
 * first error's own message, so a person reads the cause first, then what failed after it.
 */
export function attachCleanupError(err: unknown, what: string, cleanupErr: unknown): void {
  if (!(err instanceof Error)) return;
  const list = ((err as Error & { cleanupErrors?: unknown[] }).cleanupErrors ??= []);
  list.push(cleanupErr);
  const said = cleanupErr instanceof Error ? cleanupErr.message : String(cleanupErr);
  err.message = `${err.message} (then ${what} failed too: ${said})`;
}

/**
 * Awaits an archive's writing and the store's put of its stream together; when either fails, the
 * put's error is the one thrown. A store that fails (a full disk) tears the stream down, and the
 * writer then fails a moment before the put settles, with what tar says of a reader gone away
 * ("already finalized or destroyed"); the writer's own failure reaches the put as its body's
 * error, the same one. The put always settles: a failed writer destroys the stream it reads.
 */
export async function writtenAndStored<W, S>(writing: Promise<W>, storing: Promise<S>): Promise<[W, S]> {
  try {
    return await Promise.all([writing, storing]);
  } catch (err) {
    throw await storing.then(
      () => err,
      (storeErr: unknown) => storeErr,
    );
  }
}

/**
 * Which of `streams` failed first. When one stream of a pipeline fails, the pipeline destroys the
 * others with that same error, so the error alone does not tell whose failure it was (the caller's
 * body, or the store's own write); the stream that emitted it first does.
 */
export function firstToFail<K extends string>(streams: Record<K, EventEmitter>): () => K | undefined {
  let first: K | undefined;
  for (const name of Object.keys(streams) as K[]) streams[name].once("error", () => (first ??= name));
  return () => first;
}
