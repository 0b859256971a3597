// JSON Lines as a stream: one JSON object per line, "\n"-terminated, UTF-8, produced as it is read.
import { Readable } from "node:stream";

/** Streams `lines` as JSONL, calling `onLine` with each; pulls the next line only when read. */
export function jsonlStream(
  lines: Iterable<unknown> | AsyncIterable<unknown>,
  onLine: (line: unknown) => void = () => undefined,
): Readable {
  return Readable.from(
    (async function* () {
      for await (const line of lines) {
        onLine(line);
        yield Buffer.from(JSON.stringify(line) + "\n", "utf8");
      }
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
