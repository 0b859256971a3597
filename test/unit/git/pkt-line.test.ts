// PktReader: a pkt's payload as pieces (views of the reads) is the same bytes as the joined one,
// however the pkts straddle the reads.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { DELIM, FLUSH, PktReader, pktLine } from "../../../functions/core/git/pkt-line.js";
import { GitError } from "../../../functions/core/errors.js";

const payloads = [Buffer.from("packfile\n"), randomBytes(65_515), randomBytes(1), randomBytes(40_000)];
const wire = Buffer.concat([...payloads.map((p) => pktLine(p)), DELIM, FLUSH]);

function reads(size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < wire.length; i += size) yield wire.subarray(i, i + size);
    })(),
  );
}

describe("PktReader.nextPieces", () => {
  it.each([1, 3, 4_099, 65_536, wire.length])(
    "reads of %i bytes: the same payloads as next()",
    async (size) => {
      const joined = new PktReader(reads(size));
      const pieces = new PktReader(reads(size));
      for (const payload of payloads) {
        const a = await joined.expect();
        const b = await pieces.expectPieces();
        expect(a.kind === "data" && a.payload.equals(payload)).toBe(true);
        expect(b.kind === "data" && Buffer.concat(b.pieces).equals(payload)).toBe(true);
        // Pieces are views of what was read, never longer than one read.
        if (b.kind === "data") for (const piece of b.pieces) expect(piece.length).toBeLessThanOrEqual(size);
      }
      expect((await pieces.expectPieces()).kind).toBe("delim");
      expect((await pieces.expectPieces()).kind).toBe("flush");
      expect(await pieces.nextPieces()).toBeUndefined();
    },
  );

  it("names a stream that ends inside a pkt", async () => {
    const cut = new PktReader(Readable.from([wire.subarray(0, 30)]), () => " (here)");
    await cut.expectPieces();
    await expect(cut.expectPieces()).rejects.toThrow(GitError);
  });
});
