// The crypto worker: the same bytes as sealing on this thread, the archive hash it keeps, errors
// that come back as errors (of their class), and a worker that never holds a process open.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, describe, expect, it } from "vitest";
import { CryptoWorker } from "../../../functions/core/archive/crypto-worker.js";
import { readArchive } from "../../../functions/core/archive/reader.js";
import { writeArchive } from "../../../functions/core/archive/writer.js";
import {
  DecryptStream,
  EncryptStream,
  FIRST_SEGMENT_PLAINTEXT,
  SEGMENT_PLAINTEXT,
  type EncryptOptions,
} from "../../../functions/core/archive/streaming-aead.js";
import { BackupError } from "../../../functions/core/errors.js";
import { emptyFullManifest } from "../../helpers/archive-header.js";

const key = randomBytes(32);
const ad = Buffer.from("header bytes");
const salt = randomBytes(32);
const noncePrefix = randomBytes(7);
const worker = new CryptoWorker();
afterAll(() => worker.close());

/** Feeds `bytes` in uneven chunks so segments never line up with writes. */
function chunked(bytes: Buffer, size = 77_777): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
  );
}

async function encrypt(plain: Buffer, options: EncryptOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of chunked(plain).pipe(new EncryptStream(key, ad, options)))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("sealing on the crypto worker", () => {
  it.each([
    ["empty", 0],
    ["one byte", 1],
    ["exactly one segment", FIRST_SEGMENT_PLAINTEXT],
    ["one segment plus one byte", FIRST_SEGMENT_PLAINTEXT + 1],
    [
      "nine segments and a bit (more than the seals in flight)",
      FIRST_SEGMENT_PLAINTEXT + 8 * SEGMENT_PLAINTEXT + 999,
    ],
  ])("%s: the same bytes as on this thread, and they decrypt", async (_name, size) => {
    const plain = randomBytes(size);
    const here = await encrypt(plain, { salt, noncePrefix });
    const there = await encrypt(plain, { salt, noncePrefix, worker });
    expect(there.length).toBe(here.length);
    expect(there.equals(here)).toBe(true);
    const back: Buffer[] = [];
    for await (const chunk of chunked(there).pipe(new DecryptStream(key, ad))) back.push(chunk as Buffer);
    expect(Buffer.concat(back).equals(plain)).toBe(true);
  });

  it("keeps the SHA-256 of everything it produced, header first", async () => {
    const plain = randomBytes(3 * SEGMENT_PLAINTEXT + 5);
    const hash = worker.hash();
    hash.update(ad);
    const out = await encrypt(plain, { salt, noncePrefix, worker, outputHash: hash });
    const expected = createHash("sha256").update(ad).update(out).digest();
    expect((await hash.digest()).equals(expected)).toBe(true);
  });

  it("serves two streams at once, each its own bytes", async () => {
    const a = randomBytes(2 * SEGMENT_PLAINTEXT);
    const b = randomBytes(3 * SEGMENT_PLAINTEXT + 1);
    const [ea, eb] = await Promise.all([
      encrypt(a, { salt, noncePrefix, worker }),
      encrypt(b, { salt, noncePrefix, worker }),
    ]);
    expect(ea.equals(await encrypt(a, { salt, noncePrefix }))).toBe(true);
    expect(eb.equals(await encrypt(b, { salt, noncePrefix }))).toBe(true);
  });

  it("returns an error thrown on the worker as that error, and keeps serving", async () => {
    const plaintext = new Uint8Array(10);
    const failed = worker.seal(Buffer.alloc(5), Buffer.alloc(12), plaintext);
    await expect(failed).rejects.toBeInstanceOf(RangeError);
    await expect(failed).rejects.toThrow(/key/i);
    const sealed = await worker.seal(key, Buffer.alloc(12), new Uint8Array(10));
    expect(sealed.body.length).toBe(10);
    expect(sealed.tag.length).toBe(16);
  });

  it("fails the stream with the worker's error when sealing fails", async () => {
    const failing = new CryptoWorker();
    failing.seal = () => Promise.reject(new RangeError("sealing refused"));
    await expect(
      pipeline(
        chunked(randomBytes(2 * SEGMENT_PLAINTEXT)),
        new EncryptStream(key, ad, { worker: failing }),
        async function* (source) {
          for await (const _ of source);
        },
      ),
    ).rejects.toThrow("sealing refused");
  });

  it("a stopped worker fails what waits on it with a BackupError; the next call starts a new one", async () => {
    const own = new CryptoWorker();
    const hash = own.hash();
    const waiting = own.seal(key, Buffer.alloc(12), new Uint8Array(SEGMENT_PLAINTEXT));
    await own.close();
    await expect(waiting).rejects.toBeInstanceOf(BackupError);
    await expect(hash.digest()).rejects.toBeInstanceOf(BackupError);
    const again = await own.seal(key, Buffer.alloc(12), new Uint8Array(1));
    expect(again.body.length).toBe(1);
    await own.close();
  });

  it("a destroyed stream leaves the worker serving others", async () => {
    const stream = new EncryptStream(key, ad, { salt, noncePrefix, worker });
    stream.on("error", () => undefined);
    stream.write(randomBytes(3 * SEGMENT_PLAINTEXT));
    stream.destroy(new Error("stopped"));
    const plain = randomBytes(SEGMENT_PLAINTEXT + 3);
    expect(
      (await encrypt(plain, { salt, noncePrefix, worker })).equals(
        await encrypt(plain, { salt, noncePrefix }),
      ),
    ).toBe(true);
  });

  it("does not keep a process alive once its work is done", () => {
    const module = join(import.meta.dirname, "../../../functions/core/archive/crypto-worker.ts");
    const script = `
      import { cryptoWorker } from ${JSON.stringify(module)};
      const sealed = await cryptoWorker().seal(Buffer.alloc(32), Buffer.alloc(12), new Uint8Array(100));
      console.log(sealed.body.length + sealed.tag.length);
    `;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe("116");
  });

  it.each([false, true])(
    "writeArchive (cryptoWorker %s): its sha256 is the stream's, and it reads back",
    async (onWorker) => {
      const body = randomBytes(2 * SEGMENT_PLAINTEXT + 12_345);
      const header = {
        aead: "AES256_GCM_HKDF_1MB" as const,
        keyRef: "local:0123456789abcdef",
        wrappedKey: Buffer.alloc(60).toString("base64"),
        snapshotId: "20260101T000000000Z-00000000",
        repo: "o/r",
        createdAt: "2026-01-01T00:00:00.000Z",
      };
      const written = writeArchive({
        header,
        dataKey: key,
        manifest: emptyFullManifest(header),
        files: [{ path: "git/repo.bundle", open: () => chunked(body) }],
        cryptoWorker: onWorker,
      });
      const bytes = Buffer.concat((await written.stream.toArray()) as Buffer[]);
      expect(await written.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      const manifest = await written.manifest;
      expect(manifest.entries[0]).toMatchObject({
        size: body.length,
        sha256: createHash("sha256").update(body).digest("hex"),
      });
      const read = await readArchive(Readable.from([bytes]), { dataKey: async () => key });
      expect(read.manifest.entries).toEqual(manifest.entries);
    },
  );
});
