// Back-pressure on a writable that may die under us (a git process's stdin): wait for room or its end.
import type { Writable } from "node:stream";

/** Resolves once `stream` takes more, or has closed (its owner says why, if it failed). */
export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
  });
}
