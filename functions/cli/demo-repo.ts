// Builds the demo repository `npm start` backs up: branches, a merge, lightweight and annotated
// tags, and a deleted branch, so a restore has something real to prove.
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "../core/git/exec.js";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Infinity Demo",
  GIT_AUTHOR_EMAIL: "demo@infinity-backup.invalid",
  GIT_COMMITTER_NAME: "Infinity Demo",
  GIT_COMMITTER_EMAIL: "demo@infinity-backup.invalid",
};

export async function exists(path: string): Promise<boolean> {
  return Boolean(await stat(path).catch(() => undefined));
}

/** Creates a bare demo repository at `path` (via a scratch work tree that is removed after). */
export async function createDemoRepo(path: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "infinity-demo-"));
  const run = (...args: string[]) => git(args, { cwd: work, env: IDENTITY });
  try {
    await run("-c", "init.defaultBranch=main", "init", "--quiet");
    const commit = async (file: string, text: string, message: string) => {
      await writeFile(join(work, file), text);
      await run("add", file);
      await run("commit", "--quiet", "-m", message);
    };
    await commit("README.md", "# Demo\n\nBacked up by infinity-backup.\n", "Initial commit");
    for (let i = 1; i <= 5; i++)
      await commit(`src-${i}.txt`, `module ${i}\n`.repeat(200 * i), `Add module ${i}`);
    await run("tag", "v0.1.0");
    await run("checkout", "--quiet", "-b", "feature/search");
    await commit("search.txt", "search\n", "Add search");
    await run("checkout", "--quiet", "main");
    await commit("CHANGELOG.md", "## 0.2.0\n", "Changelog");
    await run("merge", "--quiet", "--no-ff", "-m", "Merge feature/search", "feature/search");
    await run("tag", "-a", "v0.2.0", "-m", "Release 0.2.0");
    await run("branch", "experiment");
    await run("checkout", "--quiet", "experiment");
    await commit("experiment.txt", "try\n", "Experiment");
    await run("checkout", "--quiet", "main");
    await run("branch", "-D", "experiment"); // deleted: its commit must not come back
    await mkdir(join(path, ".."), { recursive: true });
    await git(["clone", "--quiet", "--bare", work, path]);
    await git(["remote", "remove", "origin"], { env: { GIT_DIR: path } });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
