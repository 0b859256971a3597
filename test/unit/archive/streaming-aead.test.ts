// Vectors for the streaming AEAD: sizes at every boundary, and every way the bytes can be damaged.
import { createCipheriv, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  DecryptStream,
  EncryptStream,
  FIRST_SEGMENT_PLAINTEXT,
  hkdfSha256,
  SEGMENT_PLAINTEXT,
  SEGMENT_SIZE,
  STREAM_HEADER_SIZE,
  TAG_SIZE,
} from "../../../functions/core/archive/streaming-aead.js";
import { ArchiveCorruptError } from "../../../functions/core/errors.js";

const key = randomBytes(32);
const ad = Buffer.from("associated data");

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Feeds `bytes` in uneven chunks so segment framing never lines up with writes. */
function chunked(bytes: Buffer, size = 100_003): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
  );
}

const encrypt = (plain: Buffer, k = key, a = ad) => collect(chunked(plain).pipe(new EncryptStream(k, a)));
const decrypt = (cipher: Buffer, k = key, a = ad) => collect(chunked(cipher).pipe(new DecryptStream(k, a)));

/** Offset of segment `i` in the ciphertext. */
const segmentOffset = (i: number) => (i === 0 ? STREAM_HEADER_SIZE : SEGMENT_SIZE + (i - 1) * SEGMENT_SIZE);

describe("streaming AEAD round trip", () => {
  it.each([
    ["empty", 0, 1],
    ["one byte", 1, 1],
    ["exactly one segment", FIRST_SEGMENT_PLAINTEXT, 1],
    ["one segment plus one byte", FIRST_SEGMENT_PLAINTEXT + 1, 2],
    ["exactly two segments", FIRST_SEGMENT_PLAINTEXT + SEGMENT_PLAINTEXT, 2],
    ["several segments", FIRST_SEGMENT_PLAINTEXT + 3 * SEGMENT_PLAINTEXT + 12_345, 5],
  ])("%s", async (_name, size, segments) => {
    const plain = randomBytes(size);
    const cipher = await encrypt(plain);
    const lastSegmentPlain =
      size <= FIRST_SEGMENT_PLAINTEXT
        ? size
        : size - FIRST_SEGMENT_PLAINTEXT - (segments - 2) * SEGMENT_PLAINTEXT;
    expect(cipher.length).toBe(STREAM_HEADER_SIZE + size + segments * TAG_SIZE);
    expect(lastSegmentPlain).toBeGreaterThanOrEqual(0);
    expect((await decrypt(cipher)).equals(plain)).toBe(true);
  });

  it.each([1, 4_099, 65_536])(
    "does not depend on how the bytes are cut (pieces of %i bytes, tags across pieces)",
    async (size) => {
      /** Pieces of `size` bytes; single bytes only around segment 0's tag, to keep the test fast. */
      const cut = (bytes: Buffer): Buffer[] =>
        size === 1
          ? [
              bytes.subarray(0, SEGMENT_SIZE - 40),
              ...[...bytes.subarray(SEGMENT_SIZE - 40, SEGMENT_SIZE + 40)].map((b) => Buffer.from([b])),
              bytes.subarray(SEGMENT_SIZE + 40),
            ]
          : Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
              bytes.subarray(i * size, (i + 1) * size),
            );
      const plain = randomBytes(FIRST_SEGMENT_PLAINTEXT + SEGMENT_PLAINTEXT + 999);
      const cipher = await collect(Readable.from(cut(plain)).pipe(new EncryptStream(key, ad)));
      const back = await collect(Readable.from(cut(cipher)).pipe(new DecryptStream(key, ad)));
      expect(back.equals(plain)).toBe(true);
      const damaged = Buffer.from(cipher);
      damaged[SEGMENT_SIZE - 3]! ^= 1; // inside segment 0's tag
      await expect(collect(Readable.from(cut(damaged)).pipe(new DecryptStream(key, ad)))).rejects.toThrow(
        /segment 0 failed authentication/,
      );
    },
  );

  it("writes the format byte for byte, segment by segment, however the plaintext is cut", async () => {
    // The reference is built from the format alone (docs/FORMAT.md): one AES-GCM call per
    // segment over its plaintext, nonce = prefix, u32 index, last-segment byte.
    const salt = randomBytes(32);
    const noncePrefix = randomBytes(7);
    const plain = randomBytes(FIRST_SEGMENT_PLAINTEXT + 2 * SEGMENT_PLAINTEXT + 4_321);
    const segmentKey = hkdfSha256(key, salt, ad);
    const bounds = [0, FIRST_SEGMENT_PLAINTEXT, FIRST_SEGMENT_PLAINTEXT + SEGMENT_PLAINTEXT];
    bounds.push(bounds[2]! + SEGMENT_PLAINTEXT, plain.length);
    const expected = [Buffer.from([STREAM_HEADER_SIZE]), salt, noncePrefix];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const nonce = Buffer.concat([noncePrefix, Buffer.alloc(5)]);
      nonce.writeUInt32BE(i, 7);
      nonce[11] = i + 2 === bounds.length ? 1 : 0;
      const cipher = createCipheriv("aes-256-gcm", segmentKey, nonce);
      expected.push(
        cipher.update(plain.subarray(bounds[i], bounds[i + 1])),
        cipher.final(),
        cipher.getAuthTag(),
      );
    }
    for (const size of [4_099, 65_536, plain.length]) {
      const out = await collect(chunked(plain, size).pipe(new EncryptStream(key, ad, { salt, noncePrefix })));
      expect(out.equals(Buffer.concat(expected))).toBe(true);
    }
  });

  it("uses a fresh salt and nonce prefix each time", async () => {
    const plain = Buffer.from("same plaintext");
    const [a, b] = await Promise.all([encrypt(plain), encrypt(plain)]);
    expect(a.equals(b)).toBe(false);
  });
});

describe("streaming AEAD detects damage", () => {
  const plain = randomBytes(FIRST_SEGMENT_PLAINTEXT + 8 * SEGMENT_PLAINTEXT + 777); // 10 segments
  const cipherPromise = encrypt(plain);

  const expectCorrupt = async (cipher: Buffer, message: string | RegExp, k = key, a = ad) => {
    const error = await decrypt(cipher, k, a).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ArchiveCorruptError);
    expect((error as Error).message).toMatch(message);
  };

  it.each([0, 3, 9])("a flipped bit in segment %i names that segment", async (segment) => {
    const cipher = Buffer.from(await cipherPromise);
    cipher[segmentOffset(segment) + 500]! ^= 0x01;
    await expectCorrupt(cipher, new RegExp(`^segment ${segment} failed authentication`));
  });

  it("a flipped bit in the salt fails segment 0", async () => {
    const cipher = Buffer.from(await cipherPromise);
    cipher[5]! ^= 0x80;
    await expectCorrupt(cipher, /^segment 0 failed authentication/);
  });

  it("a damaged stream-header length byte is named", async () => {
    const cipher = Buffer.from(await cipherPromise);
    cipher[0] = 41;
    await expectCorrupt(cipher, /stream header length byte is 41/);
  });

  it("truncation at a segment boundary names the last whole segment", async () => {
    const cipher = await cipherPromise;
    await expectCorrupt(cipher.subarray(0, segmentOffset(8)), /^archive truncated after segment 7$/);
  });

  it("truncation inside a segment is detected", async () => {
    const cipher = await cipherPromise;
    await expectCorrupt(cipher.subarray(0, segmentOffset(4) + 1000), /^segment 4 failed authentication/);
    await expectCorrupt(cipher.subarray(0, segmentOffset(4) + 3), /^archive truncated inside segment 4$/);
    await expectCorrupt(cipher.subarray(0, 20), /truncated inside the stream header/);
  });

  it("two swapped segments are detected at the first of them", async () => {
    const cipher = Buffer.from(await cipherPromise);
    const a = Buffer.from(cipher.subarray(segmentOffset(2), segmentOffset(3)));
    const b = Buffer.from(cipher.subarray(segmentOffset(3), segmentOffset(4)));
    a.copy(cipher, segmentOffset(3));
    b.copy(cipher, segmentOffset(2));
    await expectCorrupt(cipher, /^segment 2 failed authentication$/);
  });

  it("bytes appended after the final segment are detected", async () => {
    const small = await encrypt(randomBytes(10));
    const other = await encrypt(randomBytes(10));
    await expectCorrupt(Buffer.concat([small, other.subarray(STREAM_HEADER_SIZE)]), /^segment 0 failed/);
    const full = await cipherPromise;
    await expectCorrupt(Buffer.concat([full, Buffer.from([1, 2, 3, 4, 5])]), /^segment 9 failed/);
  });

  it("a wrong key or other associated data fails segment 0", async () => {
    const cipher = await cipherPromise;
    await expectCorrupt(cipher, /^segment 0 failed authentication \(wrong key/, randomBytes(32));
    await expectCorrupt(
      cipher,
      /^segment 0 failed authentication \(wrong key/,
      key,
      Buffer.from("other header"),
    );
  });
});
