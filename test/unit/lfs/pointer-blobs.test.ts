// reachablePointers and checkRestoredPointers: the pointers a restored repository's refs reach,
// with the path each is at (spaces kept), and not a pointer blob no ref reaches, nor a file too big
// to be one; each must have its object in the repository's LFS store with its size, or be recorded
// unavailable, else the finding names its path and oid.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../../../functions/core/git/exec.js";
import { initBare } from "../../../functions/core/git/local-repo.js";
import { reachablePointers, type FoundPointer } from "../../../functions/core/lfs/pointer-blobs.js";
import { checkRestoredPointers } from "../../../functions/core/lfs/pointer-check.js";
import { formatLfsPointer, type LfsPointer } from "../../../functions/core/lfs/pointer.js";
import { commitFiles, storeLocally } from "../../helpers/lfs-repos.js";

let scratch: string;
let repo: string;
const bytes = [randomBytes(2_000), randomBytes(3_000)];
const [kept, lost] = bytes.map((b): LfsPointer => ({
  oid: createHash("sha256").update(b).digest("hex"),
  size: b.length,
}));
const stray: LfsPointer = { oid: "f".repeat(64), size: 9 };

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-pointer-blobs-"));
  repo = join(scratch, "repo.git");
  await initBare(repo);
  await commitFiles(repo, "main", {
    "docs/a file.bin": kept!,
    "b.bin": lost!,
    "big.txt": `${formatLfsPointer(stray)}${"x".repeat(2_000)}\n`,
  });
  // A pointer blob in the object store that no ref reaches.
  await git(["hash-object", "-w", "--stdin"], { env: { GIT_DIR: repo }, input: formatLfsPointer(stray) });
  await storeLocally(repo, kept!, bytes[0]!);
}, 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("LFS pointers reachable from the refs", () => {
  it("lists each pointer the refs reach with its path, and nothing else", async () => {
    const found: FoundPointer[] = [];
    await reachablePointers(repo, (p) => found.push(p));
    expect(found.map(({ oid, size, path }) => ({ oid, size, path })).sort((a, b) => a.size - b.size)).toEqual(
      [
        { ...kept, path: "docs/a file.bin" },
        { ...lost, path: "b.bin" },
      ],
    );
  });

  it("a pointer whose object is not in the store fails, named by path and oid", async () => {
    await expect(checkRestoredPointers(repo, new Set())).rejects.toThrow(
      `(1): b.bin (oid ${lost!.oid}, 3000 bytes): no object`,
    );
  });

  it("passes when that object is recorded unavailable, counting the objects named", async () => {
    expect(await checkRestoredPointers(repo, new Set([lost!.oid]))).toBe(2);
  });
});
