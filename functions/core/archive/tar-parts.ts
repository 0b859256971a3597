// Logical files inside the tar stream. Tar needs each entry's size before its bytes, and git
// output has no size until it ends, so a file is written as numbered parts of at most PART_SIZE
// bytes; concatenated in order they are the file. Memory stays at about two parts, whatever the size.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Pack } from "tar-stream";
import { ByteQueue } from "./byte-queue.js";
import type { ManifestEntry } from "./manifest.js";

export const PART_SIZE = 8 * 1024 * 1024;
const PART_PATTERN = /^(.+)\.part-(\d{6})$/;

export function partName(path: string, index: number): string {
  return `${path}.part-${String(index).padStart(6, "0")}`;
}

export function parsePartName(name: string): { path: string; index: number } | undefined {
  const match = PART_PATTERN.exec(name);
  return match ? { path: match[1]!, index: Number(match[2]) } : undefined;
}

export function addEntry(pack: Pack, name: string, bytes: Buffer, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: bytes.length, mode: 0o644, mtime }, bytes, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

/** One entry of `size` bytes from `pieces` (views, never joined); resolves once tar has taken them. */
function addEntryPieces(
  pack: Pack,
  name: string,
  pieces: Buffer[],
  size: number,
  mtime: Date,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = pack.entry({ name, size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve()));
    // A pack torn down mid-entry (the store failed) errors the entry: heard here, not uncaught.
    sink.on("error", reject);
    for (const piece of pieces) sink.write(piece);
    (sink as NodeJS.WritableStream).end();
  });
}

/**
 * Streams `body` into `pack` as parts and returns the manifest entry that describes it. A part is
 * handed to tar as the pieces it arrived in (no copy), and tar takes them as the archive behind it
 * moves on, so memory holds the part being filled and what is left of the one being written.
 */
export async function addFile(
  pack: Pack,
  path: string,
  body: Readable,
  mtime: Date,
  onBytes?: (n: number) => void,
): Promise<ManifestEntry> {
  const hash = createHash("sha256");
  const queue = new ByteQueue();
  const parts: string[] = [];
  let size = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async (n: number): Promise<void> => {
    await writing; // one part in flight: the next one fills while it is written
    const name = partName(path, parts.length);
    parts.push(name);
    writing = addEntryPieces(pack, name, queue.takeChunks(n), n, mtime);
    writing.catch(() => undefined); // awaited by the next flush, or below
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    onBytes?.(chunk.length);
    queue.push(chunk);
    while (queue.length >= PART_SIZE) await flush(PART_SIZE);
  }
  if (queue.length > 0 || parts.length === 0) await flush(queue.length);
  await writing;
  return { path, size, sha256: hash.digest("hex"), parts };
}
