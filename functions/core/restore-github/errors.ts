// The errors of a restore to GitHub that core acts on.
import { SourceError } from "../errors.js";

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
