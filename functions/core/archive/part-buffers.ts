// Reused buffers for the parts of an archive's git and LFS files. Tar needs a part's size before
// its bytes, so a part is held whole (8 MiB) before tar takes it: held as the pipe's 64 KiB reads,
// every byte of a pack outlived V8's young collections, and a git/git snapshot left about 320 MiB
// of dead buffers for the full collections to find (and glibc's heap kept the high-water mark).
// Copied into a few buffers used over and over, the reads die young and the parts are no garbage.
//
// A buffer is used again only once the encryption has taken every byte tar was given from it:
// the encryption reports each chunk it has copied (`taken`), and tar passes our views through as
// they are. A part that finds no free buffer waits for the one written two parts before it (its
// last bytes are still in the pipeline behind the next part), but no longer than the next part's
// writing (by then tar and the encryption have long taken it): past that, or if a chunk ever came
// in another buffer, a part gets a new buffer. Never bytes overwritten before they were encrypted.
import { PART_SIZE } from "./tar-parts.js";

/** Buffers kept for reuse: one filling while the other is written. */
const KEPT = 2;

export class PartBuffers {
  private readonly free: Buffer[] = [];
  /** Bytes handed to tar from each buffer that the encryption has not taken yet. */
  private readonly pending = new Map<ArrayBufferLike, { buffer: Buffer; left: number }>();
  private made = 0;
  /** Resolves the wait of `take` when a buffer is kept. */
  private wake: (() => void) | undefined;

  /**
   * A buffer of PART_SIZE bytes to fill: a free one; else, with KEPT made, the first released
   * before `until` settles; else a new one.
   */
  async take(until: Promise<unknown>): Promise<Buffer> {
    if (this.free.length === 0 && this.made >= KEPT) {
      await Promise.race([
        new Promise<void>((resolve) => (this.wake = resolve)),
        until.catch(() => undefined),
      ]);
      this.wake = undefined;
    }
    const reused = this.free.pop();
    if (reused) return reused;
    this.made++;
    return Buffer.allocUnsafeSlow(PART_SIZE);
  }

  /** `length` bytes of `buffer` go to tar now; it is free again once they are all `taken`. */
  handOver(buffer: Buffer, length: number): void {
    if (length === 0) return this.keep(buffer);
    this.pending.set(buffer.buffer, { buffer, left: length });
  }

  /** Called by the encryption with each chunk once its bytes are copied out of it. */
  taken(chunk: Buffer): void {
    const entry = this.pending.get(chunk.buffer);
    if (!entry) return;
    entry.left -= chunk.length;
    if (entry.left > 0) return;
    this.pending.delete(chunk.buffer);
    this.keep(entry.buffer);
  }

  /** How many buffers were allocated (tests: reuse happened). */
  get allocated(): number {
    return this.made;
  }

  private keep(buffer: Buffer): void {
    if (this.free.length < KEPT) this.free.push(buffer);
    this.wake?.();
  }
}
