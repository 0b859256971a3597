// The KMS stand-in's cryptography and request checks: AES-256-GCM under one key version's secret, a
// ciphertext that names the version that made it, and Cloud KMS's CRC32C rules.
import { createCipheriv, createDecipheriv } from "node:crypto";
import { randomBytes } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { crc32c } from "./crc32c.js";

/** Ciphertext layout: MAGIC | u32 key version id | 12-byte IV | 16-byte GCM tag | encrypted bytes. */
const MAGIC = Buffer.from("IBK1");
const HEADER = MAGIC.length + 4 + 12 + 16;
export const MAX_PLAINTEXT = 64 * 1024; // Cloud KMS limit for symmetric Encrypt

/** An error the stand-in answers with as a gRPC status. */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export const invalidCiphertext = () =>
  new RpcError(status.INVALID_ARGUMENT, "Decryption failed: the ciphertext is invalid.");

/** An Int64Value wrapper as proto-loader hands it over (absent when the client did not send it). */
export type Int64Wrapper = { value?: number | string } | null | undefined;

/** Cloud KMS semantics: an absent checksum is not verified (false); a wrong one is INVALID_ARGUMENT. */
export function checkCrc(field: string, data: Buffer, sent: Int64Wrapper): boolean {
  if (sent === undefined || sent === null) return false;
  if (Number(sent.value ?? 0) !== crc32c(data)) {
    throw new RpcError(
      status.INVALID_ARGUMENT,
      `The checksum in field ${field}_crc32c did not match the data.`,
    );
  }
  return true;
}

export function seal(versionId: number, secret: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (plaintext.length > MAX_PLAINTEXT) {
    throw new RpcError(status.INVALID_ARGUMENT, `The plaintext exceeds ${MAX_PLAINTEXT} bytes.`);
  }
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", secret, iv).setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(versionId);
  return Buffer.concat([MAGIC, id, iv, cipher.getAuthTag(), body]);
}

/** The key version id a ciphertext claims, or an INVALID_ARGUMENT error for anything not ours. */
export function versionOf(ciphertext: Buffer): number {
  if (ciphertext.length < HEADER || !ciphertext.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw invalidCiphertext();
  }
  return ciphertext.readUInt32BE(MAGIC.length);
}

export function open(secret: Buffer, ciphertext: Buffer, aad: Buffer): Buffer {
  const iv = ciphertext.subarray(MAGIC.length + 4, MAGIC.length + 16);
  const tag = ciphertext.subarray(MAGIC.length + 16, HEADER);
  try {
    const decipher = createDecipheriv("aes-256-gcm", secret, iv).setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext.subarray(HEADER)), decipher.final()]);
  } catch {
    throw invalidCiphertext(); // wrong key, wrong AAD or tampered bytes
  }
}
