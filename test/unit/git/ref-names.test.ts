// Ref names: our check agrees with `git check-ref-format` on a table of names git takes and
// refuses; long names print shortened.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  refNameClash,
  refNameProblem,
  shortenLongWords,
  shortRefName,
} from "../../../functions/core/git/ref-names.js";

const NAMES = [
  "refs/heads/main",
  "refs/tags/v1.0",
  "refs/pull/12/head",
  "refs/heads/feature/ü-unicode",
  "refs/heads/a.b",
  "refs/heads/a@b",
  "refs/heads/-dash",
  `refs/heads/${"x".repeat(6000)}`,
  "refs/heads/a..b",
  "refs/heads/a b",
  "refs/heads/a~1",
  "refs/heads/a^",
  "refs/heads/a:b",
  "refs/heads/a?",
  "refs/heads/a*",
  "refs/heads/a[",
  "refs/heads/a\\b",
  "refs/heads/a\tb",
  "refs/heads/a\x7fb",
  "refs/heads/a@{1}",
  "refs/heads/.hidden",
  "refs/heads/x/.hidden",
  "refs/heads/a.lock",
  "refs/heads/a.lock/b",
  "refs/heads/a.",
  "refs/heads/a/",
  "refs/heads//a",
  "refs/heads/@",
];

/** Whether git takes `name` as a full ref name. */
function gitTakes(name: string): boolean {
  try {
    execFileSync("git", ["check-ref-format", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("refNameProblem", () => {
  it.each(NAMES.map((n) => [shortRefName(JSON.stringify(n)), n]))("agrees with git on %s", (_label, name) => {
    expect(refNameProblem(name) === undefined).toBe(gitTakes(name));
  });

  it("refuses what is not under refs/ (HEAD is kept apart)", () => {
    expect(refNameProblem("heads/main")).toBe("it is not under refs/");
  });
});

describe("shortRefName and shortenLongWords", () => {
  it("keep a short name whole and cut a long one to 80 characters and its length", () => {
    expect(shortRefName("refs/heads/main")).toBe("refs/heads/main");
    const long = `refs/heads/${"a".repeat(5989)}`;
    expect(shortRefName(long)).toBe(`${long.slice(0, 80)}…(6000 chars)`);
    expect(shortenLongWords(`error: cannot lock ref '${long}': File name too long`)).toBe(
      `error: cannot lock ref '${long.slice(0, 80)}…(6000 chars)': File name too long`,
    );
  });
});

describe("refNameClash", () => {
  it("finds a ref with another below it, which git cannot hold together", () => {
    expect(refNameClash(["refs/heads/a/b", "refs/heads/main", "refs/heads/a"])).toEqual([
      "refs/heads/a",
      "refs/heads/a/b",
    ]);
    expect(
      refNameClash(["refs/heads/a", "refs/heads/ab", "refs/heads/a-b/c", "refs/tags/a"]),
    ).toBeUndefined();
  });

  it("agrees with git: such a pair cannot be created", () => {
    const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    try {
      execFileSync("git", ["init", "--bare", "--quiet", dir]);
      const env = {
        ...process.env,
        GIT_DIR: dir,
        GIT_AUTHOR_NAME: "A",
        GIT_AUTHOR_EMAIL: "a@e",
        GIT_COMMITTER_NAME: "A",
        GIT_COMMITTER_EMAIL: "a@e",
      };
      const tree = execFileSync("git", ["mktree"], { env, input: "", encoding: "utf8" }).trim();
      const commit = execFileSync("git", ["commit-tree", tree, "-m", "x"], { env, encoding: "utf8" }).trim();
      execFileSync("git", ["update-ref", "refs/heads/a", commit], { env });
      expect(() =>
        execFileSync("git", ["update-ref", "refs/heads/a/b", commit], { env, stdio: "ignore" }),
      ).toThrow();
    } finally {
      execFileSync("rm", ["-rf", dir]);
    }
  });
});
