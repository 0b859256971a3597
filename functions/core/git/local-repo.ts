// Operations on a bare repository on local disk: filling it from a pack, setting exact refs,
// and checking it. Used by deep verification and by restore.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PassThrough, type Readable } from "node:stream";
import { ArchiveCorruptError, GitError } from "../errors.js";
import type { RefMap } from "../model.js";
import type { GitRemote } from "../ports.js";
import { commandName, git, runGit, startGit } from "./exec.js";
import { shortRefName } from "./ref-names.js";

export async function initBare(path: string): Promise<void> {
  await git(["-c", "init.defaultBranch=main", "init", "--bare", "--quiet", path]);
}

/**
 * A new, empty bare repository written as files, without starting `git init` (a restore starts one
 * process fewer): what git needs to open one, HEAD (at `head`), the config, objects/ and refs/. A
 * head that is not plainly a ref name is left to `git symbolic-ref`, which checks it.
 */
export async function createBare(path: string, head = "refs/heads/main"): Promise<void> {
  for (const dir of ["objects/info", "objects/pack", "refs/heads", "refs/tags"])
    await mkdir(join(path, dir), { recursive: true });
  const plain = /^refs\/(?:[\w.-]+\/)*[\w-][\w.-]*$/.test(head) && !/\.\.|\.lock(?:\/|$)|\/\.|\.$/.test(head);
  await writeFile(join(path, "HEAD"), `ref: ${plain ? head : "refs/heads/main"}\n`, { flag: "wx" });
  await writeFile(join(path, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = true\n", {
    flag: "wx",
  });
  if (!plain) await git(["symbolic-ref", "HEAD", head], { env: { GIT_DIR: path } });
}

/**
 * Streams a packfile into the repository's object store (`git index-pack --stdin`).
 * `checkLinks` also proves that every object the pack's objects point to is in the pack or
 * already in the repository (`--check-self-contained-and-connected`): the links are followed
 * while the pack is indexed, in the same pass, where a `git fsck --connectivity-only` afterwards
 * would read every commit and tree again. Its exit 1 says only that some links point into the
 * repository (an incremental's parents); a missing object is a failure (exit 128).
 */
export async function indexPack(
  repo: string,
  pack: Readable,
  options: { thin?: boolean; checkLinks?: boolean } = {},
): Promise<void> {
  const args = ["index-pack", "--stdin"];
  if (options.thin) args.push("--fix-thin");
  if (options.checkLinks) args.push("--check-self-contained-and-connected");
  const run = startGit(args, {
    env: { GIT_DIR: repo },
    stdin: "pipe",
    ...(options.checkLinks ? { okExit: [1] } : {}),
  });
  run.child.stdout!.resume();
  await Promise.all([pipeline(pack, run.child.stdin!), run.done]);
}

/**
 * Gives a new bare repository (no refs yet) exactly these refs, and points HEAD at `head`, which
 * may name a ref that does not exist (an empty repository's HEAD, or one left at a deleted
 * branch). The refs go straight into `packed-refs`, as `git clone` writes a new repository's: a
 * loose ref is a file, and a name longer than the file system takes (a 6,000-character ref, which
 * a source can hold packed) could not be created that way. Every ref's object must be in the
 * repository: ArchiveCorruptError names the first that is not.
 */
export async function setRefs(repo: string, refs: RefMap, head?: string): Promise<void> {
  const names = Object.keys(refs);
  if (names.length) {
    const missing = await missingObjects(repo, [...new Set(Object.values(refs))]);
    const broken = names.find((name) => missing.has(refs[name]!));
    if (broken)
      throw new ArchiveCorruptError(
        `ref ${shortRefName(broken)} points to ${refs[broken]}, which is not in the restored objects`,
      );
    await writePackedRefs(repo, refs);
  }
  if (head) await git(["symbolic-ref", "HEAD", head], { env: { GIT_DIR: repo } });
}

/** Writes a new repository's `packed-refs` (sorted by bytes, as git reads it); unchecked. */
export async function writePackedRefs(repo: string, refs: RefMap): Promise<void> {
  const sorted = Object.keys(refs)
    .map((name) => Buffer.from(name, "utf8"))
    .sort(Buffer.compare);
  const lines = sorted.map((name) => `${refs[name.toString("utf8")]} ${name.toString("utf8")}\n`);
  await writeFile(join(repo, "packed-refs"), "# pack-refs with: sorted \n" + lines.join(""), { flag: "wx" });
}

/** Which of `oids` the repository does not have (`git cat-file --batch-check`). */
async function missingObjects(repo: string, oids: string[]): Promise<Set<string>> {
  const out = await git(["cat-file", "--batch-check=%(objectname)"], {
    env: { GIT_DIR: repo },
    input: oids.join("\n") + "\n",
  });
  return new Set(
    out
      .split("\n")
      .filter((line) => line.endsWith(" missing"))
      .map((line) => line.slice(0, -" missing".length)),
  );
}

export async function readRefs(repo: string): Promise<RefMap> {
  const out = await git(["for-each-ref", "--format=%(objectname) %(refname)"], { env: { GIT_DIR: repo } });
  const refs: RefMap = {};
  for (const line of out.split("\n").filter(Boolean)) {
    const [oid, name] = line.split(" ");
    refs[name!] = oid!;
  }
  return refs;
}

/** What `git fsck` found short of damage: its warning ids ("zeroPaddedFilemode"), each once. */
export interface FsckReport {
  warnings: string[];
}

/**
 * `git fsck`: full checks every object; connectivity-only checks every ref reaches whole history.
 * Not --strict: what plain fsck only warns about (legacy quirks GitHub hosts, such as zero-padded
 * file modes) is reported as a warning, not a failure. Damage (a missing object, a hash mismatch,
 * an error-level finding) rejects with ArchiveCorruptError carrying fsck's own words; a git that
 * could not run or check (no disk, killed) rejects with GitError naming the command and exit.
 */
export async function fsck(repo: string, level: "full" | "connectivity"): Promise<FsckReport> {
  const args =
    level === "full"
      ? ["fsck", "--full", "--no-dangling", "--no-progress"]
      : ["fsck", "--connectivity-only", "--no-dangling", "--no-progress"];
  const { code, signal, stdout, stderr } = await runGit(args, { env: { GIT_DIR: repo } });
  const warnings = [
    ...new Set([...stderr.matchAll(/^warning in [a-z]+ [0-9a-f]+: ([A-Za-z]+):/gm)].map((m) => m[1]!)),
  ];
  if (code === 0) return { warnings: warnings.sort() };
  const findings = [...stdout.split("\n"), ...stderr.split("\n")]
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("warning in ") && !l.startsWith("notice:"));
  const said = findings.slice(0, 4).join(" / ") || "it printed no message";
  const what = `${commandName(args)} failed (exit ${code ?? signal})`;
  if (findings.some((l) => FSCK_DAMAGE.test(l))) throw new ArchiveCorruptError(`${what}: ${said}`);
  throw new GitError(`${what}: ${said}`);
}

/** Lines by which fsck reports damage to the objects (as opposed to failing to run). */
const FSCK_DAMAGE =
  /^(missing |broken link|dangling |error in |error: (object|sha1|hash|inflate|packfile|index|corrupt|bad|invalid|unable to unpack)|bad |hash mismatch|sha1 mismatch|corrupt)/i;

/** Names the refs that differ between two maps, or returns undefined when they are equal. */
export function diffRefs(expected: RefMap, actual: RefMap): string | undefined {
  const problems: string[] = [];
  for (const [name, oid] of Object.entries(expected)) {
    if (actual[name] === undefined) problems.push(`${shortRefName(name)} missing`);
    else if (actual[name] !== oid)
      problems.push(`${shortRefName(name)} is ${actual[name]!.slice(0, 12)}, expected ${oid.slice(0, 12)}`);
  }
  for (const name of Object.keys(actual))
    if (expected[name] === undefined) problems.push(`${shortRefName(name)} unexpected`);
  return problems.length
    ? problems.slice(0, 5).join("; ") + (problems.length > 5 ? ` (+${problems.length - 5} more)` : "")
    : undefined;
}

/** The repository as one plain bundle (every ref and HEAD), streamed from `git bundle create`. */
export function bundleOf(repo: string): Readable {
  const run = startGit(["bundle", "create", "--quiet", "-", "--all"], { env: { GIT_DIR: repo } });
  // The stream ends only once git has exited 0: a failed git never passes for a short, whole bundle.
  const out = new PassThrough();
  pipeline(run.child.stdout!, out, { end: false })
    .then(() => run.done)
    .then(
      () => out.end(),
      (err: Error) => out.destroy(err),
    );
  return out;
}

/** Refs a push may write: GitHub refuses refs/pull/* (read-only) and hidden refs. */
export function pushableRefs(refs: RefMap): RefMap {
  return Object.fromEntries(Object.entries(refs).filter(([name]) => !name.startsWith("refs/pull/")));
}

/**
 * Pushes the given refs to `remote`. Credentials go through GIT_CONFIG_* environment variables
 * (http.extraHeader), so they appear in no argument list, no URL and no file.
 */
export async function pushRefs(repo: string, remote: GitRemote, refs: RefMap): Promise<void> {
  const env: Record<string, string> = { GIT_DIR: repo };
  const headers = Object.entries(remote.headers ?? {});
  headers.forEach(([name, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = "http.extraHeader";
    env[`GIT_CONFIG_VALUE_${i}`] = `${name}: ${value}`;
  });
  env.GIT_CONFIG_COUNT = String(headers.length);
  const refspecs = Object.keys(refs).map((name) => `${name}:${name}`);
  if (refspecs.length === 0) return;
  try {
    // With no headers given (a person's `restore --push`), their own git config supplies the
    // credentials (credential helper, SSH); with headers, nothing of the machine's config is used.
    await git(["push", "--porcelain", "--atomic", remote.url, ...refspecs], {
      env,
      userConfig: headers.length === 0,
    });
  } catch (err) {
    throw new GitError(`push of ${refspecs.length} refs failed: ${(err as Error).message}`, { cause: err });
  }
}
