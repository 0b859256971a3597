// The one rule for BlobStore keys, shared by every adapter so that a key valid in one store is
// valid in all: "/"-separated segments, no leading "/", no "." / ".." / empty segments.
import { UserInputError } from "./errors.js";

/** The longest key, in UTF-8 bytes (Cloud Storage's limit for object names). */
export const MAX_BLOB_KEY_BYTES = 1024;

/** Throws UserInputError naming the key and what is wrong with it. */
export function assertValidBlobKey(key: string): void {
  const problem = blobKeyProblem(key);
  if (problem !== undefined) {
    throw new UserInputError(`invalid blob key ${quoteKey(key)}: ${problem}`);
  }
}

/** JSON-quoted (so control characters show), shortened so a huge key cannot flood a log. */
function quoteKey(key: unknown): string {
  const text = typeof key === "string" ? key : String(key);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function blobKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string") return `it is a ${typeof key}, not a string`;
  if (key.length === 0) return "it is empty";
  if (key.startsWith("/")) return 'it starts with "/"';
  if (key.includes("\\")) return 'it contains a backslash ("/" separates segments)';
  if (key.includes("\0")) return "it contains a NUL character";
  // Control characters break logs and some stores' listings; reject them all (C0, DEL, C1).
  if (/[\u0001-\u001f\u007f-\u009f]/.test(key)) return "it contains a control character";
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_BLOB_KEY_BYTES) return `it is ${bytes} bytes long (at most ${MAX_BLOB_KEY_BYTES})`;
  for (const segment of key.split("/")) {
    if (segment === "." || segment === "..") return `it has a "${segment}" segment`;
    // An empty segment ("a//b", "a/") has no folder equivalent and is almost always a bug.
    if (segment === "") return 'it has an empty segment ("//" or a trailing "/")';
  }
  return undefined;
}
