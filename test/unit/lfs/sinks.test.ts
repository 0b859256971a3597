// Where LFS objects go beside a restore that makes no repository of its own: a bucket prefix and a
// repository on this machine that a restore pushed to. Every object is checked against its oid on
// the way; a bad one leaves nothing behind under its name.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../../functions/adapters/local/fs-blob-store.js";
import { lfsStoreFile } from "../../../functions/core/lfs/paths.js";
import { copyToLocalRepository, lfsObjectKey, storeSink } from "../../../functions/core/lfs/sinks.js";
import { lfsStoreListing, storeLocally } from "../../helpers/lfs-repos.js";

let root: string;
const objects = [randomBytes(70_000), randomBytes(5), randomBytes(300_000)].map((bytes) => ({
  bytes,
  oid: createHash("sha256").update(bytes).digest("hex"),
}));
const layout = (oid: string) => `${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "infinity-lfs-sinks-"));
  for (const o of objects)
    await storeLocally(join(root, "scratch.git"), { oid: o.oid, size: o.bytes.length }, o.bytes);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("copyToLocalRepository", () => {
  it("puts every object into a bare repository's store, and a work tree's .git store", async () => {
    const bare = join(root, "bare.git");
    const work = join(root, "work");
    await mkdir(bare, { recursive: true });
    await mkdir(join(work, ".git"), { recursive: true });
    const toBare = await copyToLocalRepository(join(root, "scratch.git"), bare);
    const toWork = await copyToLocalRepository(join(root, "scratch.git"), pathToFileURL(work).href);
    const total = objects.reduce((sum, o) => sum + o.bytes.length, 0);
    expect(toBare).toEqual({ objects: 3, bytes: total, target: join(bare, "lfs", "objects") });
    expect(toWork).toEqual({ objects: 3, bytes: total, target: join(work, ".git", "lfs", "objects") });
    for (const gitDir of [bare, join(work, ".git")]) {
      expect(await lfsStoreListing(gitDir)).toEqual(objects.map((o) => layout(o.oid)).sort());
      for (const o of objects)
        expect((await readFile(lfsStoreFile(gitDir, o.oid))).equals(o.bytes)).toBe(true);
    }
  });

  it("leaves remotes that are not on this machine alone", async () => {
    for (const url of [
      "ssh://git@example.com/o/r.git",
      "git@example.com:o/r.git",
      "https://example.com/o/r.git",
    ])
      expect(await copyToLocalRepository(join(root, "scratch.git"), url), url).toBeUndefined();
  });

  it("refuses an object whose bytes are not its oid and writes nothing under its name", async () => {
    const scratch = join(root, "bad-scratch.git");
    const good = objects[1]!;
    await storeLocally(scratch, { oid: good.oid, size: good.bytes.length }, good.bytes);
    const liar = objects[0]!;
    await mkdir(join(scratch, "lfs", "objects", liar.oid.slice(0, 2), liar.oid.slice(2, 4)), {
      recursive: true,
    });
    await writeFile(lfsStoreFile(scratch, liar.oid), Buffer.from("not the object"));
    const target = join(root, "target.git");
    await mkdir(target);
    await expect(copyToLocalRepository(scratch, target)).rejects.toThrow(
      new RegExp(
        `LFS object ${liar.oid} from the restored repository's LFS store has bytes whose SHA-256 is`,
      ),
    );
    expect((await lfsStoreListing(target)).filter((f) => f.endsWith(liar.oid))).toEqual([]);
  });
});

describe("storeSink", () => {
  it("writes each object under <prefix>/<aa>/<bb>/<oid>, and a bad one not at all", async () => {
    const store = new FsBlobStore({ root: join(root, "bucket") });
    const sink = storeSink(store, "restores/acme/app/x.lfs", { repo: "acme/app" });
    const [a, b] = objects as [(typeof objects)[0], (typeof objects)[0]];
    await sink.put(a.oid, Readable.from([a.bytes]), "the test");
    await expect(sink.put(b.oid, Readable.from([Buffer.from("other bytes")]), "the test")).rejects.toThrow(
      /has bytes whose SHA-256 is/,
    );
    expect(sink.keys).toEqual([lfsObjectKey("restores/acme/app/x.lfs", a.oid)]);
    expect(sink.written).toEqual({ objects: 1, bytes: a.bytes.length, target: "restores/acme/app/x.lfs/" });
    expect((await buffer(await store.get(`restores/acme/app/x.lfs/${layout(a.oid)}`))).equals(a.bytes)).toBe(
      true,
    );
    expect(await store.stat(`restores/acme/app/x.lfs/${layout(b.oid)}`)).toBeUndefined();
  });
});
