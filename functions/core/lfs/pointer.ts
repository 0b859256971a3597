// Git LFS pointer files (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md): the small text
// blob git keeps in place of a large file, naming the real content by its SHA-256 and size.

/** git-lfs reads no blob of this size or more as a pointer; pointers are about 130 bytes. */
export const MAX_POINTER_BYTES = 1024;

/** What a pointer names: the object's SHA-256 (lowercase hex) and its size in bytes. */
export interface LfsPointer {
  oid: string;
  size: number;
}

/** The spec's version line; the second is the pre-1.0 name, still found in old repositories. */
const VERSIONS = new Set(["https://git-lfs.github.com/spec/v1", "https://hawser.github.com/spec/v1"]);
const KEY = /^[a-z0-9.-]+$/;
const OID = /^sha256:([0-9a-f]{64})$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;

/**
 * The pointer `blob` holds, or undefined when it is not one. Strict as the spec: UTF-8 lines of
 * `key value`, each ended by "\n"; `version` first, the other keys sorted and unique; `oid` of
 * sha256 and a decimal `size` required. Extension lines (`ext-…`) are allowed and ignored.
 */
export function parseLfsPointer(blob: Buffer): LfsPointer | undefined {
  if (blob.length === 0 || blob.length >= MAX_POINTER_BYTES) return undefined;
  if (blob[blob.length - 1] !== 0x0a) return undefined;
  const text = blob.toString("utf8");
  if (Buffer.byteLength(text) !== blob.length) return undefined; // not valid UTF-8
  const lines = text.slice(0, -1).split("\n");
  const fields = new Map<string, string>();
  let previous = "";
  for (const [i, line] of lines.entries()) {
    const space = line.indexOf(" ");
    if (space <= 0) return undefined;
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (!KEY.test(key) || fields.has(key)) return undefined;
    if (i === 0 ? key !== "version" : key === "version" || key <= previous) return undefined;
    if (i > 0) previous = key;
    fields.set(key, value);
  }
  if (!VERSIONS.has(fields.get("version") ?? "")) return undefined;
  const oid = OID.exec(fields.get("oid") ?? "")?.[1];
  const size = fields.get("size") ?? "";
  if (!oid || !SIZE.test(size) || !Number.isSafeInteger(Number(size))) return undefined;
  return { oid, size: Number(size) };
}

/** The pointer text for an object, as git-lfs writes it (tests and restores use it). */
export function formatLfsPointer(pointer: LfsPointer): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${pointer.oid}\nsize ${pointer.size}\n`;
}
