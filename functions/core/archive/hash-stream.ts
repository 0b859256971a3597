// A pass-through that counts and hashes what flows by: the archive's SHA-256 is computed on
// the way to the store and on the way back, never by reading it twice.
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export class HashStream extends Transform {
  private readonly hash = createHash("sha256");
  bytes = 0;

  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }

  /** The hex digest; call once, after the stream has ended. */
  digest(): string {
    return this.hash.digest("hex");
  }
}
