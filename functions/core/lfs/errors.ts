// Errors of the LFS work, typed so callers tell a bad object from an unreachable server.
import { SourceError } from "../errors.js";

/**
 * An LFS object's bytes are not what its pointer names (wrong SHA-256 or size). Not permanent: a
 * broken transfer looks the same, and the next attempt downloads it again.
 */
export class LfsObjectError extends SourceError {
  constructor(
    message: string,
    readonly oid: string,
  ) {
    super(message);
  }
}
