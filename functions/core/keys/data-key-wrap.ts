// An archive's data key wrapped by its repository's key: AES-256-GCM, bound to the repository key's
// id and the snapshot, so a record moved onto another snapshot or key fails (docs/FORMAT.md §5).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KeyError } from "../errors.js";

const FORMAT = 0x01;
const NONCE_BYTES = 12;
const KEY_BYTES = 32;
const TAG_BYTES = 16;
/** 0x01 || nonce (12) || ciphertext (32) || tag (16). */
export const WRAPPED_DATA_KEY_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

/** The additional data: what the wrapped bytes belong to. */
export function dataKeyBinding(keyId: string, snapshotId: string): Buffer {
  return Buffer.from(`infinity-backup archive key v1\n${keyId}\n${snapshotId}`, "utf8");
}

export function wrapDataKey(
  repositoryKey: Buffer,
  keyId: string,
  snapshotId: string,
  dataKey: Buffer,
): Buffer {
  if (repositoryKey.length !== KEY_BYTES || dataKey.length !== KEY_BYTES) {
    throw new KeyError(`repository and data keys are ${KEY_BYTES} bytes`, { permanent: true });
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", repositoryKey, nonce);
  cipher.setAAD(dataKeyBinding(keyId, snapshotId));
  const sealed = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), nonce, sealed, cipher.getAuthTag()]);
}

export function unwrapDataKey(
  repositoryKey: Buffer,
  keyId: string,
  snapshotId: string,
  wrapped: Buffer,
): Buffer {
  const refused = (cause?: unknown) =>
    new KeyError(
      `the data key of snapshot ${snapshotId} could not be unwrapped with repository key ${keyId} ` +
        `(wrong key or damaged key record)`,
      { cause, permanent: true },
    );
  if (wrapped.length !== WRAPPED_DATA_KEY_BYTES || wrapped[0] !== FORMAT) throw refused();
  const decipher = createDecipheriv("aes-256-gcm", repositoryKey, wrapped.subarray(1, 1 + NONCE_BYTES));
  decipher.setAAD(dataKeyBinding(keyId, snapshotId));
  decipher.setAuthTag(wrapped.subarray(WRAPPED_DATA_KEY_BYTES - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(wrapped.subarray(1 + NONCE_BYTES, WRAPPED_DATA_KEY_BYTES - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (err) {
    throw refused(err);
  }
}
