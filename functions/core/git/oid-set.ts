// A layer's object index (docs/ARCHITECTURE.md, "Shared pack layers"): the object ids of one pack,
// sorted, 20 bytes each with nothing between them (the "git/layer.oids" member), and a membership
// check that binary-searches those bytes in place. Built from `git show-index` of the pack's .idx
// (what `git index-pack` writes), one line at a time. Not wired in yet.
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { ArchiveCorruptError } from "../errors.js";
import { startGit } from "./exec.js";

/** Bytes of one object id (SHA-1; SHA-256 repositories are not supported yet). */
export const OID_BYTES = 20;
const HEX_OID = /^[0-9a-f]{40}$/;

/** Sorted, distinct object ids over one buffer; `has` searches it without copying. */
export class OidSet {
  private constructor(readonly bytes: Buffer) {}

  /**
   * Takes `bytes` as they are stored (no copy). Throws ArchiveCorruptError, naming `what`, when the
   * length is not a multiple of 20 or the ids are not strictly increasing (a search would then lie).
   */
  static fromBytes(bytes: Buffer, what = "object index"): OidSet {
    if (bytes.length % OID_BYTES !== 0) {
      throw new ArchiveCorruptError(
        `${what}: ${bytes.length} bytes is not a whole number of ${OID_BYTES}-byte object ids`,
      );
    }
    for (let at = OID_BYTES; at < bytes.length; at += OID_BYTES) {
      if (bytes.compare(bytes, at - OID_BYTES, at, at, at + OID_BYTES) <= 0) {
        throw new ArchiveCorruptError(
          `${what}: object id ${at / OID_BYTES} is not greater than the one before it`,
        );
      }
    }
    return new OidSet(bytes);
  }

  get size(): number {
    return this.bytes.length / OID_BYTES;
  }

  /** The id at `index` (0-based), as hex. */
  at(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.size)
      throw new RangeError(`no object id ${index} in a set of ${this.size}`);
    return this.bytes.toString("hex", index * OID_BYTES, (index + 1) * OID_BYTES);
  }

  /** Whether the set holds `oid` (40 hex digits, any case, or 20 bytes); anything else is never held. */
  has(oid: string | Buffer): boolean {
    const key =
      typeof oid === "string" ? (HEX_OID.test(oid.toLowerCase()) ? Buffer.from(oid, "hex") : undefined) : oid;
    if (key === undefined || key.length !== OID_BYTES) return false;
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const order = key.compare(this.bytes, mid * OID_BYTES, (mid + 1) * OID_BYTES);
      if (order === 0) return true;
      if (order < 0) high = mid - 1;
      else low = mid + 1;
    }
    return false;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.at(i);
  }
}

/**
 * The object ids a pack index lists, in its order (sorted), read from `git show-index` one line at
 * a time: "<offset> <oid> (<crc32>)" for a version 2 index, "<offset> <oid>" for version 1.
 */
export async function* packIndexOids(idxFile: string): AsyncGenerator<Buffer> {
  // Opened first, so a missing file is reported as such (ENOENT with its path), not as git's complaint.
  const input = createReadStream(idxFile);
  await once(input, "open");
  const run = startGit(["show-index"], { stdin: "pipe" });
  const feeding = pipeline(input, run.child.stdin!);
  // Whichever fails first is reported; the other is awaited below so nothing is left unhandled.
  feeding.catch(() => undefined);
  run.done.catch(() => undefined);
  let line = 0;
  try {
    for await (const text of createInterface({ input: run.child.stdout!, crlfDelay: Infinity })) {
      line++;
      const oid = text.split(" ")[1] ?? "";
      if (!HEX_OID.test(oid)) {
        throw new ArchiveCorruptError(
          `git show-index of ${idxFile}, line ${line}: expected "<offset> <oid>", got ${JSON.stringify(text.slice(0, 100))}`,
        );
      }
      yield Buffer.from(oid, "hex");
    }
    await run.done;
    // git reads the entries and stops before the index's trailing checksums, closing its input: a
    // feed cut short that way is not an error once git has succeeded.
    await feeding.catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_PREMATURE_CLOSE") throw err;
    });
  } finally {
    if (run.child.exitCode === null) run.child.kill();
  }
}

/**
 * Gathers ids into an OidSet, checking the order as they come (a pack index is sorted; anything
 * else is refused, naming `what`). Holds the set's own bytes only: 20 per object, grown by doubling.
 */
export async function collectOids(oids: AsyncIterable<Buffer>, what = "object index"): Promise<OidSet> {
  let bytes = Buffer.alloc(64 * OID_BYTES);
  let used = 0;
  for await (const oid of oids) {
    if (oid.length !== OID_BYTES)
      throw new ArchiveCorruptError(`${what}: an object id of ${oid.length} bytes`);
    if (used > 0 && oid.compare(bytes, used - OID_BYTES, used) <= 0) {
      throw new ArchiveCorruptError(
        `${what}: object id ${used / OID_BYTES} (${oid.toString("hex")}) is not greater than the one before it`,
      );
    }
    if (used === bytes.length) {
      const grown = Buffer.alloc(bytes.length * 2);
      bytes.copy(grown, 0, 0, used);
      bytes = grown;
    }
    oid.copy(bytes, used);
    used += OID_BYTES;
  }
  return OidSet.fromBytes(bytes.subarray(0, used), what);
}

/** The object index of the pack whose .idx is `idxFile` (as `git index-pack` wrote it). */
export function packOidSet(idxFile: string): Promise<OidSet> {
  return collectOids(packIndexOids(idxFile), `pack index ${idxFile}`);
}
