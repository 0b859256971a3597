// Failures of a metadata collection that fail it whole. A kind the repository cannot provide is not
// an error: it is a KindOutcome "unavailable" and the rest continues.
import { SourceError } from "../errors.js";

/**
 * GitHub answered 200 with something that is not the JSON we read (a proxy's HTML page, a cut body,
 * a changed shape). Nothing of the collection may be committed: a kind cannot be half trusted.
 * Transient: such answers are usually a passing fault; a repeat dead-letters like any other.
 */
export class MetadataFormatError extends SourceError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: false });
  }
}

/** The rate limit left no budget within the wait we accept; `retryAt` says when it refills. */
export class RateLimitedError extends SourceError {
  readonly retryAt?: string;
  constructor(message: string, options: { cause?: unknown; retryAt?: string } = {}) {
    super(message, { cause: options.cause, permanent: false });
    if (options.retryAt) this.retryAt = options.retryAt;
  }
}

/** A release asset's bytes differ from what GitHub lists for it (size or SHA-256 digest). */
export class AssetMismatchError extends SourceError {
  constructor(message: string) {
    super(message, { permanent: false });
  }
}
