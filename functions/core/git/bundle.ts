// Git bundle v2 framing around a packfile (gitformat-bundle), and the pack's own integrity check:
// a packfile ends with the SHA-1 of everything before it.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { ArchiveCorruptError } from "../errors.js";
import type { RefMap } from "../model.js";

const SIGNATURE = "# v2 git bundle\n";

/** The bundle header: signature, prerequisites ("-<oid>"), refs ("<oid> <name>"), blank line. */
export function bundleHeader(refs: RefMap, head: string | undefined, prerequisites: string[] = []): Buffer {
  const lines = [SIGNATURE.trimEnd(), ...prerequisites.map((oid) => `-${oid}`)];
  if (head && refs[head]) lines.push(`${refs[head]} HEAD`);
  for (const name of Object.keys(refs).sort()) lines.push(`${refs[name]} ${name}`);
  return Buffer.from(lines.join("\n") + "\n\n", "utf8");
}

export interface BundleInfo {
  refs: RefMap;
  prerequisites: string[];
  /** Pack bytes (header excluded). */
  packBytes: number;
  /** Objects the pack header announced. */
  objects: number;
}

/**
 * Passes the pack (bundle header stripped) through to the next stage while checking it: the
 * bundle header parses, the pack header is sane, and the SHA-1 trailer matches. Errors name the file.
 */
export class BundleCheck extends Transform {
  private headerBytes = Buffer.alloc(0);
  private inPack = false;
  private readonly sha: Hash | undefined;
  private tail = Buffer.alloc(0);
  private packHeader = Buffer.alloc(0);
  readonly info: BundleInfo = { refs: {}, prerequisites: [], packBytes: 0, objects: 0 };

  /**
   * `passHeader` keeps the bundle header in the output (a checked copy of the bundle).
   * `checksum: false` skips the pack's SHA-1 when `git index-pack` reads the output anyway,
   * since it checks the same trailer (restore and deep verification).
   */
  constructor(
    private readonly label = "git/repo.bundle",
    private readonly passHeader = false,
    checksum = true,
  ) {
    super();
    this.sha = checksum ? createHash("sha1") : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.inPack) chunk = this.consumeHeader(chunk);
      if (chunk.length) this.consumePack(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private consumeHeader(chunk: Buffer): Buffer {
    const from = Math.max(0, this.headerBytes.length - 1);
    this.headerBytes = Buffer.concat([this.headerBytes, chunk]);
    const end = this.headerBytes.indexOf("\n\n", from, "latin1");
    if (end < 0) {
      if (this.headerBytes.length > 64 * 1024 * 1024) throw this.corrupt("bundle header never ends");
      return Buffer.alloc(0);
    }
    this.parseHeader(this.headerBytes.subarray(0, end + 1).toString("utf8"));
    if (this.passHeader) this.push(this.headerBytes.subarray(0, end + 2));
    this.inPack = true;
    const rest = this.headerBytes.subarray(end + 2);
    this.headerBytes = Buffer.alloc(0);
    return rest;
  }

  private parseHeader(text: string): void {
    const lines = text.split("\n").filter((l) => l.length);
    if (lines[0] !== SIGNATURE.trimEnd())
      throw this.corrupt(`not a v2 git bundle (starts ${JSON.stringify(lines[0])})`);
    for (const line of lines.slice(1)) {
      const match = /^(-?)([0-9a-f]{40})(?: (.*))?$/.exec(line);
      if (!match) throw this.corrupt(`bad bundle header line ${JSON.stringify(line)}`);
      if (match[1]) this.info.prerequisites.push(match[2]!);
      else if (match[3] && match[3] !== "HEAD") this.info.refs[match[3]] = match[2]!;
    }
  }

  private consumePack(chunk: Buffer): void {
    if (this.packHeader.length < 12) {
      this.packHeader = Buffer.concat([this.packHeader, chunk.subarray(0, 12 - this.packHeader.length)]);
      if (this.packHeader.length === 12) {
        const version = this.packHeader.readUInt32BE(4);
        if (
          this.packHeader.subarray(0, 4).toString("latin1") !== "PACK" ||
          (version !== 2 && version !== 3)
        ) {
          throw this.corrupt("pack header is not PACK v2/v3");
        }
        this.info.objects = this.packHeader.readUInt32BE(8);
      }
    }
    // Hold back the last 20 bytes seen: they may be the trailer, which is not hashed.
    if (!this.sha) {
      this.tail = Buffer.from((chunk.length >= 20 ? chunk : Buffer.concat([this.tail, chunk])).subarray(-20));
    } else if (chunk.length >= 20) {
      this.sha.update(this.tail);
      this.sha.update(chunk.subarray(0, chunk.length - 20));
      this.tail = Buffer.from(chunk.subarray(chunk.length - 20));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      const hashable = Math.max(0, joined.length - 20);
      this.sha.update(joined.subarray(0, hashable));
      this.tail = joined.subarray(hashable);
    }
    this.info.packBytes += chunk.length;
    // Passed on as it came, not joined into larger blocks: the encryption gathers each segment's
    // pieces into a buffer of its own anyway, so a join here was one more copy and allocation.
    this.push(chunk);
  }

  override _flush(done: TransformCallback): void {
    if (!this.inPack) return done(this.corrupt("bundle ended inside its header"));
    if (this.info.packBytes < 32) return done(this.corrupt(`pack is only ${this.info.packBytes} bytes`));
    if (this.sha && !this.sha.digest().equals(this.tail))
      return done(this.corrupt("pack checksum does not match its content"));
    done();
  }

  private corrupt(what: string): ArchiveCorruptError {
    return new ArchiveCorruptError(`${this.label}: ${what}`);
  }
}
