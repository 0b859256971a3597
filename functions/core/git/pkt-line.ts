// git's pkt-line framing (gitprotocol-common): 4 hex digits of length, then the payload;
// 0000 flush, 0001 delimiter, 0002 response end.
import type { Readable } from "node:stream";
import { GitError } from "../errors.js";
import { ByteQueue } from "../archive/byte-queue.js";

export type Pkt = { kind: "data"; payload: Buffer } | { kind: "flush" } | { kind: "delim" } | { kind: "end" };
/** A pkt whose payload is the pieces it arrived in: views of the reads, never joined. */
export type PktPieces =
  { kind: "data"; pieces: Buffer[] } | { kind: "flush" } | { kind: "delim" } | { kind: "end" };

const MAX_PKT = 65520;

export function pktLine(text: string | Buffer): Buffer {
  const payload = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  if (payload.length + 4 > MAX_PKT)
    throw new RangeError(`pkt-line payload of ${payload.length} bytes is too long`);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, "0"), "ascii"), payload]);
}

export const FLUSH = Buffer.from("0000", "ascii");
export const DELIM = Buffer.from("0001", "ascii");

/** Reads pkt-lines from a byte stream, one at a time, across several commands of a session. */
export class PktReader {
  private readonly queue = new ByteQueue();
  private readonly source: AsyncIterator<Buffer>;
  private ended = false;

  constructor(
    stream: Readable,
    private readonly describe: () => string = () => "",
  ) {
    this.source = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.queue.length < n) {
      if (this.ended) throw new GitError(`git server closed the connection mid-message${this.describe()}`);
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else this.queue.push(next.value);
    }
  }

  /** The next pkt, or undefined at a clean end of stream (between pkts). */
  async next(): Promise<Pkt | undefined> {
    const pkt = await this.nextPieces();
    if (pkt?.kind !== "data") return pkt;
    const { pieces } = pkt;
    return { kind: "data", payload: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces) };
  }

  /**
   * The next pkt, its payload as views of what was read (no copy), or undefined at a clean end of
   * stream. The pack's pkts straddle reads, so joining them would copy the whole pack once more.
   */
  async nextPieces(): Promise<PktPieces | undefined> {
    if (this.queue.length === 0 && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else this.queue.push(next.value);
    }
    if (this.queue.length === 0 && this.ended) return undefined;
    await this.fill(4);
    const head = this.queue.take(4).toString("ascii");
    const length = Number.parseInt(head, 16);
    if (!/^[0-9a-f]{4}$/i.test(head) || Number.isNaN(length)) {
      throw new GitError(
        `git server sent an invalid pkt-line header ${JSON.stringify(head)}${this.describe()}`,
      );
    }
    if (length === 0) return { kind: "flush" };
    if (length === 1) return { kind: "delim" };
    if (length === 2) return { kind: "end" };
    if (length < 4 || length > MAX_PKT) throw new GitError(`git server sent a pkt-line of length ${length}`);
    await this.fill(length - 4);
    return { kind: "data", pieces: length === 4 ? [] : this.queue.takeChunks(length - 4) };
  }

  /** The next pkt, which must exist. */
  async expect(): Promise<Pkt> {
    const pkt = await this.next();
    if (!pkt) throw new GitError(`git server closed the connection early${this.describe()}`);
    return pkt;
  }

  /** The next pkt as pieces (see nextPieces), which must exist. */
  async expectPieces(): Promise<PktPieces> {
    const pkt = await this.nextPieces();
    if (!pkt) throw new GitError(`git server closed the connection early${this.describe()}`);
    return pkt;
  }

  /** Text lines up to the next flush (or delim when `untilDelim`), trailing newline removed. */
  async lines(untilDelim = false): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const pkt = await this.expect();
      if (pkt.kind === "flush" || pkt.kind === "end" || (untilDelim && pkt.kind === "delim")) return lines;
      if (pkt.kind === "data") lines.push(pkt.payload.toString("utf8").replace(/\n$/, ""));
    }
  }
}
