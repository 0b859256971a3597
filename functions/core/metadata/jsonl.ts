// JSON Lines as a stream: one JSON object per line, "\n"-terminated, UTF-8, produced as it is read.
import { Readable } from "node:stream";
import { ArchiveCorruptError } from "../errors.js";

/** Lines are handed on in chunks of about this many bytes: a few large buffers, not one per line. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Streams `lines` as JSONL, calling `onLine` with each; pulls lines only as the stream is read, a
 * chunk at a time (one line per chunk and a reader holding many would cost far more memory than
 * the bytes, each buffer being an object of its own).
 */
export function jsonlStream(
  lines: Iterable<unknown> | AsyncIterable<unknown>,
  onLine: (line: unknown) => void = () => undefined,
): Readable {
  return Readable.from(
    (async function* () {
      let text = "";
      for await (const line of lines) {
        onLine(line);
        text += JSON.stringify(line) + "\n";
        if (text.length >= CHUNK_BYTES) {
          yield Buffer.from(text, "utf8");
          text = "";
        }
      }
      if (text.length > 0) yield Buffer.from(text, "utf8");
    })(),
    { objectMode: false },
  );
}

/** Parses a JSONL text into its objects (for readers and tests; files are small once decrypted). */
export function parseJsonl(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The longest line accepted: far above any GitHub object, a guard against a runaway read. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The "\n"-terminated UTF-8 lines of a stream, as they arrive ("\n" never occurs inside a character). */
export async function* textLines(body: Readable): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      pendingBytes = 0;
      start = end + 1;
      if (line.length) yield line.toString("utf8");
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES)
        throw new ArchiveCorruptError(`a metadata line is longer than ${MAX_LINE_BYTES} bytes`);
    }
  }
  if (pendingBytes) yield Buffer.concat(pending).toString("utf8");
}
