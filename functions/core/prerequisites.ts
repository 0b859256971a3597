// The prerequisites of an incremental snapshot's bundle: the commits its parent's refs lead to.
//
// git accepts only commits there (gitformat-bundle: "prerequisite commits"; bundle.c's
// verify_bundle walks commits from them, so an annotated tag, a tree or a blob listed as one is
// "lacking" and `git bundle verify`, `git fetch` refuse the bundle). So each parent tip that is an
// annotated tag is replaced by what it peels to, and a tip that leads to no commit (a tag of a
// tree or a blob, or a ref straight at one) is left out: git has no way to name a non-commit
// prerequisite. Such objects, like the tag objects themselves, are in the parent's bundle; the
// chain is applied oldest first, so they are present when this bundle is.
//
// Leaving a commit out never makes a bundle invalid in a repository that holds its parents (git
// only checks that the listed ones are there and connected); listing a non-commit always does.
// So where the parent's record cannot say what a tip is, the tip is left out.
import type { RemoteRefs } from "./git/upload-pack.js";
import type { Snapshot } from "./model.js";

/** Tips of refs/heads/ are commits: git refuses to point a branch at anything else. */
const BRANCH = /^refs\/heads\//;

/** The sorted commits an incremental built on `parent` names as prerequisites. */
export function prerequisitesOf(parent: Snapshot, source: RemoteRefs): string[] {
  const commits = new Set<string>();
  if (parent.peeled) {
    const nonCommits = new Set(parent.nonCommits ?? []);
    for (const [name, oid] of Object.entries(parent.refs)) {
      if (!nonCommits.has(name)) commits.add(parent.peeled[name] ?? oid);
    }
  } else {
    // A parent recorded before tags were peeled. Its branch tips are commits. Any other tip is
    // peeled through what the source lists now: a ref there that points at the same object
    // peels the same way (objects never change), and fetchPack has just asked which of those
    // peel to commits. A tip the source no longer lists (a deleted tag) is left out.
    const now = new Map<string, string | undefined>();
    const nonCommits = new Set(source.nonCommits ?? []);
    for (const [name, oid] of Object.entries(source.refs)) {
      const leadsTo = source.nonCommits && !nonCommits.has(name) ? (source.peeled?.[name] ?? oid) : undefined;
      if (!now.has(oid) || leadsTo) now.set(oid, leadsTo);
    }
    for (const [name, oid] of Object.entries(parent.refs)) {
      const commit = BRANCH.test(name) ? oid : now.get(oid);
      if (commit) commits.add(commit);
    }
  }
  return [...commits].sort();
}

/** The peeling facts a snapshot records for its children, when the source gave them all. */
export function peelingOf(source: RemoteRefs): Pick<Snapshot, "peeled" | "nonCommits"> {
  if (!source.peeled || !source.nonCommits) return {};
  return {
    peeled: source.peeled,
    ...(source.nonCommits.length ? { nonCommits: source.nonCommits } : {}),
  };
}
