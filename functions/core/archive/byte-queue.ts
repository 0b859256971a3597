// A FIFO of buffers that hands out exact-length slices without concatenating everything it holds,
// so framing code (segments, headers) stays linear in the bytes that pass through it. Slices are
// views of the pushed buffers where they can be (no copy): callers must not write into them.

const EMPTY = Buffer.alloc(0);

export class ByteQueue {
  private chunks: Buffer[] = [];
  private first = 0; // index of the oldest chunk still queued (shift() is linear in the array)
  private head = 0; // offset into chunks[first]
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Removes exactly `n` bytes, as views of the queued buffers; the caller checks `length` first. */
  takeChunks(n: number): Buffer[] {
    if (n > this.length) throw new RangeError(`take(${n}) with only ${this.length} bytes queued`);
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[this.first]!;
      const count = Math.min(chunk.length - this.head, left);
      out.push(chunk.subarray(this.head, this.head + count));
      left -= count;
      this.head += count;
      if (this.head === chunk.length) {
        this.chunks[this.first++] = EMPTY; // let the consumed buffer go
        this.head = 0;
      }
    }
    if (this.first === this.chunks.length || (this.first > 1024 && this.first * 2 > this.chunks.length)) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
    this.length -= n;
    return out;
  }

  /** Removes and returns exactly `n` bytes: a view when they lie in one queued buffer, else a copy. */
  take(n: number): Buffer {
    const parts = this.takeChunks(n);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Removes and returns everything queued. */
  takeAll(): Buffer {
    return this.take(this.length);
  }
}
