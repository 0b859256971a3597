// Real git repositories for tests, built with the git CLI.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "../../functions/core/git/exec.js";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

/** A bare repo with branches, a merge, lightweight and annotated tags and a deleted branch. */
export async function richRepo(parent?: string): Promise<string> {
  const dir = join(parent ?? (await mkdtemp(join(tmpdir(), "infinity-src-"))), "source.git");
  await createDemoRepo(dir);
  return dir;
}

/** Adds a commit on `branch` of a bare repo (through a temporary clone) and pushes it. */
export async function pushCommit(bare: string, branch: string, file: string, text: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "infinity-work-"));
  const run = (...args: string[]) => git(args, { cwd: work, env: IDENTITY });
  try {
    await git(["clone", "--quiet", bare, work]);
    const branches = await run("branch", "-r");
    await run("checkout", "--quiet", ...(branches.includes(`origin/${branch}`) ? [branch] : ["-b", branch]));
    await writeFile(join(work, file), text);
    await run("add", file);
    await run("commit", "--quiet", "-m", `Change ${file}`);
    await run("push", "--quiet", "origin", branch);
    return (await run("rev-parse", "HEAD")).trim();
  } finally {
    await rm(work, { recursive: true, force: true }); // a test run must not leave clones in /tmp
  }
}

/** `git for-each-ref` as text: the exact refs of a repository. */
export async function refsOf(repo: string): Promise<string> {
  return git(["for-each-ref", "--format=%(objectname) %(objecttype) %(refname)"], { env: { GIT_DIR: repo } });
}

/** Every object reachable from a ref, sorted: equal sets mean equal histories. */
export async function objectsOf(repo: string): Promise<string> {
  const out = await git(["rev-list", "--objects", "--all"], { env: { GIT_DIR: repo } });
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => line.slice(0, 40))
    .sort()
    .join("\n");
}

export async function headOf(repo: string): Promise<string> {
  return (await git(["symbolic-ref", "HEAD"], { env: { GIT_DIR: repo } })).trim();
}
