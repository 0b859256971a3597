// indexPack's link check (restore's connectivity proof, in the same pass as indexing): a pack whose
// objects point at a missing object is refused; a pack whose links resolve in the pack, or in
// objects the repository already holds (an incremental on its parents), is accepted.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../../../functions/core/errors.js";
import { git, startGit } from "../../../functions/core/git/exec.js";
import { indexPack, initBare } from "../../../functions/core/git/local-repo.js";
import { pushCommit, richRepo } from "../../helpers/git-repos.js";

/** `git pack-objects --revs` of the given revisions (e.g. "main", "^main~1") as a buffer. */
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

describe("indexPack with checkLinks", () => {
  let dir: string;
  let source: string;
  let n = 0;
  const fresh = async () => {
    const repo = join(dir, `repo-${++n}.git`);
    await initBare(repo);
    return repo;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "infinity-index-pack-"));
    source = await richRepo(dir);
    await pushCommit(source, "main", "later.txt", "a later commit\n");
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const oid = async (rev: string) => (await git(["rev-parse", rev], { env: { GIT_DIR: source } })).trim();

  it("accepts a whole pack", async () => {
    const repo = await fresh();
    await indexPack(repo, Readable.from([await pack(source, ["main"])]), { checkLinks: true });
    await git(["cat-file", "-e", await oid("main")], { env: { GIT_DIR: repo } });
  });

  it("refuses a pack whose objects point at objects nobody has", async () => {
    const repo = await fresh();
    const partial = await pack(source, ["main", "^main~1"]); // the last commit, its parent missing
    await expect(indexPack(repo, Readable.from([partial]), { checkLinks: true })).rejects.toBeInstanceOf(
      GitError,
    );
    // Without the check, index-pack takes it: this is what the check adds.
    await indexPack(await fresh(), Readable.from([partial]));
  });

  it("accepts an incremental pack once the repository holds its parents", async () => {
    const repo = await fresh();
    await indexPack(repo, Readable.from([await pack(source, ["main~1"])]), { checkLinks: true });
    await indexPack(repo, Readable.from([await pack(source, ["main", "^main~1"])]), { checkLinks: true });
    await git(["update-ref", "refs/heads/main", await oid("main")], { env: { GIT_DIR: repo } });
    await git(["fsck", "--connectivity-only", "--no-dangling"], { env: { GIT_DIR: repo } });
  });
});
