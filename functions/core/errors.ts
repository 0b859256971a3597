// Typed errors, checked by kind (`err instanceof ArchiveCorruptError`) rather than by message.
// Every error meant for a person says what is wrong and where, and never carries a secret.
import { scrub } from "./redact.js";

/** Base class: all errors the product raises on purpose. `permanent` errors must not be retried. */
export class BackupError extends Error {
  readonly permanent: boolean;
  constructor(message: string, options: { cause?: unknown; permanent?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.permanent = options.permanent ?? false;
  }
}

/** Bad input from a person: config, CLI arguments, request bodies, messages. Never retried. */
export class UserInputError extends BackupError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: true });
  }
}

/** The archive bytes are not what was written: tampered, truncated, reordered or damaged. */
export class ArchiveCorruptError extends BackupError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: true });
  }
}

/** A data key could not be wrapped or unwrapped: wrong key, missing key, key service refused. */
export class KeyError extends BackupError {}

/**
 * The repository was forgotten (`infinity-backup forget`): its keys were destroyed, so its archives
 * can never be decrypted again. Permanent; says when, by whom and why.
 */
export class ShreddedError extends KeyError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: true });
  }
}

/** A blob or index record that was asked for does not exist. */
export class NotFoundError extends BackupError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: true });
  }
}

/** A write was refused because its precondition failed (object exists, lease held by someone else). */
export class ConflictError extends BackupError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: true });
  }
}

/**
 * The store refused to delete or replace an object under retention or on legal hold: nobody may
 * remove it before its time, and nothing forces it (ports.ts, BlobStore.delete).
 */
export class RetainedError extends ConflictError {}

/**
 * Another snapshot of the repository holds its lease. Transient: a queued request is redelivered
 * later and then finds itself satisfied by that snapshot, or runs.
 */
export class LeaseHeldError extends BackupError {}

/** A source repository could not be read (unreachable host, auth refused, protocol error). */
export class SourceError extends BackupError {}

/** The git host says there is no repository at that address (HTTP 404). */
export class RepositoryNotFoundError extends SourceError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, permanent: true });
  }
}

/** A git command or the git protocol failed. */
export class GitError extends BackupError {}

/** Work stopped because its time ran out; nothing half-made was committed. Retried elsewhere. */
export class DeadlineError extends BackupError {}

/** Turns anything thrown into a one-line message fit for a log or a person, credentials scrubbed. */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return scrub(tlsVersionRefused(err) ? `${message}: ${TLS_VERSION_HINT}` : message);
}

const TLS_VERSION_HINT =
  "the server does not offer the TLS version required (TLS 1.3 by default); for an older GitHub " +
  "Enterprise Server set network.minTlsVersion: TLSv1.2 in config/backup-config.yaml";

/** OpenSSL's answers when the two sides share no protocol version, anywhere in the cause chain. */
function tlsVersionRefused(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (/^ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE)$/.test(code))
      return true;
    if (/alert protocol version|unsupported protocol|no protocols available/i.test(e.message)) return true;
  }
  return false;
}
