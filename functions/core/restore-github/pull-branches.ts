// Which branches a restored pull request is made from. Its head: the original branch while the
// pull request is open and the branch still points where it did; else the snapshot's
// refs/pull/N/head, made a branch `restored/pr-N` on the target (GitHub takes no push to
// refs/pull/). Its base: the original branch while open; else the base commit it was last compared
// with, as `restored/pr-N-base` (a merged pull request's head is already inside its base branch,
// and GitHub opens no pull request without new commits). Both are made through the API once the
// code is pushed, so the code step stays a plain push of the snapshot's refs.
import type { PullLine } from "./lines.js";

type Refs = Readonly<Record<string, string>>;

/** A branch the pull request needs: an existing one, or one to create at `sha`. */
export interface BranchNeed {
  name: string;
  sha?: string;
}

export type PullBranchPlan = { head: BranchNeed; base: BranchNeed; fallbackBase?: string } | { why: string };

export function pullBranchPlan(refs: Refs, pull: PullLine): PullBranchPlan {
  const n = pull.number;
  const open = pull.state === "open";
  const pullHead = refs[`refs/pull/${n}/head`];
  const head: BranchNeed | undefined =
    open && refs[`refs/heads/${pull.head.ref}`] === pull.head.sha
      ? { name: pull.head.ref }
      : pullHead
        ? { name: `restored/pr-${n}`, sha: pullHead }
        : undefined;
  if (!head) return { why: `its head commit is not in the backup (no refs/pull/${n}/head)` };
  const baseThere = !!refs[`refs/heads/${pull.base.ref}`];
  if (open && baseThere) return { head, base: { name: pull.base.ref } };
  return {
    head,
    base: { name: `restored/pr-${n}-base`, sha: pull.base.sha },
    ...(baseThere ? { fallbackBase: pull.base.ref } : {}),
  };
}
