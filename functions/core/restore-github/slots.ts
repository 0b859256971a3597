// The order a restore recreates issues and pull requests in. A new repository numbers issues and
// pull requests in one sequence, so creating every number from 1 up, in order, keeps the numbers:
// a number the snapshot has no issue or pull request for (deleted, transferred out, a discussion)
// becomes a placeholder, closed, that says why.
import type { IssueLine, PullLine } from "./lines.js";

export type Slot =
  | { number: number; kind: "issue"; issue: IssueLine }
  | { number: number; kind: "pull"; issue: IssueLine; pull?: PullLine }
  | { number: number; kind: "placeholder"; why: string };

/** Every number from 1 to the highest issue or pull request number, in order. */
export function planSlots(
  issues: readonly IssueLine[],
  pulls: readonly PullLine[],
  discussions: readonly number[],
): Slot[] {
  const byNumber = new Map(issues.map((i) => [i.number, i]));
  const pullByNumber = new Map(pulls.map((p) => [p.number, p]));
  const discussion = new Set(discussions);
  const highest = Math.max(0, ...byNumber.keys());
  const slots: Slot[] = [];
  for (let number = 1; number <= highest; number++) {
    const issue = byNumber.get(number);
    if (!issue)
      slots.push({
        number,
        kind: "placeholder",
        why: discussion.has(number)
          ? `#${number} was a discussion (discussions are not recreated on GitHub)`
          : `#${number} was not in the backup (deleted or transferred out before the snapshot)`,
      });
    else if (issue.is_pull_request) {
      const pull = pullByNumber.get(number);
      slots.push({ number, kind: "pull", issue, ...(pull ? { pull } : {}) });
    } else slots.push({ number, kind: "issue", issue });
  }
  return slots;
}
