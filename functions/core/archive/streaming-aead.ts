// Streaming AEAD with the wire format of Google Tink's AES256_GCM_HKDF_1MB: the body of every
// archive. See docs/FORMAT.md for the byte layout; the comments here say why, not what.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { ArchiveCorruptError } from "../errors.js";
import { ByteQueue } from "./byte-queue.js";
import type { CryptoWorker, WorkerHash } from "./crypto-worker.js";

export const KEY_SIZE = 32;
export const SEGMENT_SIZE = 1 << 20;
export const TAG_SIZE = 16;
const NONCE_PREFIX_SIZE = 7;
const SALT_SIZE = KEY_SIZE;
/** 1 length byte + salt + nonce prefix. */
export const STREAM_HEADER_SIZE = 1 + SALT_SIZE + NONCE_PREFIX_SIZE;
/** The first segment shares its ciphertext budget with the stream header. */
export const FIRST_SEGMENT_PLAINTEXT = SEGMENT_SIZE - STREAM_HEADER_SIZE - TAG_SIZE;
export const SEGMENT_PLAINTEXT = SEGMENT_SIZE - TAG_SIZE;

/** HKDF-SHA256 for one 32-byte output block. Written out because node's hkdf caps `info` at 1 KiB. */
export function hkdfSha256(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
  const prk = createHmac("sha256", salt).update(ikm).digest();
  return createHmac("sha256", prk)
    .update(info)
    .update(Buffer.from([1]))
    .digest();
}

function segmentNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_SIZE);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_SIZE) throw new RangeError(`data key must be ${KEY_SIZE} bytes, got ${key.length}`);
}

export interface EncryptOptions {
  /**
   * Seal segments on this worker instead of this thread: in order, up to SEALS_IN_FLIGHT ahead
   * of what has been pushed on. The output is the same bytes for the same salt and nonce prefix.
   */
  worker?: CryptoWorker;
  /** With `worker`: a hash on it, fed the stream header and then every segment as sealed. */
  outputHash?: WorkerHash;
  /** The salt and nonce prefix; random unless given (tests compare two encryptions). */
  salt?: Buffer;
  noncePrefix?: Buffer;
  /**
   * Without `worker`: called with each chunk written once its bytes are copied out of it, so its
   * buffer may be written again (archive/part-buffers.ts).
   */
  onTaken?: (chunk: Buffer) => void;
}

/** Segments handed to the worker and not yet pushed on: enough to keep it busy, little memory. */
export const SEALS_IN_FLIGHT = 4;

/** Encrypts a plaintext stream; `associatedData` is authenticated with every segment (via HKDF). */
export class EncryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private readonly key: Buffer;
  private readonly prefix: Buffer;
  private readonly worker: CryptoWorker | undefined;
  private readonly outputHash: WorkerHash | undefined;
  private index = 0;
  /** Segments on the worker, in order; `out` is set once sealed (ciphertext, tag). */
  private readonly sealing: { out?: Buffer[] }[] = [];
  /** Plaintext buffers back from the worker, refilled for later segments (no allocation each). */
  private readonly spare: Uint8Array[] = [];
  /** The callback of a write held back while SEALS_IN_FLIGHT segments are on the worker. */
  private heldWrite: TransformCallback | undefined;
  private flushed: TransformCallback | undefined;
  /** Without a worker: where each segment's plaintext is copied as it arrives, for one update. */
  private gather: Buffer | undefined;
  /** Bytes of `gather` filled. */
  private filled = 0;
  private readonly onTaken: ((chunk: Buffer) => void) | undefined;

  constructor(dataKey: Buffer, associatedData: Buffer, options: EncryptOptions = {}) {
    super();
    checkKey(dataKey);
    const salt = options.salt ?? randomBytes(SALT_SIZE);
    this.prefix = options.noncePrefix ?? randomBytes(NONCE_PREFIX_SIZE);
    if (salt.length !== SALT_SIZE || this.prefix.length !== NONCE_PREFIX_SIZE)
      throw new RangeError(`salt and nonce prefix must be ${SALT_SIZE} and ${NONCE_PREFIX_SIZE} bytes`);
    this.key = hkdfSha256(dataKey, salt, associatedData);
    this.worker = options.worker;
    this.outputHash = options.worker ? options.outputHash : undefined;
    this.onTaken = options.worker ? undefined : options.onTaken;
    const streamHeader = Buffer.concat([Buffer.from([STREAM_HEADER_SIZE]), salt, this.prefix]);
    this.outputHash?.update(streamHeader);
    this.push(streamHeader);
  }

  private plaintextBudget(): number {
    return this.index === 0 ? FIRST_SEGMENT_PLAINTEXT : SEGMENT_PLAINTEXT;
  }

  private nextNonce(last: boolean): Buffer {
    if (this.index > 0xffffffff) throw new RangeError("archive exceeds 2^32 segments");
    return segmentNonce(this.prefix, this.index++, last);
  }

  /** Hands one segment's plaintext, given as the queued pieces it spans, to the worker to seal. */
  private sealOnWorker(plaintext: Buffer[], last: boolean): void {
    const nonce = this.nextNonce(last);
    const entry: { out?: Buffer[] } = {};
    this.sealing.push(entry);
    this.worker!.seal(this.key, nonce, this.joined(plaintext), this.outputHash).then(
      (sealed) => {
        entry.out = [sealed.body, sealed.tag];
        if (this.spare.length < SEALS_IN_FLIGHT) this.spare.push(new Uint8Array(sealed.plaintext.buffer));
        this.release();
      },
      (err: Error) => this.fail(err),
    );
  }

  /**
   * Copies `chunk` into the segment being gathered, sealing each full one once a byte beyond it
   * exists (only the last segment is sealed as last). One copy as the bytes arrive, and one
   * cipher update per segment (node allocates each update's output), pushed as its ciphertext and
   * tag: a segment's worth of small pieces would cost a write (a system call) each downstream.
   */
  private gatherAndSeal(chunk: Buffer): void {
    const gather = (this.gather ??= Buffer.allocUnsafe(SEGMENT_PLAINTEXT));
    for (let at = 0; at < chunk.length;) {
      if (this.filled === this.plaintextBudget()) this.sealGathered(false);
      const end = Math.min(chunk.length, at + this.plaintextBudget() - this.filled);
      this.filled += chunk.copy(gather, this.filled, at, end);
      at = end;
    }
  }

  private sealGathered(last: boolean): void {
    const cipher = createCipheriv("aes-256-gcm", this.key, this.nextNonce(last));
    const body = cipher.update(this.gather ? this.gather.subarray(0, this.filled) : Buffer.alloc(0));
    this.filled = 0;
    cipher.final();
    this.push(body);
    this.push(cipher.getAuthTag());
  }

  /** The pieces copied into one buffer of its own (the worker takes it whole). */
  private joined(pieces: Buffer[]): Uint8Array {
    let size = 0;
    for (const piece of pieces) size += piece.length;
    const buffer = this.spare.pop() ?? new Uint8Array(SEGMENT_PLAINTEXT);
    const view = buffer.subarray(0, size);
    let at = 0;
    for (const piece of pieces) {
      view.set(piece, at);
      at += piece.length;
    }
    return view;
  }

  /** Pushes on the segments the worker has sealed, in order, and lets held-back work continue. */
  private release(): void {
    while (this.sealing[0]?.out) for (const part of this.sealing.shift()!.out!) this.push(part);
    if (this.heldWrite && this.sealing.length < SEALS_IN_FLIGHT) {
      const resume = this.heldWrite;
      this.heldWrite = undefined;
      resume();
    }
    if (this.flushed && this.sealing.length === 0) {
      const flushed = this.flushed;
      this.flushed = undefined;
      flushed();
    }
  }

  private fail(err: Error): void {
    const callback = this.heldWrite ?? this.flushed;
    this.heldWrite = this.flushed = undefined;
    if (callback) callback(err);
    else this.destroy(err);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.worker) {
        this.gatherAndSeal(chunk);
        this.onTaken?.(chunk);
        return done();
      }
      this.queue.push(chunk);
      // A segment is sealed as "not last" only once a byte beyond it exists.
      while (this.queue.length > this.plaintextBudget())
        this.sealOnWorker(this.queue.takeChunks(this.plaintextBudget()), false);
    } catch (err) {
      return done(err as Error);
    }
    if (this.sealing.length < SEALS_IN_FLIGHT) done();
    else this.heldWrite = done;
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.worker) return (this.sealGathered(true), done());
      this.sealOnWorker(this.queue.takeChunks(this.queue.length), true);
    } catch (err) {
      return done(err as Error);
    }
    if (this.sealing.length === 0) done();
    else this.flushed = done;
  }
}

/** Decrypts what EncryptStream wrote, naming the segment at fault when anything is off. */
export class DecryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private readonly dataKey: Buffer;
  private readonly associatedData: Buffer;
  private key: Buffer | undefined;
  private prefix = Buffer.alloc(0);
  private index = 0;
  /** Where a segment's pieces are gathered for its one decipher update (see open). */
  private gather: Buffer | undefined;
  /** Plaintext bytes released so far. */
  plaintextBytes = 0;

  constructor(dataKey: Buffer, associatedData: Buffer) {
    super();
    checkKey(dataKey);
    this.dataKey = dataKey;
    this.associatedData = associatedData;
  }

  private segmentCiphertextSize(): number {
    return (this.index === 0 ? FIRST_SEGMENT_PLAINTEXT : SEGMENT_PLAINTEXT) + TAG_SIZE;
  }

  /**
   * Decrypts one segment, given as the queued pieces it spans, into one buffer: whatever size the
   * store reads in, what follows gets whole segments, since every stage after this one pays per
   * chunk. Pieces are gathered into a reused buffer first, so that the cipher's one output is the
   * only allocation (node allocates each update's output). The plaintext is returned only once the
   * tag has authenticated all of it.
   */
  private open(segment: Buffer[], last: boolean): Buffer | undefined {
    const whole = segment.length === 1 ? segment[0]! : this.gathered(segment);
    const bodySize = whole.length - TAG_SIZE;
    const decipher = createDecipheriv("aes-256-gcm", this.key!, segmentNonce(this.prefix, this.index, last));
    decipher.setAuthTag(whole.subarray(bodySize));
    const plaintext = decipher.update(whole.subarray(0, bodySize));
    try {
      decipher.final();
      return plaintext;
    } catch {
      return undefined;
    }
  }

  /** The pieces copied into this stream's own buffer, valid until the next call. */
  private gathered(pieces: Buffer[]): Buffer {
    this.gather ??= Buffer.allocUnsafe(SEGMENT_SIZE);
    let at = 0;
    for (const piece of pieces) at += piece.copy(this.gather, at);
    return this.gather.subarray(0, at);
  }

  private readStreamHeader(): boolean {
    if (this.key) return true;
    if (this.queue.length < STREAM_HEADER_SIZE) return false;
    const header = this.queue.take(STREAM_HEADER_SIZE);
    if (header[0] !== STREAM_HEADER_SIZE) {
      throw new ArchiveCorruptError(
        `stream header length byte is ${header[0]}, expected ${STREAM_HEADER_SIZE}`,
      );
    }
    const salt = header.subarray(1, 1 + SALT_SIZE);
    this.prefix = Buffer.from(header.subarray(1 + SALT_SIZE));
    this.key = hkdfSha256(this.dataKey, salt, this.associatedData);
    return true;
  }

  private release(plaintext: Buffer): void {
    this.index++;
    this.plaintextBytes += plaintext.length;
    if (plaintext.length > 0) this.push(plaintext);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.queue.push(chunk);
      if (!this.readStreamHeader()) return done();
      // Hold back a full segment until a byte beyond it proves it is not the last one.
      while (this.queue.length > this.segmentCiphertextSize()) {
        const segment = this.queue.takeChunks(this.segmentCiphertextSize());
        const plaintext = this.open(segment, false);
        if (!plaintext) {
          const detail = this.open(segment, true)
            ? "is marked final but more data follows it"
            : this.index === 0
              ? "failed authentication (wrong key, or a header that does not belong to this body)"
              : "failed authentication";
          throw new ArchiveCorruptError(`segment ${this.index} ${detail}`);
        }
        this.release(plaintext);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.key) throw new ArchiveCorruptError("archive truncated inside the stream header");
      if (this.queue.length < TAG_SIZE) {
        throw new ArchiveCorruptError(
          this.queue.length === 0 && this.index > 0
            ? `archive truncated after segment ${this.index - 1}`
            : `archive truncated inside segment ${this.index}`,
        );
      }
      const size = this.queue.length;
      const segment = this.queue.takeChunks(size);
      const plaintext = this.open(segment, true);
      if (!plaintext) {
        if (this.open(segment, false)) {
          throw new ArchiveCorruptError(`archive truncated after segment ${this.index}`);
        }
        throw new ArchiveCorruptError(
          size < this.segmentCiphertextSize()
            ? `segment ${this.index} failed authentication (damaged, or the archive was truncated inside it)`
            : `segment ${this.index} failed authentication`,
        );
      }
      this.release(plaintext);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
