// A layered restore's repository without `git init` and its refs set and checked in one git process
// (core/layers/read.ts finishLayeredRefs, core/git/local-repo.ts createBare): what git itself
// makes of the result (fsck, a mirror clone, HEAD), and the refusal of a ref whose object the
// restored objects lack.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError } from "../../../functions/core/errors.js";
import { git, startGit } from "../../../functions/core/git/exec.js";
import { createBare, fsck, indexPack, readRefs } from "../../../functions/core/git/local-repo.js";
import { finishLayeredRefs } from "../../../functions/core/layers/read.js";
import { snapshot } from "../../contract/snapshot-index.js";
import { richRepo } from "../../helpers/git-repos.js";

describe("finishLayeredRefs on a repository createBare wrote", () => {
  let dir: string;
  let source: string;
  let n = 0;

  /** A new repository written by createBare, holding every object of the source (one pack). */
  const restored = async (head?: string) => {
    const repo = join(dir, `restored-${++n}.git`);
    await createBare(repo, head);
    const run = startGit(["pack-objects", "--all", "--stdout", "--quiet"], { env: { GIT_DIR: source } });
    await Promise.all([indexPack(repo, run.child.stdout!, { checkLinks: true }), run.done]);
    return repo;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "infinity-finish-refs-"));
    source = await richRepo(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("gives exactly the snapshot's refs and HEAD; git fsck and a mirror clone accept the repository", async () => {
    const refs = await readRefs(source);
    expect(Object.keys(refs).length).toBeGreaterThan(1);
    const repo = await restored("refs/heads/main");
    await finishLayeredRefs(repo, snapshot({ id: "s1", kind: "layered", refs, head: "refs/heads/main" }));
    expect(await readRefs(repo)).toEqual(refs);
    expect((await git(["symbolic-ref", "HEAD"], { env: { GIT_DIR: repo } })).trim()).toBe("refs/heads/main");
    expect((await fsck(repo, "full")).warnings).toEqual([]);
    const clone = join(dir, "clone.git");
    await git(["clone", "--mirror", "--quiet", repo, clone]);
    expect(await readRefs(clone)).toEqual(refs);
  });

  it("points HEAD at a branch the snapshot does not have, and at a name git has to check", async () => {
    const refs = await readRefs(source);
    for (const head of ["refs/heads/gone", "refs/heads/fünf"]) {
      const repo = await restored(head);
      await finishLayeredRefs(repo, snapshot({ id: "s2", kind: "layered", refs, head }));
      expect((await git(["symbolic-ref", "HEAD"], { env: { GIT_DIR: repo } })).trim()).toBe(head);
      expect(await readRefs(repo)).toEqual(refs);
    }
  });

  it("refuses a ref whose object the restored objects lack, naming the ref", async () => {
    const refs = { ...(await readRefs(source)), "refs/heads/lost": "1".repeat(40) };
    const repo = await restored();
    const finish = finishLayeredRefs(repo, snapshot({ id: "s3", kind: "layered", refs }));
    await expect(finish).rejects.toThrow(ArchiveCorruptError);
    await expect(finish).rejects.toThrow(
      /ref refs\/heads\/lost points to 1{40}, which is not in the restored objects/,
    );
  });

  it("leaves a snapshot with no refs with none", async () => {
    const repo = join(dir, "empty.git");
    await createBare(repo);
    await finishLayeredRefs(repo, snapshot({ id: "s4", kind: "layered", refs: {} }));
    expect(await readRefs(repo)).toEqual({});
  });
});
