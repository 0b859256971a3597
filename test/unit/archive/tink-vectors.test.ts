// Interop with Google Tink's AES256_GCM_HKDF_1MB streaming AEAD, whose wire format ours claims.
//
// test/vectors/tink/*.bin (but ours-*) were written by real Tink (python `tink` 1.16.1, the C++ core)
// with the key and associated data in index.json; here our DecryptStream must read every one of them.
// Plaintexts are not stored: test/vectors/tink/plaintext.ts regenerates them.
//
// The other direction was checked by hand, since Tink is no project dependency and CI has none:
//   npx tsx test/vectors/tink/encrypt-ours.ts /tmp/ours
//   /tmp/tinkenv/bin/python test/vectors/tink/generate.py check-ours /tmp/ours
// PASSED on 2026-11-27 with tink 1.16.1 (PyPI, Python 3.11): Tink decrypted all 9 of our ciphertexts
// (0 B, 1 B, 1048520 B, 1048521 B, 3.5 MiB, 2097080 B, 2097081 B, empty and 1500-byte associated
// data) to the right length and SHA-256, through the keyset primitive and the raw one alike. The
// small ones are kept as ours-*.bin, with the SHA-256 Tink decrypted them to, in index.json "ours".
// Regenerate everything with test/vectors/tink/generate.py (a dev tool; see its header).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  DecryptStream,
  FIRST_SEGMENT_PLAINTEXT,
  SEGMENT_PLAINTEXT,
  STREAM_HEADER_SIZE,
  TAG_SIZE,
} from "../../../functions/core/archive/streaming-aead.js";
import { ArchiveCorruptError } from "../../../functions/core/errors.js";
import { plaintext } from "../../vectors/tink/plaintext.js";

interface Vector {
  name: string;
  file: string;
  plaintextLength: number;
  plaintextSha256: string;
  associatedDataHex: string;
  ciphertextLength: number;
  tinkDecryptedSha256?: string;
}

const dir = new URL("../../vectors/tink/", import.meta.url);
const index = JSON.parse(readFileSync(new URL("index.json", dir), "utf8")) as {
  keyHex: string;
  tinkVersion: string;
  tink: Vector[];
  ours: Vector[];
};
const key = Buffer.from(index.keyHex, "hex");
const fixture = (v: Vector) => readFileSync(new URL(v.file, dir));
const adOf = (v: Vector) => Buffer.from(v.associatedDataHex, "hex");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Feeds `bytes` in uneven chunks so segment framing never lines up with writes. */
async function decrypt(cipher: Buffer, ad: Buffer, chunk = 77_777): Promise<Buffer> {
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < cipher.length; i += chunk) yield cipher.subarray(i, i + chunk);
    })(),
  );
  const out: Buffer[] = [];
  for await (const piece of source.pipe(new DecryptStream(key, ad))) out.push(piece as Buffer);
  return Buffer.concat(out);
}

const segmentsFor = (n: number) =>
  n <= FIRST_SEGMENT_PLAINTEXT ? 1 : 1 + Math.ceil((n - FIRST_SEGMENT_PLAINTEXT) / SEGMENT_PLAINTEXT);

describe("Tink interop vectors", () => {
  it("index covers the segment boundaries", () => {
    expect(index.tink.map((v) => v.plaintextLength)).toEqual(
      expect.arrayContaining([0, 1, FIRST_SEGMENT_PLAINTEXT, FIRST_SEGMENT_PLAINTEXT + 1]),
    );
    expect(Math.max(...index.tink.map((v) => v.plaintextLength))).toBeGreaterThan(3 * SEGMENT_PLAINTEXT);
    expect(index.ours.length).toBeGreaterThan(0);
  });

  describe.each([
    ["written by Tink", index.tink],
    ["written by us, read back by Tink", index.ours],
  ])("%s", (_label, vectors) => {
    it.each(vectors.map((v) => [v.name, v] as const))("%s", async (_name, v) => {
      const cipher = fixture(v);
      const expected = plaintext(v.plaintextLength);
      // The regenerated plaintext is the one the vector was made from.
      expect(sha256(expected)).toBe(v.plaintextSha256);
      if (v.tinkDecryptedSha256 !== undefined) expect(v.tinkDecryptedSha256).toBe(v.plaintextSha256);
      // Bare wire format: header length byte, then header + plaintext + one tag per segment.
      expect(cipher.length).toBe(v.ciphertextLength);
      expect(cipher[0]).toBe(STREAM_HEADER_SIZE);
      expect(cipher.length).toBe(
        STREAM_HEADER_SIZE + v.plaintextLength + segmentsFor(v.plaintextLength) * TAG_SIZE,
      );

      const plain = await decrypt(cipher, adOf(v));
      expect(plain.length).toBe(v.plaintextLength);
      expect(sha256(plain)).toBe(v.plaintextSha256);
    });
  });

  const big = index.tink.find((v) => v.name === "three-and-a-half-mib")!;
  const small = index.tink.find((v) => v.name === "one-byte")!;

  it("a flipped byte in a later segment of a Tink ciphertext is ArchiveCorruptError", async () => {
    const cipher = Buffer.from(fixture(big));
    cipher[STREAM_HEADER_SIZE + FIRST_SEGMENT_PLAINTEXT + TAG_SIZE + SEGMENT_PLAINTEXT + 1234]! ^= 0x01;
    await expect(decrypt(cipher, adOf(big))).rejects.toThrow(ArchiveCorruptError);
    await expect(decrypt(cipher, adOf(big))).rejects.toThrow(/segment 2/);
  });

  it("a flipped salt byte in a Tink header is ArchiveCorruptError", async () => {
    const cipher = Buffer.from(fixture(small));
    cipher[5]! ^= 0x80;
    await expect(decrypt(cipher, adOf(small))).rejects.toThrow(ArchiveCorruptError);
  });

  it("Tink's ciphertext is bound to its associated data", async () => {
    const wrongAd = Buffer.concat([adOf(small), Buffer.from("!")]);
    await expect(decrypt(fixture(small), wrongAd)).rejects.toThrow(ArchiveCorruptError);
  });
});
