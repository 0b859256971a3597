// The per-layer object index: built from a real pack's index it holds exactly the pack's objects,
// sorted; membership answers right for every object and for ids next to them; damaged input (a
// torn length, ids out of order or repeated, a file that is no pack index) is refused by name.
import { readdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError, GitError } from "../../../functions/core/errors.js";
import { git } from "../../../functions/core/git/exec.js";
import { initBare } from "../../../functions/core/git/local-repo.js";
import { collectOids, OidSet, packOidSet } from "../../../functions/core/git/oid-set.js";
import { richRepo } from "../../helpers/git-repos.js";

/** `oid` with its last byte changed by `delta` (wrapping): an id next to it in the sort order. */
function neighbour(oid: string, delta: number): string {
  const bytes = Buffer.from(oid, "hex");
  bytes[19] = (bytes[19]! + delta + 256) % 256;
  return bytes.toString("hex");
}

async function* fromHex(oids: string[]): AsyncGenerator<Buffer> {
  for (const oid of oids) yield Buffer.from(oid, "hex");
}

describe("OidSet from a pack index", () => {
  let dir: string;
  let idx: string;
  let expected: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "infinity-oid-set-"));
    const source = await richRepo(dir);
    const repo = join(dir, "packed.git");
    await initBare(repo);
    await git(["fetch", "--quiet", source, "+refs/*:refs/*"], { env: { GIT_DIR: repo } });
    // A commit of 80 more files: more ids than the builder's first allocation (64), so it grows.
    const files = Array.from(
      { length: 80 },
      (_, i) => `M 100644 inline f${i}.txt\ndata ${`file ${i}\n`.length}\nfile ${i}\n`,
    );
    const who = "T <t@example.invalid> 1700000000 +0000";
    await git(["fast-import", "--quiet"], {
      env: { GIT_DIR: repo },
      input: `commit refs/heads/many\ncommitter ${who}\ndata 5\nmany\n${files.join("")}\n`,
    });
    await git(["repack", "-a", "-d", "--quiet"], { env: { GIT_DIR: repo } });
    const packDir = join(repo, "objects", "pack");
    const idxFiles = (await readdir(packDir)).filter((name) => name.endsWith(".idx"));
    expect(idxFiles).toHaveLength(1);
    idx = join(packDir, idxFiles[0]!);
    const listed = await git(["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], {
      env: { GIT_DIR: repo },
    });
    expected = listed.split("\n").filter(Boolean).sort();
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("holds exactly the pack's objects, sorted, 20 bytes each", async () => {
    const set = await packOidSet(idx);
    expect(expected.length).toBeGreaterThan(64);
    expect(set.size).toBe(expected.length);
    expect(set.bytes.length).toBe(20 * expected.length);
    expect([...set]).toEqual(expected);
  });

  it("answers membership for every object, and no for ids beside them or malformed ones", async () => {
    const set = await packOidSet(idx);
    const known = new Set(expected);
    for (const oid of expected) {
      expect(set.has(oid)).toBe(true);
      expect(set.has(oid.toUpperCase())).toBe(true);
      expect(set.has(Buffer.from(oid, "hex"))).toBe(true);
      for (const other of [neighbour(oid, 1), neighbour(oid, -1)]) {
        expect(set.has(other)).toBe(known.has(other));
      }
    }
    expect(set.has("0".repeat(40))).toBe(known.has("0".repeat(40)));
    expect(set.has("f".repeat(40))).toBe(known.has("f".repeat(40)));
    for (const bad of ["", "xyz", expected[0]!.slice(0, 39), `${expected[0]}00`, "a".repeat(64)]) {
      expect(set.has(bad)).toBe(false);
    }
    expect(set.has(Buffer.alloc(19))).toBe(false);
  });

  it("reads back from its stored bytes, and refuses bytes that are torn or out of order", async () => {
    const set = await packOidSet(idx);
    expect([...OidSet.fromBytes(Buffer.from(set.bytes), "layer.oids")]).toEqual(expected);
    expect(() => OidSet.fromBytes(set.bytes.subarray(0, 59), "layer.oids")).toThrow(
      /layer\.oids: 59 bytes is not a whole number of 20-byte object ids/,
    );
    const swapped = Buffer.concat([set.bytes.subarray(20, 40), set.bytes.subarray(0, 20)]);
    expect(() => OidSet.fromBytes(swapped, "layer.oids")).toThrow(ArchiveCorruptError);
    const repeated = Buffer.concat([set.bytes.subarray(0, 20), set.bytes.subarray(0, 20)]);
    expect(() => OidSet.fromBytes(repeated, "layer.oids")).toThrow(/object id 1 is not greater/);
    expect(OidSet.fromBytes(Buffer.alloc(0)).size).toBe(0);
    expect(OidSet.fromBytes(Buffer.alloc(0)).has(expected[0]!)).toBe(false);
  });

  it("collectOids refuses ids out of order or of the wrong length, naming the source", async () => {
    await expect(collectOids(fromHex([expected[1]!, expected[0]!]), "layer L")).rejects.toThrow(
      /layer L: object id 1 \([0-9a-f]{40}\) is not greater than the one before it/,
    );
    await expect(collectOids(fromHex(["abcd"]), "layer L")).rejects.toThrow(/an object id of 2 bytes/);
  });

  it("a file that is not a pack index is refused with git's reason, not read as an empty set", async () => {
    const junk = join(dir, "junk.idx");
    await writeFile(junk, "not a pack index at all\n".repeat(10));
    await expect(packOidSet(junk)).rejects.toThrow(GitError);
    await expect(packOidSet(join(dir, "missing.idx"))).rejects.toThrow(/ENOENT|missing\.idx/);
  });
});
