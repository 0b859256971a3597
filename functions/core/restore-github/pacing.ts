// Pacing of content creation on GitHub. GitHub's documented secondary limits: no more than about
// 80 content-creating requests a minute and 500 an hour, one at a time, and after a secondary-limit
// answer wait retry-after (or a minute) before trying again. The pacer spaces writes to stay under
// both, and each secondary-limit answer doubles the spacing: it slows down, never drops the write.
// What it knows (the last hour's writes, the spacing, a wait still owed) is handed to `save` before
// each write and each wait, so the next run of the same restore (after a hand-off or a crash) starts
// from it instead of bursting: GitHub counts the hour across runs, not per run.
import { WriteRateLimitError } from "./errors.js";

export interface PacingOptions {
  /** Content-creating requests a minute; GitHub's limit is 80. Infinity: no spacing. */
  perMinute: number;
  /** Content-creating requests an hour; GitHub's limit is 500. Infinity: no hourly cap. */
  perHour: number;
  /** Milliseconds per second of retry-after and of the minute's fallback (1000; tests shrink it). */
  msPerSecond?: number;
  /** Secondary-limit answers in a row for one write before it fails. Default 12. */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds (the restore's clock): saved times are compared across runs. */
  now?: () => number;
}

/** What the pacer carries from one run of a restore to the next (kept in its journal). */
export interface PacerState {
  /** Start times (epoch ms) of the newest writes within the hour, oldest first, at most perHour. */
  starts: number[];
  /** The spacing in force, milliseconds: each secondary-limit answer doubled it. */
  spacingMs: number;
  /** No write before this (epoch ms): a secondary limit's retry-after not yet waited out. */
  notBefore?: number;
}

export const GITHUB_CONTENT_LIMITS = { perMinute: 80, perHour: 500 } as const;

/** What the pacer did, for the outcome and the bench. */
export interface PacingReport {
  writes: number;
  /** Secondary-limit answers received (each retried). */
  slowdowns: number;
  waitedSeconds: number;
}

export class ContentPacer {
  private spacingMs: number;
  private lastStart = -Infinity;
  /** Start times of the newest writes within the last hour (for the hourly cap), at most perHour. */
  private readonly hour: number[] = [];
  private notBefore = -Infinity;
  /** The write in flight (or done): the next one waits for it (inTurn). */
  private queue: Promise<void> = Promise.resolve();
  private readonly report: PacingReport = { writes: 0, slowdowns: 0, waitedSeconds: 0 };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  /**
   * `carried`: what an earlier run of the same restore left (its hour, spacing and wait);
   * `save`: called with the state before each write and each wait, to be carried to the next run.
   */
  constructor(
    private readonly options: PacingOptions,
    carried?: PacerState,
    private readonly save?: (state: PacerState) => Promise<void>,
  ) {
    this.spacingMs = Number.isFinite(options.perMinute) ? 60_000 / options.perMinute : 0;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    if (carried) {
      this.spacingMs = Math.max(this.spacingMs, carried.spacingMs);
      this.hour.push(...carried.starts);
      this.lastStart = carried.starts.at(-1) ?? -Infinity;
      this.notBefore = carried.notBefore ?? -Infinity;
    }
  }

  /** The state to carry to the next run. */
  state(): PacerState {
    return {
      starts: [...this.hour],
      spacingMs: this.spacingMs,
      ...(this.notBefore > this.now() ? { notBefore: this.notBefore } : {}),
    };
  }

  /** Runs one content-creating request in its turn; a secondary-limit answer waits and tries again. */
  async write<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.inTurn(request);
        this.report.writes++;
        return result;
      } catch (err) {
        if (!(err instanceof WriteRateLimitError) || attempt >= (this.options.maxRetries ?? 12)) throw err;
        await this.slowDown(err);
      }
    }
  }

  private async slowDown(err: WriteRateLimitError): Promise<void> {
    const scale = this.options.msPerSecond ?? 1000;
    this.report.slowdowns++;
    // Slower from now on: double the spacing (at least one second apart, GitHub's advice).
    this.spacingMs = Math.max(this.spacingMs * 2, scale);
    const ms = (err.retryAfterSeconds ?? 60) * scale;
    this.notBefore = this.now() + ms;
    await this.save?.(this.state());
    await this.wait(ms);
  }

  /**
   * Runs a request that cannot be sent twice as it is (an upload streaming its body): on a
   * secondary-limit answer the pacer slows down and waits as for any write, then rethrows, so the
   * caller sends it again with a fresh body.
   */
  async writeOnce<T>(request: () => Promise<T>): Promise<T> {
    try {
      const result = await this.inTurn(request);
      this.report.writes++;
      return result;
    } catch (err) {
      if (err instanceof WriteRateLimitError) await this.slowDown(err);
      throw err;
    }
  }

  stats(): PacingReport {
    return { ...this.report, waitedSeconds: Math.round(this.report.waitedSeconds * 1000) / 1000 };
  }

  /**
   * Waits for the turn, then sends: one request at a time, as GitHub asks, also when two writes are
   * started together (two asset uploads read from one archive). A request's body must not wait for
   * a later write (none does: an asset's bytes end before the next asset is read).
   */
  private inTurn<T>(request: () => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      await this.turn();
      return request();
    });
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async turn(): Promise<void> {
    const now = this.now();
    while (this.hour.length && this.hour[0]! <= now - 3_600_000) this.hour.shift();
    // A carried hour may be longer than this run's cap: only the newest perHour starts count.
    if (this.hour.length > this.options.perHour) this.hour.splice(0, this.hour.length - this.options.perHour);
    let ready = Math.max(this.lastStart + this.spacingMs, this.notBefore);
    if (this.hour.length >= this.options.perHour) ready = Math.max(ready, this.hour[0]! + 3_600_000);
    if (ready > now) await this.wait(ready - now);
    this.lastStart = this.now();
    // The slot is taken (and saved) before the write goes out: a run killed mid-write still counts it.
    if (Number.isFinite(this.options.perHour)) this.hour.push(this.lastStart);
    else this.hour.splice(0, this.hour.length, this.lastStart);
    if (this.hour.length > this.options.perHour) this.hour.shift();
    await this.save?.(this.state());
  }

  private async wait(ms: number): Promise<void> {
    this.report.waitedSeconds += ms / 1000;
    await this.sleep(ms);
  }
}
