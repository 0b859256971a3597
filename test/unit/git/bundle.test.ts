// BundleCheck: the bundle header parses and the pack's SHA-1 trailer is checked, however the
// bytes are cut into chunks; damage anywhere in the pack is named.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError } from "../../../functions/core/errors.js";
import { BundleCheck } from "../../../functions/core/git/bundle.js";
import { git } from "../../../functions/core/git/exec.js";
import { richRepo } from "../../helpers/git-repos.js";

let dir: string;
let bundle: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "infinity-bundle-"));
  const repo = await richRepo(dir);
  await git(["bundle", "create", "--quiet", join(dir, "all.bundle"), "--all"], { env: { GIT_DIR: repo } });
  bundle = await readFile(join(dir, "all.bundle"));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function check(bytes: Buffer, chunk: number): Promise<{ check: BundleCheck; out: Buffer }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const bundleCheck = new BundleCheck("test.bundle");
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), bundleCheck, async (packs: AsyncIterable<Buffer>) => {
    for await (const p of packs) out.push(p);
  });
  return { check: bundleCheck, out: Buffer.concat(out) };
}

describe("BundleCheck", () => {
  it.each([1, 7, 19, 20, 21, 4096, 1 << 20])("accepts a real bundle fed in %i-byte chunks", async (chunk) => {
    const { check: result, out } = await check(bundle, chunk);
    expect(Object.keys(result.info.refs).sort()).toEqual([
      "refs/heads/feature/search",
      "refs/heads/main",
      "refs/tags/v0.1.0",
      "refs/tags/v0.2.0",
    ]);
    expect(out.subarray(0, 4).toString()).toBe("PACK");
    expect(result.info.objects).toBeGreaterThan(10);
    expect(bundle.subarray(bundle.length - out.length).equals(out)).toBe(true);
  });

  it.each([1, 20, 4096])("names a damaged pack (%i-byte chunks)", async (chunk) => {
    const damaged = Buffer.from(bundle);
    damaged[damaged.length - 100]! ^= 0x01;
    await expect(check(damaged, chunk)).rejects.toThrow(/test\.bundle: pack checksum does not match/);
  });

  it("names a truncated pack and a bad header", async () => {
    await expect(check(bundle.subarray(0, bundle.length - 30), 64)).rejects.toBeInstanceOf(
      ArchiveCorruptError,
    );
    await expect(check(Buffer.from("# v3 git bundle\n\nPACK"), 64)).rejects.toThrow(/not a v2 git bundle/);
    await expect(check(Buffer.from("# v2 git bundle\nxyz refs/heads/main\n\n"), 64)).rejects.toThrow(
      /bad bundle header line/,
    );
  });
});

describe("BundleCheck without its own checksum (index-pack checks it)", () => {
  it.each([1, 19, 4096])("passes the same bytes through (%i-byte chunks)", async (chunk) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < bundle.length; i += chunk) parts.push(bundle.subarray(i, i + chunk));
    const check = new BundleCheck("test.bundle", false, false);
    const out: Buffer[] = [];
    await pipeline(Readable.from(parts), check, async (packs: AsyncIterable<Buffer>) => {
      for await (const p of packs) out.push(p);
    });
    const pack = Buffer.concat(out);
    expect(bundle.subarray(bundle.length - pack.length).equals(pack)).toBe(true);
    expect(Object.keys(check.info.refs)).toHaveLength(4);
  });
});
