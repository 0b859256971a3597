// LfsScan: a pack streamed into it gives back exactly the LFS pointers among its blobs (not text
// that merely looks like one, not blobs of older commits left out of an incremental's pack), also
// when thousands of small blobs pass through the two cat-file processes at once.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGit } from "../../../functions/core/git/exec.js";
import { initBare } from "../../../functions/core/git/local-repo.js";
import type { LfsPointer } from "../../../functions/core/lfs/pointer.js";
import { LfsScan } from "../../../functions/core/lfs/scan.js";
import { commitFiles } from "../../helpers/lfs-repos.js";

/** `git pack-objects --revs` of the given revisions, as a buffer (a fetch's pack, no thin deltas). */
async function pack(repo: string, revs: string[]): Promise<Buffer> {
  const run = startGit(["pack-objects", "--revs", "--stdout", "--quiet"], {
    env: { GIT_DIR: repo },
    stdin: "pipe",
  });
  const chunks: Buffer[] = [];
  run.child.stdout!.on("data", (c: Buffer) => chunks.push(c));
  run.child.stdin!.end(revs.join("\n") + "\n");
  await run.done;
  return Buffer.concat(chunks);
}

async function scan(bytes: Buffer): Promise<Map<string, number>> {
  const scanner = await LfsScan.start();
  try {
    // Small chunks, as a pack arrives; a write error shows as index-pack's failure in pointers().
    for (let at = 0; at < bytes.length; at += 4096) scanner.input.write(bytes.subarray(at, at + 4096));
    await new Promise<void>((resolve) => scanner.input.end(() => resolve()));
    return await scanner.pointers();
  } finally {
    await scanner.dispose();
  }
}

const pointer = (): LfsPointer => ({
  oid: randomBytes(32).toString("hex"),
  size: 1 + randomBytes(2).readUInt16BE(),
});

describe("LfsScan", () => {
  let dir: string;
  let repo: string;
  const first = [pointer(), pointer()];
  const second = pointer();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "infinity-lfs-scan-"));
    repo = join(dir, "repo.git");
    await initBare(repo);
    const files: Record<string, string | LfsPointer> = {
      "a.bin": first[0]!,
      "b/c.bin": first[1]!,
      "same.bin": first[0]!, // the same pointer twice is one object
      "looks-like.txt": `version https://git-lfs.github.com/spec/v1\noid sha256:${"0".repeat(64)}\n`, // no size
      "big.txt": randomBytes(4000).toString("hex"),
    };
    for (let i = 0; i < 3000; i++) files[`small/${i}.txt`] = `small file ${i}\n`;
    await commitFiles(repo, "main", files, "first");
    await commitFiles(repo, "main", { "d.bin": second }, "second");
  });

  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("finds exactly the pointers of a full pack, among thousands of small blobs", async () => {
    const found = await scan(await pack(repo, ["main"]));
    expect(found).toEqual(new Map([...first, second].map((p) => [p.oid, p.size])));
  });

  it("finds only the new pointers in an incremental pack", async () => {
    const found = await scan(await pack(repo, ["main", "^main~1"]));
    expect(found).toEqual(new Map([[second.oid, second.size]]));
  });

  it("starts no git for a pack without objects (a snapshot whose refs did not move), and finds nothing", async () => {
    const empty = await pack(repo, ["main", "^main"]);
    expect(empty.readUInt32BE(8)).toBe(0);
    const scanner = await LfsScan.start();
    try {
      scanner.input.end(empty);
      await new Promise<void>((resolve) => scanner.input.once("finish", () => resolve()));
      expect(await scanner.input.index()).toBeUndefined();
      expect(await scanner.pointers()).toEqual(new Map());
    } finally {
      await scanner.dispose();
    }
  });

  it("fails, naming git, when the bytes are not a pack", async () => {
    await expect(scan(Buffer.from("PACK but not really a pack at all"))).rejects.toThrow(
      /git index-pack.* failed/,
    );
  });
});
