// Pacing within the installation's hourly rate budget. Every GitHub answer tells what is left of it
// (x-ratelimit-remaining, -reset, -resource); before a costly kind the collection asks whether its
// cost fits above a floor that depends on how recently the kind changed, and defers it otherwise.
// Repositories change at different paces and share one budget: as it runs low, the least recently
// changed ones are deferred first, and what changed today still gets through. A deferred kind is
// read by a later run (the checkpoint keeps its place); the git data is never deferred.

/** What GitHub last said of one resource's budget. */
interface RateState {
  limit: number;
  remaining: number;
  /** Epoch milliseconds when the budget refills. */
  resetAt: number;
}

export type RateResource = "core" | "graphql";

/** The reason a kind's outcome and the health view carry. */
export const DEFERRED_REASON = "rate budget";

const HOUR = 3600_000;

/**
 * The share of the budget kept back from a kind last changed `ageMs` ago: a small one for what
 * changed within a day, a tenth within a week, a quarter for anything older.
 */
export function floorShare(ageMs: number): number {
  if (ageMs <= 24 * HOUR) return 0.02;
  if (ageMs <= 7 * 24 * HOUR) return 0.1;
  return 0.25;
}

export class RateBudget {
  private readonly states = new Map<RateResource, RateState>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes note of an answer's rate-limit headers; `fallback` when it does not name its resource. */
  note(headers: Record<string, unknown>, fallback: RateResource): void {
    const limit = Number(headers["x-ratelimit-limit"]);
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (!Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) return;
    const named = String(headers["x-ratelimit-resource"] ?? "");
    const resource: RateResource = named === "graphql" || named === "core" ? named : fallback;
    if (named && named !== resource) return; // search, code scanning…: another budget
    const resetAt = Number.isFinite(reset) ? reset * 1000 : this.now() + HOUR;
    this.states.set(resource, { limit, remaining, resetAt });
  }

  /**
   * Whether `cost` requests of `resource` fit above the floor for a kind last changed at
   * `changedAt` (ISO-8601; unknown is "long ago"). Unknown budget (no answer told it) fits: the
   * throttling plugin still waits out a limit reached. So does a cost that no full budget could
   * hold above its floor: deferred, it would never be read; read, it spans resets.
   */
  allows(resource: RateResource, cost: number, changedAt: string | undefined): boolean {
    const state = this.states.get(resource);
    if (!state || this.now() >= state.resetAt) return true;
    const changed = changedAt ? Date.parse(changedAt) : NaN;
    const age = Number.isFinite(changed) ? this.now() - changed : Infinity;
    const floor = Math.ceil(state.limit * floorShare(age));
    return state.remaining - cost >= floor || state.limit - cost < floor;
  }
}
