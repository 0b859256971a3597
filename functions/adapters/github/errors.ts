// Errors of the GitHub side: a webhook delivery refused with an HTTP status, and the translation of
// an Octokit request failure into our SourceError, naming the org or repo and never a credential.
import { BackupError, SourceError } from "../../core/errors.js";

export type WebhookStatus = 400 | 401 | 500;

/** A webhook delivery we refuse; `status` is the HTTP answer the handler gives GitHub. */
export class WebhookError extends BackupError {
  readonly status: WebhookStatus;
  constructor(status: WebhookStatus, message: string, options: { cause?: unknown } = {}) {
    // A redelivery of the same bytes would fail the same way, except when our own config is broken.
    super(message, { ...options, permanent: status !== 500 });
    this.status = status;
  }
}

/**
 * The HTTP status GitHub answered with, or undefined when there was no answer: Octokit reports a
 * network failure as status 500 with no `response`, which must not read as a GitHub outage.
 */
export function httpStatusOf(err: unknown): number | undefined {
  const failure = err as { status?: unknown; response?: unknown } | null;
  return typeof failure?.status === "number" && failure.response !== undefined ? failure.status : undefined;
}

/**
 * Wraps an Octokit failure while doing `what` (e.g. "listing repositories of acme"). The SDK's own
 * message is left out on purpose: it is GitHub's text, which we do not control; RequestError keeps
 * the Authorization header redacted, so it is safe to keep as the cause for debugging.
 */
export function sourceErrorFrom(err: unknown, what: string): SourceError {
  const status = httpStatusOf(err);
  const why =
    status === undefined
      ? "GitHub could not be reached"
      : status === 401
        ? "GitHub refused the app's credentials (check the app id and private key)"
        : status === 403
          ? "GitHub refused access (check the app's permissions, or a rate limit)"
          : status === 404
            ? "not found on GitHub"
            : `GitHub answered HTTP ${status}`;
  // 401/404 will not heal by retrying; 403 may be a rate limit and 5xx an outage, so those may.
  return new SourceError(`${what}: ${why}`, { cause: err, permanent: status === 401 || status === 404 });
}
