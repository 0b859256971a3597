// Repositories with Git LFS files for tests, built with git plumbing only (git-lfs itself need not
// be installed): pointer blobs and their commits written by `git fast-import`; objects placed in a
// repository's own lfs/objects store where a test wants them.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { git, startGit } from "../../functions/core/git/exec.js";
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
 * tree when it exists, in one `git fast-import`; returns the commit. `.gitattributes` marks `*.bin`
 * as LFS, as git-lfs does.
 */
export async function commitFiles(
  bare: string,
  branch: string,
  files: Record<string, CommitFile>,
  message = "Add files",
): Promise<string> {
  const env = { ...IDENTITY, GIT_DIR: bare };
  const ref = `refs/heads/${branch}`;
  const parent = (await git(["rev-parse", "--verify", "--quiet", ref], { env }).catch(() => "")).trim();
  const data = (bytes: Buffer) =>
    Buffer.concat([Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from("\n")]);
  const all: Record<string, CommitFile> = {
    ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n",
    ...files,
  };
  const stream = [
    Buffer.from(
      `commit ${ref}\ncommitter Test <test@example.invalid> ${Math.floor(Date.now() / 1000)} +0000\n`,
    ),
    data(Buffer.from(message)),
    Buffer.from(parent ? `from ${parent}\n` : ""),
    ...Object.entries(all).flatMap(([path, content]) => [
      Buffer.from(`M 100644 inline ${path}\n`),
      data(Buffer.from(typeof content === "string" ? content : formatLfsPointer(content))),
    ]),
  ];
  const run = startGit(["fast-import", "--quiet"], { env, stdin: "pipe" });
  run.child.stdout!.resume();
  run.child.stdin!.end(Buffer.concat(stream));
  await run.done;
  return (await git(["rev-parse", ref], { env })).trim();
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
