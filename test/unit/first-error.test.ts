// The first error is the one reported, when an archive is written and stored at once: the store's
// own failure beats what the writer says after its reader went away, and a body's own failure
// passes through the store as it is.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { firstToFail, writtenAndStored } from "../../functions/core/first-error.js";

const later = <T>(ms: number, settle: () => T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(settle()), ms));

describe("writtenAndStored", () => {
  it("reports the store's error when the writer failed first because of it", async () => {
    const storeErr = new Error("ENOSPC: no space left on device, write");
    const writing = Promise.reject(new Error("already finalized or destroyed"));
    const storing = later(20, () => Promise.reject(storeErr));
    await expect(writtenAndStored(writing, storing)).rejects.toBe(storeErr);
  });

  it("reports the writer's own error, which the store passed on", async () => {
    const gitErr = new Error("git pack-objects died");
    const writing = Promise.reject(gitErr);
    await expect(
      writtenAndStored(
        writing,
        later(5, () => Promise.reject(gitErr)),
      ),
    ).rejects.toBe(gitErr);
  });

  it("reports the writer's error when the store finished regardless", async () => {
    const late = new Error("metadata collection failed");
    await expect(writtenAndStored(Promise.reject(late), Promise.resolve("stored"))).rejects.toBe(late);
  });

  it("gives both results when both succeed", async () => {
    await expect(
      writtenAndStored(
        Promise.resolve(1),
        later(5, () => "stored"),
      ),
    ).resolves.toEqual([1, "stored"]);
  });
});

describe("firstToFail", () => {
  it("names the stream that emitted an error first, not the one destroyed after it", async () => {
    const body = new PassThrough();
    const sink = new PassThrough();
    const failedFirst = firstToFail({ body, sink });
    const err = new Error("disk full");
    sink.destroy(err);
    await new Promise((resolve) => sink.once("close", resolve));
    body.destroy(err);
    await new Promise((resolve) => body.once("close", resolve));
    expect(failedFirst()).toBe("sink");
  });
});

describe("FsBlobStore.put with a body that fails", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "infinity-first-error-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("passes the body's own error on as it is, even one with a syscall, and keeps no file", async () => {
    const store = new FsBlobStore({ root });
    const body = new PassThrough();
    const own = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
    body.write(Buffer.alloc(100));
    setTimeout(() => body.destroy(own), 10);
    await expect(store.put("a/b.ibk", body)).rejects.toBe(own);
    expect(await readdir(join(root, ".tmp"))).toEqual([]);
    expect(await store.stat("a/b.ibk")).toBeUndefined();
  });
});
