// The archive's clear-text header: which key wrapped the data key, and which snapshot this is.
// Its bytes are the associated data of the body, so a header moved onto another body fails.
import { z } from "zod";
import { ArchiveCorruptError } from "../errors.js";

export const MAGIC = Buffer.from([0x89, 0x49, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]); // \x89IBK\r\n\x1a\n
export const FORMAT_VERSION = 1;
const MAX_HEADER_JSON = 64 * 1024;
const PREAMBLE_SIZE = MAGIC.length + 2 + 4;

export const archiveHeaderSchema = z.strictObject({
  aead: z.literal("AES256_GCM_HKDF_1MB"),
  keyRef: z.string().min(1),
  wrappedKey: z.base64().min(1),
  snapshotId: z.string().min(1),
  repo: z.string().min(1),
  createdAt: z.iso.datetime(),
});
export type ArchiveHeader = z.infer<typeof archiveHeaderSchema>;

/** The header as bytes: magic, u16 version, u32 length, UTF-8 JSON. */
export function encodeHeader(header: ArchiveHeader): Buffer {
  const json = Buffer.from(JSON.stringify(archiveHeaderSchema.parse(header)), "utf8");
  const preamble = Buffer.alloc(PREAMBLE_SIZE);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt16BE(FORMAT_VERSION, MAGIC.length);
  preamble.writeUInt32BE(json.length, MAGIC.length + 2);
  return Buffer.concat([preamble, json]);
}

/**
 * Parses a header from the start of `bytes`. Returns undefined while more bytes are needed;
 * otherwise the header, its raw bytes (the associated data) and how many bytes it used.
 */
export function decodeHeader(bytes: Buffer): { header: ArchiveHeader; raw: Buffer } | undefined {
  if (bytes.length < PREAMBLE_SIZE) {
    if (!MAGIC.subarray(0, bytes.length).equals(bytes.subarray(0, MAGIC.length))) throw notAnArchive();
    return undefined;
  }
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw notAnArchive();
  const version = bytes.readUInt16BE(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new ArchiveCorruptError(
      `archive format version ${version} is not supported (this build reads ${FORMAT_VERSION})`,
    );
  }
  const length = bytes.readUInt32BE(MAGIC.length + 2);
  if (length > MAX_HEADER_JSON)
    throw new ArchiveCorruptError(
      `archive header claims ${length} bytes; at most ${MAX_HEADER_JSON} allowed`,
    );
  if (bytes.length < PREAMBLE_SIZE + length) return undefined;
  const raw = bytes.subarray(0, PREAMBLE_SIZE + length);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.subarray(PREAMBLE_SIZE).toString("utf8"));
  } catch (err) {
    throw new ArchiveCorruptError("archive header is not valid JSON", { cause: err });
  }
  const result = archiveHeaderSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ArchiveCorruptError(`archive header field "${issue.path.join(".")}": ${issue.message}`);
  }
  return { header: result.data, raw: Buffer.from(raw) };
}

function notAnArchive(): ArchiveCorruptError {
  return new ArchiveCorruptError("not an infinity-backup archive (magic bytes do not match)");
}
