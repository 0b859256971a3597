// Changes to a bare git repository as a host sees them after pushes: new commits, merges, force
// pushes, deleted and re-created refs, tags. Plumbing only (no work tree, no clone), with dates
// from a counter, so the same calls give the same object ids on every machine and a seed replays.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitEnv } from "../../functions/core/git/exec.js";

const IDENTITY = {
  GIT_AUTHOR_NAME: "History",
  GIT_AUTHOR_EMAIL: "history@example.invalid",
  GIT_COMMITTER_NAME: "History",
  GIT_COMMITTER_EMAIL: "history@example.invalid",
};

/** A bare repository and the counter that dates its commits and tags. */
export class BareHistory {
  private serial = 0;

  constructor(readonly dir: string) {}

  /** Runs git on the repository; throws with git's stderr when it fails. */
  git(args: string[], input?: string): string {
    const date = `${1_700_000_000 + this.serial} +0000`;
    const run = spawnSync("git", args, {
      input,
      encoding: "utf8",
      env: gitEnv({ GIT_DIR: this.dir, ...IDENTITY, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
    });
    if (run.status !== 0) throw new Error(`git ${args.join(" ")} in ${this.dir}: ${run.stderr.trim()}`);
    return run.stdout;
  }

  /** Refs under `prefix` (e.g. "refs/heads/") as name -> object id, sorted by name. */
  refs(prefix: string): Map<string, string> {
    const out = this.git(["for-each-ref", "--format=%(refname) %(objectname)", prefix]);
    return new Map(
      out
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(" ") as [string, string]),
    );
  }

  /** Commits of the whole repository, oldest first (every ref's history). */
  commits(): string[] {
    return this.git(["rev-list", "--all", "--reverse"]).split("\n").filter(Boolean);
  }

  /**
   * A new commit on `branch` (created from `from`, or main, when missing) whose tree is its
   * parent's with `files` written; `mergeFrom` adds a second parent (a merge: its tree is the first
   * parent's plus the files). Resolves with the commit id.
   */
  commit(
    branch: string,
    files: Record<string, string>,
    mergeFrom?: string,
    from = "refs/heads/main",
  ): string {
    this.serial++;
    const ref = `refs/heads/${branch}`;
    const parent = this.refs(ref).get(ref) ?? this.git(["rev-parse", from]).trim();
    const scratch = mkdtempSync(join(tmpdir(), "infinity-history-"));
    const index = join(scratch, "index");
    try {
      const withIndex = (args: string[], input?: string) =>
        spawnSync("git", args, {
          input,
          encoding: "utf8",
          env: gitEnv({ GIT_DIR: this.dir, GIT_INDEX_FILE: index }),
        });
      withIndex(["read-tree", parent]);
      for (const [path, text] of Object.entries(files)) {
        const blob = this.git(["hash-object", "-w", "--stdin"], text).trim();
        const added = withIndex(["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`]);
        if (added.status !== 0) throw new Error(`update-index ${path}: ${added.stderr}`);
      }
      const tree = withIndex(["write-tree"]).stdout.trim();
      const parents = ["-p", parent, ...(mergeFrom ? ["-p", mergeFrom] : [])];
      const commit = this.git(["commit-tree", tree, ...parents, "-m", `change ${this.serial}`]).trim();
      this.git(["update-ref", ref, commit]);
      return commit;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Moves `ref` to `target` whatever it pointed at (a force push, a re-created ref). */
  setRef(ref: string, target: string): void {
    this.git(["update-ref", ref, target]);
  }

  deleteRef(ref: string): void {
    this.git(["update-ref", "-d", ref]);
  }

  /** A tag `name` on `target`: annotated (a tag object) or lightweight. */
  tag(name: string, target: string, annotated: boolean): void {
    this.serial++;
    if (annotated) this.git(["tag", "-f", "-a", "-m", `tag ${name} ${this.serial}`, name, target]);
    else this.setRef(`refs/tags/${name}`, target);
  }
}
