// A FIFO of buffers that hands out exact-length slices without concatenating everything it holds,
// so framing code (segments, headers) stays linear in the bytes that pass through it.

export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // offset into chunks[0]
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Removes and returns exactly `n` bytes; the caller checks `length` first. */
  take(n: number): Buffer {
    if (n > this.length) throw new RangeError(`take(${n}) with only ${this.length} bytes queued`);
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const first = this.chunks[0]!;
      const available = first.length - this.head;
      const count = Math.min(available, n - written);
      first.copy(out, written, this.head, this.head + count);
      written += count;
      this.head += count;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= n;
    return out;
  }

  /** Removes and returns everything queued. */
  takeAll(): Buffer {
    return this.take(this.length);
  }
}
