// Logical files inside the tar stream. Tar needs each entry's size before its bytes, and git
// output has no size until it ends, so a file is written as numbered parts of at most PART_SIZE
// bytes; concatenated in order they are the file. Memory stays at one part, whatever the size.
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

/** Streams `body` into `pack` as parts and returns the manifest entry that describes it. */
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
  const flush = async (bytes: Buffer): Promise<void> => {
    const name = partName(path, parts.length);
    parts.push(name);
    await addEntry(pack, name, bytes, mtime);
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    onBytes?.(chunk.length);
    queue.push(chunk);
    while (queue.length >= PART_SIZE) await flush(queue.take(PART_SIZE));
  }
  if (queue.length > 0 || parts.length === 0) await flush(queue.takeAll());
  return { path, size, sha256: hash.digest("hex"), parts };
}
