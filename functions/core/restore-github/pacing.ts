// Pacing of content creation on GitHub. GitHub's documented secondary limits: no more than about
// 80 content-creating requests a minute and 500 an hour, one at a time, and after a secondary-limit
// answer wait retry-after (or a minute) before trying again. The pacer spaces writes to stay under
// both, and each secondary-limit answer doubles the spacing: it slows down, never drops the write.
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
  now?: () => number;
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
  /** Start times of the writes within the last hour (for the hourly cap). */
  private readonly hour: number[] = [];
  private readonly report: PacingReport = { writes: 0, slowdowns: 0, waitedSeconds: 0 };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: PacingOptions) {
    this.spacingMs = Number.isFinite(options.perMinute) ? 60_000 / options.perMinute : 0;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  /** Runs one content-creating request in its turn; a secondary-limit answer waits and tries again. */
  async write<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.turn();
      try {
        const result = await request();
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
    await this.wait((err.retryAfterSeconds ?? 60) * scale);
  }

  /**
   * Runs a request that cannot be sent twice as it is (an upload streaming its body): on a
   * secondary-limit answer the pacer slows down and waits as for any write, then rethrows, so the
   * caller sends it again with a fresh body.
   */
  async writeOnce<T>(request: () => Promise<T>): Promise<T> {
    await this.turn();
    try {
      const result = await request();
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

  private async turn(): Promise<void> {
    const now = this.now();
    while (this.hour.length && this.hour[0]! <= now - 3_600_000) this.hour.shift();
    let ready = this.lastStart + this.spacingMs;
    if (this.hour.length >= this.options.perHour) ready = Math.max(ready, this.hour[0]! + 3_600_000);
    if (ready > now) await this.wait(ready - now);
    this.lastStart = this.now();
    if (Number.isFinite(this.options.perHour)) this.hour.push(this.lastStart);
  }

  private async wait(ms: number): Promise<void> {
    this.report.waitedSeconds += ms / 1000;
    await this.sleep(ms);
  }
}
