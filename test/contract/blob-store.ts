// The BlobStore contract (functions/core/ports.ts), as one suite every adapter runs:
// blobStoreContract("FsBlobStore", async () => ({ store, cleanup })).
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, UserInputError } from "../../functions/core/errors.js";
import type { BlobInfo, BlobStore, Clock } from "../../functions/core/ports.js";

export interface BlobStoreFixture {
  store: BlobStore;
  /** The clock the store stamps createdAt with, if the test controls it. */
  clock?: Clock;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

/** A generated body of `size` bytes in 64 KiB chunks, and the SHA-256 it will have had. */
function generatedBody(size: number): { body: Readable; sha256: () => string } {
  const hash = createHash("sha256");
  async function* chunks() {
    for (let left = size; left > 0; left -= 64 * 1024) {
      const chunk = randomBytes(Math.min(left, 64 * 1024));
      hash.update(chunk);
      yield chunk;
    }
  }
  return { body: Readable.from(chunks()), sha256: () => hash.digest("hex") };
}

/** A body that sends `before` bytes and then fails, as a dying git process would. */
function failingBody(before: number): Readable {
  async function* chunks() {
    yield randomBytes(before);
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw new Error("source went away");
  }
  return Readable.from(chunks());
}

async function digest(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

async function collect(iterable: AsyncIterable<BlobInfo>): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

const text = (value: string) => Readable.from([Buffer.from(value)]);

export function blobStoreContract(name: string, factory: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("round-trips an empty body", async () => {
      const info = await store.put("t/empty", Readable.from([]));
      expect(info).toMatchObject({ key: "t/empty", size: 0 });
      expect(await readAll(await store.get("t/empty"))).toBe("");
      expect((await store.stat("t/empty"))?.size).toBe(0);
    });

    it("round-trips a small body and stamps createdAt with the store's clock", async () => {
      const before = (fixture.clock?.now() ?? new Date()).getTime();
      const info = await store.put("t/small.txt", text("hello, backup"));
      const after = (fixture.clock?.now() ?? new Date()).getTime();
      expect(info.size).toBe(13);
      expect(Date.parse(info.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(info.createdAt)).toBeLessThanOrEqual(after + 1000);
      expect(await readAll(await store.get("t/small.txt"))).toBe("hello, backup");
      expect(await store.stat("t/small.txt")).toMatchObject({ key: "t/small.txt", size: 13 });
    });

    it("streams a 20 MiB body through put and get", async () => {
      const { body, sha256 } = generatedBody(20 * MiB + 123);
      const info = await store.put("t/big.bin", body);
      expect(info.size).toBe(20 * MiB + 123);
      expect(await digest(await store.get("t/big.bin"))).toEqual({ sha256: sha256(), size: 20 * MiB + 123 });
    });

    it("refuses to overwrite an existing key and leaves the object untouched", async () => {
      await store.put("t/once", text("first"), { metadata: { n: "1" } });
      await expect(store.put("t/once", text("second"), { metadata: { n: "2" } })).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await readAll(await store.get("t/once"))).toBe("first");
      expect(await store.stat("t/once")).toMatchObject({ size: 5, metadata: { n: "1" } });
    });

    it("leaves nothing under the key when the body fails midway", async () => {
      await expect(store.put("t/broken/x.ibk", failingBody(256 * 1024))).rejects.toThrow("source went away");
      expect(await store.stat("t/broken/x.ibk")).toBeUndefined();
      await expect(store.get("t/broken/x.ibk")).rejects.toBeInstanceOf(NotFoundError);
      expect(await collect(store.list("t/"))).toEqual([]);
      // ...and the key is still free.
      await store.put("t/broken/x.ibk", text("retry"));
      expect(await readAll(await store.get("t/broken/x.ibk"))).toBe("retry");
    });

    it("rejects get of a missing key with NotFoundError and stats it as undefined", async () => {
      await expect(store.get("t/missing")).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.stat("t/missing")).toBeUndefined();
    });

    it("lists exactly the keys under a prefix, in key order, with their sizes", async () => {
      // "a-1" < "a/x" < "a0" in byte order: a store that walks folders must not get this wrong.
      const keys = ["p/a0", "p/a/x", "p/a-1", "pp/y", "q/z", "p/b/c/d"];
      for (const [i, key] of keys.entries()) await store.put(key, text("x".repeat(i)));
      const listed = await collect(store.list("p/"));
      expect(listed.map((i) => [i.key, i.size])).toEqual([
        ["p/a-1", 2],
        ["p/a/x", 1],
        ["p/a0", 0],
        ["p/b/c/d", 5],
      ]);
      expect((await collect(store.list("p"))).map((i) => i.key)).toEqual([
        "p/a-1",
        "p/a/x",
        "p/a0",
        "p/b/c/d",
        "pp/y",
      ]);
      expect((await collect(store.list("p/a"))).map((i) => i.key)).toEqual(["p/a-1", "p/a/x", "p/a0"]);
      expect((await collect(store.list(""))).map((i) => i.key)).toEqual([...keys].sort());
      expect(await collect(store.list("nothing/"))).toEqual([]);
    });

    it("deletes idempotently, and a deleted key can be written again", async () => {
      await store.put("t/d/gone", text("x"));
      await store.delete("t/d/gone");
      expect(await store.stat("t/d/gone")).toBeUndefined();
      await expect(store.get("t/d/gone")).rejects.toBeInstanceOf(NotFoundError);
      await store.delete("t/d/gone");
      await store.delete("t/never-was");
      expect(await collect(store.list("t/"))).toEqual([]);
      await store.put("t/d/gone", text("again"));
      expect(await readAll(await store.get("t/d/gone"))).toBe("again");
    });

    it("returns metadata as given from put, stat and list", async () => {
      const metadata = { snapshot: "20261127T104455123Z-1a2b3c4d", "x-repo": "acme/ünïcode", empty: "" };
      const info = await store.put("t/m", text("m"), { metadata });
      expect(info.metadata).toEqual(metadata);
      expect((await store.stat("t/m"))?.metadata).toEqual(metadata);
      expect((await collect(store.list("t/")))[0]?.metadata).toEqual(metadata);
      await store.put("t/n", text("n"));
      expect((await store.stat("t/n"))?.metadata).toEqual({});
    });

    it("moves expiresAt only forward and records the storage class", async () => {
      await store.put("t/l", text("l"));
      const at = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));
      const first = await store.setLifecycle("t/l", { expiresAt: "2027-01-01T00:00:00.000Z" });
      expect(at(first.expiresAt)).toBe(Date.parse("2027-01-01T00:00:00.000Z"));
      const earlier = await store.setLifecycle("t/l", { expiresAt: "2026-06-01T00:00:00.000Z" });
      expect(at(earlier.expiresAt)).toBe(Date.parse("2027-01-01T00:00:00.000Z"));
      await store.setLifecycle("t/l", { expiresAt: "2028-01-01T00:00:00.000Z" });
      expect(at((await store.stat("t/l"))?.expiresAt)).toBe(Date.parse("2028-01-01T00:00:00.000Z"));
      const classed = await store.setLifecycle("t/l", { storageClass: "COLDLINE" });
      expect(classed.storageClass).toBe("COLDLINE");
      expect(at(classed.expiresAt)).toBe(Date.parse("2028-01-01T00:00:00.000Z"));
      expect((await store.stat("t/l"))?.storageClass).toBe("COLDLINE");
      expect(await readAll(await store.get("t/l"))).toBe("l");
    });

    it("rejects setLifecycle on a missing key with NotFoundError", async () => {
      await expect(
        store.setLifecycle("t/missing", { expiresAt: "2027-01-01T00:00:00.000Z" }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    const invalidKeys = [
      ["empty", ""],
      ["leading slash", "/abs/key"],
      ["dot segment", "a/./b"],
      ["dot-dot segment", "a/../b"],
      ["dot-dot alone", ".."],
      ["backslash", "a\\b"],
      ["NUL", "a\0b"],
      ["control character", "a\u0007b"],
      ["empty segment", "a//b"],
      ["trailing slash", "a/"],
      ["over 1024 bytes", "k/".repeat(300) + "é".repeat(300)],
    ] as const;
    it.each(invalidKeys)("rejects an invalid key (%s) with UserInputError", async (_why, key) => {
      await expect(store.put(key, text("x"))).rejects.toBeInstanceOf(UserInputError);
      await expect(store.get(key)).rejects.toBeInstanceOf(UserInputError);
      await expect(store.stat(key)).rejects.toBeInstanceOf(UserInputError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(UserInputError);
      await expect(store.setLifecycle(key, { storageClass: "X" })).rejects.toBeInstanceOf(UserInputError);
    });

    it("names the invalid key in the error", async () => {
      await expect(store.put("a/../b", text("x"))).rejects.toThrow("a/../b");
    });

    it("accepts the archive key shape, with non-ASCII names", async () => {
      const key = "repos/acme/wïdget.git/2026/11/27/20261127T104455123Z-1a2b3c4d.ibk";
      await store.put(key, text("archive"));
      expect((await collect(store.list("repos/acme/"))).map((i) => i.key)).toEqual([key]);
    });
  });
}
