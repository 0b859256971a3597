// The errors of a restore to GitHub that core acts on.
import { BackupError, SourceError } from "../errors.js";

/**
 * GitHub answered a content-creating request with a secondary rate limit (403 or 429, often with
 * retry-after): nothing was created, the request may be sent again after the wait. Transient.
 */
export class WriteRateLimitError extends SourceError {
  constructor(
    message: string,
    /** GitHub's retry-after, in seconds, when it sent one. */
    readonly retryAfterSeconds?: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/**
 * The run reached its deadline (a function's time limit) at a step boundary: every step so far is
 * journaled, nothing is half written. Running the same restore again continues from here.
 */
export class RestoreDeadlineError extends BackupError {
  /** The snapshot being restored (set by restoreToGitHub), so the hand-off names it, not "latest". */
  snapshotId?: string;
  /** Items done of total when it stopped, and the estimated seconds left. */
  progress?: { done: number; total: number; etaSeconds?: number };

  constructor(
    message: string,
    /** Steps written by this run before it stopped (at least one, unless `tooLong`). */
    readonly stepsThisRun: number,
    /**
     * The next step alone is expected to outlast this run's time (the code push of a very large
     * repository): only a run with more time (the Cloud Run job) should start it.
     */
    readonly tooLong = false,
  ) {
    super(message);
  }
}
