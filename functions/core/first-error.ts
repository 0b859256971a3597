// The first error is the one reported. Cleanup after a failure (releasing a lease, recording the
// failure, closing a store) can fail too, often for the same reason (a full disk); its error is
// attached to the first, never put in its place.

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
