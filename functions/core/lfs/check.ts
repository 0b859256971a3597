// Checks an LFS object's bytes as they pass: its SHA-256 must be its oid and its length the size
// its pointer says. The error comes before the last byte leaves, so a bad object never ends whole.
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { LfsObjectError } from "./errors.js";

export class LfsObjectCheck extends Transform {
  private readonly hash = createHash("sha256");
  private bytes = 0;

  /**
   * `where` says where the bytes came from ("the LFS server", "the archive") for the error;
   * `fail` makes the error (an archive's bad bytes are ArchiveCorruptError, not a source's fault).
   */
  constructor(
    readonly oid: string,
    /** The size the pointer says; undefined: the SHA-256 alone decides (the archive's entry has the size). */
    readonly size: number | undefined,
    private readonly where: string,
    private readonly fail: (message: string, oid: string) => Error = (m, oid) => new LfsObjectError(m, oid),
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.size !== undefined && this.bytes > this.size)
      return done(this.failure(`more than its ${this.size} bytes`));
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.size !== undefined && this.bytes !== this.size)
      return done(this.failure(`${this.bytes} bytes, not ${this.size}`));
    const sha256 = this.hash.digest("hex");
    if (sha256 !== this.oid) return done(this.failure(`bytes whose SHA-256 is ${sha256.slice(0, 12)}…`));
    done();
  }

  private failure(what: string): Error {
    return this.fail(`LFS object ${this.oid} from ${this.where} has ${what}: refused`, this.oid);
  }
}
