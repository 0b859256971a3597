// The archive's clear-text header: which key wrapped the data key, and which snapshot this is.
// Its bytes are the associated data of the body, so a header moved onto another body fails.
import { z } from "zod";
import { ArchiveCorruptError } from "../errors.js";

export const MAGIC = Buffer.from([0x89, 0x49, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]); // \x89IBK\r\n\x1a\n
/**
 * Version 2 (written now): the data key is not in the archive but in the index's key record,
 * wrapped by the repository's key, so a rewrap or a forget never touches the archive's bytes.
 * Version 1 (still read): the data key wrapped by the KMS key or the key file, in the header.
 */
export const FORMAT_VERSION = 2;
/** A version 2 header's keyRef: the data key is in the snapshot's key record (core/keys/). */
export const REPOSITORY_KEY_REF = "repository-key";
const MAX_HEADER_JSON = 64 * 1024;
const PREAMBLE_SIZE = MAGIC.length + 2 + 4;

const common = {
  aead: z.literal("AES256_GCM_HKDF_1MB"),
  snapshotId: z.string().min(1),
  repo: z.string().min(1),
  createdAt: z.iso.datetime(),
};
const headerV1Schema = z.strictObject({
  ...common,
  keyRef: z
    .string()
    .min(1)
    .refine(
      (ref) => ref !== REPOSITORY_KEY_REF,
      '"repository-key" is for version 2 headers; version 1 names a KMS key version or local:<id>',
    ),
  wrappedKey: z.base64().min(1),
});
const headerV2Schema = z.strictObject({ ...common, keyRef: z.literal(REPOSITORY_KEY_REF) });
export const archiveHeaderSchema = z.union([headerV1Schema, headerV2Schema]);
/** A version 1 header (data key wrapped inside it) or a version 2 one (data key in the index). */
export type ArchiveHeader = z.infer<typeof archiveHeaderSchema>;

/** The header as bytes: magic, u16 version, u32 length, UTF-8 JSON. */
export function encodeHeader(header: ArchiveHeader): Buffer {
  const version = header.keyRef === REPOSITORY_KEY_REF ? 2 : 1;
  const json = Buffer.from(JSON.stringify(schemaOf(version).parse(header)), "utf8");
  const preamble = Buffer.alloc(PREAMBLE_SIZE);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt16BE(version, MAGIC.length);
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
  if (version !== 1 && version !== 2) {
    throw new ArchiveCorruptError(
      `archive format version ${version} is not supported (this build reads 1 and 2)`,
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
  const result = schemaOf(version as 1 | 2).safeParse(parsed); // 1 or 2: checked above
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ArchiveCorruptError(`archive header field "${issue.path.join(".")}": ${issue.message}`);
  }
  return { header: result.data, raw: Buffer.from(raw) };
}

function schemaOf(version: 1 | 2): z.ZodType<ArchiveHeader> {
  return version === 1 ? headerV1Schema : headerV2Schema;
}

function notAnArchive(): ArchiveCorruptError {
  return new ArchiveCorruptError("not an infinity-backup archive (magic bytes do not match)");
}
