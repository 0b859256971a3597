// A slow disk for one call: every fs.open (the callback form file streams use) starts late. With
// it a test can fail a stream while its file is still being opened.
import fs from "node:fs";
import { Readable } from "node:stream";

/** Runs `work` with every fs.open delayed by `ms`, then puts the real one back. */
export async function withSlowOpen<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const realOpen = fs.open;
  const slowOpen = (...args: Parameters<typeof fs.open>) => void setTimeout(() => realOpen(...args), ms);
  fs.open = slowOpen as typeof fs.open;
  try {
    return await work();
  } finally {
    fs.open = realOpen;
  }
}

/** A body that fails with `message` on its first read, before a byte is passed on. */
export function failingAtOnce(message: string): Readable {
  return new Readable({
    read() {
      this.destroy(new Error(message));
    },
  });
}

/** Waits long enough for an open delayed by `withSlowOpen(ms)` to have landed. */
export const settled = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms * 3));
