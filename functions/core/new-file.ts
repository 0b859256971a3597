// Writing a stream into a new file, so that a failure leaves the file for the caller to remove.
// A pipeline rejects at its first error, before the file stream has closed; a file stream whose
// open is still pending then creates its file after the caller's cleanup removed it (found as a
// temp file left behind by a put that failed at once). Both helpers settle only once it closed.
import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Streams `body` into `file`, which must not exist yet; settles only after the file is closed. */
export async function writeNewFile(file: string, body: Readable | AsyncIterable<Buffer>): Promise<void> {
  const out = createWriteStream(file, { flags: "wx" });
  await pipeline(body, out).catch(async (err: unknown) => {
    await fileClosed(out);
    throw err;
  });
}

/** Resolves once `stream` has closed its file (it ended, or was destroyed). */
export function fileClosed(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once("close", () => resolve()));
}
