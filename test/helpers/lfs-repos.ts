// Repositories with Git LFS files for tests, built with git plumbing only (git-lfs itself need not
// be installed): pointer blobs written with hash-object, trees through a scratch index, commits
// with commit-tree; objects placed in a repository's own lfs/objects store where a test wants them.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { git } from "../../functions/core/git/exec.js";
import { formatLfsPointer, type LfsPointer } from "../../functions/core/lfs/pointer.js";
import { lfsStoreFile } from "../../functions/core/lfs/paths.js";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

/** A file of a commit: plain text, or an LFS pointer (what git-lfs would commit for it). */
export type CommitFile = string | LfsPointer;

/**
 * Commits `files` (path -> content) on `branch` of the bare repository, on top of the branch's
 * tree when it exists; returns the commit. `.gitattributes` marks `*.bin` as LFS, as git-lfs does.
 */
export async function commitFiles(
  bare: string,
  branch: string,
  files: Record<string, CommitFile>,
  message = "Add files",
): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), "infinity-lfs-index-"));
  const env = { ...IDENTITY, GIT_DIR: bare, GIT_INDEX_FILE: join(scratch, "index") };
  try {
    const parent = (
      await git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { env }).catch(() => "")
    ).trim();
    if (parent) await git(["read-tree", parent], { env });
    const all: Record<string, CommitFile> = {
      ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n",
      ...files,
    };
    for (const [path, content] of Object.entries(all)) {
      const text = typeof content === "string" ? content : formatLfsPointer(content);
      const blob = (await git(["hash-object", "-w", "--stdin"], { env, input: text })).trim();
      await git(["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], { env });
    }
    const tree = (await git(["write-tree"], { env })).trim();
    const commit = (
      await git(["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message], { env })
    ).trim();
    await git(["update-ref", `refs/heads/${branch}`, commit], { env });
    return commit;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Puts an object into the repository's own git-lfs store (a local source's LFS objects). */
export async function storeLocally(gitDir: string, pointer: LfsPointer, bytes: Buffer): Promise<void> {
  const file = lfsStoreFile(gitDir, pointer.oid);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

/** Every file under `<gitDir>/lfs/objects`, as its path there (e.g. "ab/cd/abcd…"), sorted. */
export async function lfsStoreListing(gitDir: string): Promise<string[]> {
  const root = join(gitDir, "lfs", "objects");
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}
