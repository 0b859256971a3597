// Logical files inside the tar stream. Tar needs each entry's size before its bytes, and git
// output has no size until it ends, so a file is written as numbered parts of at most PART_SIZE
// bytes; concatenated in order they are the file. Memory stays at about two parts, whatever the size.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Pack } from "tar-stream";
import { ByteQueue } from "./byte-queue.js";
import type { ManifestEntry } from "./manifest.js";
import type { PartBuffers } from "./part-buffers.js";

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

/** What a part is held in until tar takes it. */
interface PartHolder {
  length: number;
  /** Gets ready for a new part's bytes; `writing` settles once the part before is written. */
  ready(writing: Promise<void>): Promise<void>;
  /** Takes bytes of `chunk` from `from` on, up to a whole part; returns how many. */
  add(chunk: Buffer, from: number): number;
  /** The held bytes as pieces for tar; the holder is empty after. */
  takePieces(): Buffer[];
}

/** The pieces as they arrived (views, never joined): metadata and other small files. */
function queuedPart(): PartHolder {
  const queue = new ByteQueue();
  return {
    get length() {
      return queue.length;
    },
    ready: () => Promise.resolve(),
    add(chunk, from) {
      const n = Math.min(chunk.length - from, PART_SIZE - queue.length);
      queue.push(from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n));
      return n;
    },
    takePieces: () => queue.takeChunks(queue.length),
  };
}

/** Tar takes a reused part buffer in pieces this size: about a segment of the encryption each. */
const PIECE_SIZE = 1024 * 1024;

/** Copied into a reused buffer (part-buffers.ts): git and LFS files. */
function filledPart(buffers: PartBuffers): PartHolder {
  let buffer: Buffer | undefined;
  let length = 0;
  return {
    get length() {
      return length;
    },
    async ready(writing) {
      buffer ??= await buffers.take(writing);
    },
    add(chunk, from) {
      if (!buffer) throw new Error("part buffer used before ready()");
      const n = chunk.copy(buffer, length, from, Math.min(chunk.length, from + PART_SIZE - length));
      length += n;
      return n;
    },
    takePieces() {
      const pieces: Buffer[] = [];
      if (buffer) {
        for (let at = 0; at < length; at += PIECE_SIZE)
          pieces.push(buffer.subarray(at, Math.min(length, at + PIECE_SIZE)));
        buffers.handOver(buffer, length);
      }
      buffer = undefined;
      length = 0;
      return pieces;
    },
  };
}

/**
 * Streams `body` into `pack` as parts and returns the manifest entry that describes it. Memory
 * holds the part being filled and what is left of the one being written: with `buffers`, copies
 * in reused buffers; without, the pieces as they arrived, handed to tar without a copy.
 */
export async function addFile(
  pack: Pack,
  path: string,
  body: Readable,
  mtime: Date,
  onBytes?: (n: number) => void,
  buffers?: PartBuffers,
): Promise<ManifestEntry> {
  const hash = createHash("sha256");
  const part = buffers ? filledPart(buffers) : queuedPart();
  const parts: string[] = [];
  let size = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await writing; // one part in flight: the next one fills while it is written
    const name = partName(path, parts.length);
    parts.push(name);
    const n = part.length;
    writing = addEntryPieces(pack, name, part.takePieces(), n, mtime);
    writing.catch(() => undefined); // awaited by the next flush, or below
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    onBytes?.(chunk.length);
    for (let at = 0; at < chunk.length;) {
      if (part.length === 0) await part.ready(writing);
      at += part.add(chunk, at);
      if (part.length === PART_SIZE) await flush();
    }
  }
  if (part.length > 0 || parts.length === 0) await flush();
  await writing;
  return { path, size, sha256: hash.digest("hex"), parts };
}
