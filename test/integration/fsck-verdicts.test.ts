// fsck outcomes as verdicts: a legacy repository git only warns about (zero-padded file modes)
// backs up, verifies deep as "ok with warnings" and restores whole; real damage fails with fsck's
// own words, also when fsck says it on stdout only; a shallow source is refused before anything
// is stored, recorded as a failed attempt.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError, GitError } from "../../functions/core/errors.js";
import { fsck } from "../../functions/core/git/local-repo.js";
import { refsOf, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { cli } from "../helpers/cli-run.js";

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", args, { env: { ...process.env, GIT_DIR: dir }, encoding: "utf8" }).trim();

/**
 * A bare repository whose root tree has a zero-padded mode ("0100644"), written byte by byte
 * (mktree normalises modes); two commits so history has depth. Returns the blob's id too.
 */
function legacyRepo(dir: string): { blob: string } {
  execFileSync("git", ["init", "--bare", "--quiet", dir]);
  const blob = execFileSync("git", ["hash-object", "-w", "--stdin"], {
    env: { ...process.env, GIT_DIR: dir },
    input: "legacy content\n",
    encoding: "utf8",
  }).trim();
  const entry = Buffer.concat([Buffer.from("0100644 README\0"), Buffer.from(blob, "hex")]);
  const tree = execFileSync("git", ["hash-object", "-t", "tree", "--literally", "-w", "--stdin"], {
    env: { ...process.env, GIT_DIR: dir },
    input: entry,
    encoding: "utf8",
  }).trim();
  const env = {
    ...process.env,
    GIT_DIR: dir,
    GIT_AUTHOR_NAME: "A",
    GIT_AUTHOR_EMAIL: "a@example.com",
    GIT_COMMITTER_NAME: "A",
    GIT_COMMITTER_EMAIL: "a@example.com",
  };
  const first = execFileSync("git", ["commit-tree", tree, "-m", "legacy"], { env, encoding: "utf8" }).trim();
  const second = execFileSync("git", ["commit-tree", tree, "-p", first, "-m", "again"], {
    env,
    encoding: "utf8",
  }).trim();
  git(dir, "update-ref", "refs/heads/main", second);
  git(dir, "symbolic-ref", "HEAD", "refs/heads/main");
  return { blob };
}

let scratch: string;
let legacy: string;
let blob: string;
let shallow: string;
let ws: TestWorkspace;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ib-fsck-"));
  legacy = join(scratch, "legacy.git");
  ({ blob } = legacyRepo(legacy));
  const full = await richRepo(scratch);
  shallow = join(scratch, "shallow.git");
  execFileSync("git", ["clone", "--quiet", "--bare", "--depth", "1", `file://${full}`, shallow]);
  ws = await workspace({ "acme/legacy": legacy, "acme/shallow": shallow });
});
afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("fsck()", () => {
  it("reports a zero-padded mode as a warning, not a failure (plain git fsck only warns)", async () => {
    expect(await fsck(legacy, "full")).toEqual({ warnings: ["zeroPaddedFilemode"] });
  });

  it("fails on a missing object with fsck's words, which it prints on stdout only", async () => {
    const damaged = join(scratch, "damaged.git");
    legacyRepo(damaged);
    await unlink(join(damaged, "objects", blob.slice(0, 2), blob.slice(2)));
    const err = await fsck(damaged, "full").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ArchiveCorruptError);
    expect((err as Error).message).toMatch(
      /^git fsck --full --no-dangling --no-progress failed \(exit \d+\): /,
    );
    expect((err as Error).message).toContain(`missing blob ${blob}`);
  });

  it("names the command and its exit when git cannot check at all", async () => {
    const err = await fsck(join(scratch, "no-such-repo.git"), "full").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitError);
    expect(err).not.toBeInstanceOf(ArchiveCorruptError);
    expect((err as Error).message).toMatch(
      /^git fsck --full --no-dangling --no-progress failed \(exit 128\): \S/,
    );
  });
});

describe("a legacy repository with zero-padded modes", () => {
  it("backs up, verifies deep as ok with warnings, and restores with the same refs and objects", async () => {
    const backup = await cli("backup", "--config", ws.configFile, "--repo", "acme/legacy");
    expect(backup.code, backup.stderr).toBe(0);
    const verify = await cli(
      "verify",
      "--config",
      ws.configFile,
      "--repo",
      "acme/legacy",
      "--level",
      "deep",
      "--json",
    );
    expect(verify.code, verify.stderr).toBe(0);
    const app = await ws.open();
    try {
      const [snapshot] = await app.index.list("acme/legacy");
      expect(snapshot!.verification).toMatchObject({
        verdict: "ok",
        level: "deep",
        detail: "ok with warnings: zeroPaddedFilemode",
      });
    } finally {
      await app.close();
    }
    const status = await cli("status", "--config", ws.configFile);
    expect(status.stdout).toContain("~ acme/legacy: verified ok with warnings: zeroPaddedFilemode");
    const target = join(scratch, "restored-legacy.git");
    const restore = await cli("restore", "--config", ws.configFile, "--repo", "acme/legacy", "--to", target);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await refsOf(target)).toBe(await refsOf(legacy));
    // The quirky tree came back byte for byte (its id is the hash of those bytes).
    expect(git(target, "rev-parse", "main^{tree}")).toBe(git(legacy, "rev-parse", "main^{tree}"));
    expect(git(target, "cat-file", "-p", blob)).toBe("legacy content");
  });
});

describe("a shallow clone as a source", () => {
  const keys = async () => {
    const app = await ws.open();
    try {
      const found: string[] = [];
      for await (const info of app.store.list("")) found.push(info.key);
      return found.sort();
    } finally {
      await app.close();
    }
  };

  it("is refused before anything is stored, named, and recorded as a failed attempt", async () => {
    const before = await keys();
    const backup = await cli("backup", "--config", ws.configFile, "--repo", "acme/shallow");
    expect(backup.code).toBe(1);
    expect(backup.stdout + backup.stderr).toContain("source repository is shallow");
    expect(await keys()).toEqual(before);
    const app = await ws.open();
    try {
      expect(await app.index.list("acme/shallow")).toEqual([]);
      const attempt = (await app.index.attempts())["acme/shallow"];
      expect(attempt).toMatchObject({ outcome: "failed" });
      expect(attempt!.error).toContain("source repository is shallow");
    } finally {
      await app.close();
    }
  });
});
