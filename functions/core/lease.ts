// A repository's snapshot lease, held for as long as the work runs and no longer: short, renewed
// in the background, and confirmed just before the commit, so that a crashed holder frees the
// repository within a minute and a holder that lost its lease never commits.
import { hostname } from "node:os";
import { BackupError, LeaseHeldError } from "./errors.js";
import type { SnapshotIndex } from "./ports.js";

/** How long a lease lasts without renewal: a crashed holder blocks its repository this long at most. */
export const LEASE_MS = 60_000;

/** The lease was taken over (its holder stalled past LEASE_MS): the work must stop, uncommitted. */
export class LeaseLostError extends BackupError {}

export interface HeldLease {
  /** Aborts when the lease is lost (reason: LeaseLostError) or `outer` aborts (its reason). */
  signal: AbortSignal;
  /** Renews the lease now; rejects with LeaseLostError if another holder has it. Call before a commit. */
  confirm(): Promise<void>;
  /** Stops renewing and gives the lease back. */
  release(): Promise<void>;
}

/**
 * "<id>@<host>:<pid>": who holds a lease, so that a local index can tell a holder whose process is
 * gone (it takes such a lease at once) from one that is alive.
 */
export function leaseHolder(id: string): string {
  return `${id}@${hostname()}:${process.pid}`;
}

/** When the holder's snapshot started (its id begins with the time), or undefined for another form. */
export function leaseStartedAt(holder: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(holder);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
}

export async function holdLease(
  index: Pick<SnapshotIndex, "acquireLease" | "releaseLease">,
  repo: string,
  holder: string,
  options: {
    ttlMs?: number;
    outer?: AbortSignal;
    /** What the refusal says when another holder has the lease (default: another snapshot runs). */
    busy?: string;
  } = {},
): Promise<HeldLease> {
  const ttlMs = options.ttlMs ?? LEASE_MS;
  if (!(await index.acquireLease(repo, holder, ttlMs)))
    throw new LeaseHeldError(
      options.busy ?? `another snapshot of ${repo} is running; try again when it ends`,
    );
  const controller = new AbortController();
  const lost = () =>
    new LeaseLostError(
      `the lease on ${repo} was lost (the work stalled past ${ttlMs / 1000} s); nothing was committed`,
    );
  const renew = async () => {
    if (!(await index.acquireLease(repo, holder, ttlMs))) {
      const err = lost();
      controller.abort(err);
      throw err;
    }
  };
  const onOuter = () => controller.abort(options.outer!.reason);
  if (options.outer?.aborted) onOuter();
  options.outer?.addEventListener("abort", onOuter, { once: true });
  // Renew three times per lease period; a failed renewal (index unreachable) is tried again next tick.
  const timer = setInterval(
    () => {
      renew().catch(() => undefined);
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    signal: controller.signal,
    async confirm() {
      if (controller.signal.aborted && controller.signal.reason instanceof LeaseLostError)
        throw controller.signal.reason;
      await renew();
    },
    async release() {
      clearInterval(timer);
      options.outer?.removeEventListener("abort", onOuter);
      await index.releaseLease(repo, holder);
    },
  };
}
