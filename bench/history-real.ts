// The history bench's real source (`--history --repo PATH`): a repository's own history replayed in
// time order from its commit dates, as the pushes that would have produced it. A clone keeps no
// record of pushes or of deleted branches, so the replay infers them:
// - a branch's states are its first-parent chain; at time t it points at the newest commit of that
//   chain dated (committer date) on or before t. The default branch (HEAD) exists from its first
//   commit; another branch only from its first commit not on the default branch's first-parent
//   chain (or from its tip's date when it has none), so it does not appear years before its work;
// - a tag appears when both its commit's and its tagger's dates have passed;
// - branches merged and deleted before the clone was made are not in it, so they never appear
//   (their merged commits arrive with the merge); no force-push is replayed (a clone only has what
//   survived);
// - one push per distinct hour that has commits, at one minute past its last commit, capped per day
//   (the last `maxPerDay` of a day's hours are kept; an earlier hour's commits arrive with the next);
// - the window's first push is the whole state at its start (everything older arrives at once).
import { git } from "../functions/core/git/exec.js";
import type { RefMap } from "../functions/core/model.js";
import type { History, Push } from "./history-repo.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

export interface ReplayOptions {
  /** First day of the window, 00:00 UTC. */
  start: number;
  days: number;
  /** Most pushes on one day. */
  maxPerDay: number;
}

/** A ref's possible targets, newest first: object id and the epoch milliseconds it appears. */
type Timeline = { oid: string; at: number }[];

export interface ReplayedHistory extends History {
  /** The branch HEAD names (`refs/heads/…`), to point the source's HEAD at. */
  head: string;
  /** Refs of the repository that never appear in the window (e.g. tags dated after its end). */
  absent: string[];
}

/** The pushes that rebuild `repo`'s refs day by day over the window. */
export async function replayHistory(repo: string, options: ReplayOptions): Promise<ReplayedHistory> {
  const env = { GIT_DIR: repo };
  const head = (await git(["symbolic-ref", "HEAD"], { env })).trim();
  const timelines = new Map<string, Timeline>();
  timelines.set(head, await firstParents(repo, [head]));
  const branches = (await git(["for-each-ref", "--format=%(refname)", "refs/heads"], { env }))
    .split("\n")
    .filter((ref) => ref && ref !== head);
  for (const branch of branches) {
    const own = await firstParents(repo, [branch, `^${head}`]);
    // A branch whose work is all on the default branch appears at its tip's date.
    timelines.set(branch, own.length ? own : (await firstParents(repo, [branch])).slice(0, 1));
  }
  const tags = await git(
    [
      "for-each-ref",
      "--format=%(refname) %(objectname) %(taggerdate:unix) %(committerdate:unix) %(*committerdate:unix)",
      "refs/tags",
    ],
    { env },
  );
  for (const row of tags.split("\n").filter(Boolean)) {
    const [ref, oid, ...dates] = row.split(" ");
    const at = Math.max(...dates.filter(Boolean).map(Number)) * 1000;
    timelines.set(ref!, [{ oid: oid!, at }]);
  }

  const end = options.start + options.days * DAY;
  const times = pushTimes(timelines, options);
  const pushes: Push[] = [];
  let previous = "";
  for (const at of [options.start, ...times]) {
    const refs = stateAt(timelines, at);
    const key = JSON.stringify(refs);
    if (key === previous || refs[head] === undefined) continue;
    previous = key;
    pushes.push({ at, refs, what: at === options.start ? "state at the window's start" : "push" });
  }
  const seen = new Set(pushes.flatMap((p) => Object.keys(p.refs)));
  const commits = Number(
    (
      await git(["rev-list", "--count", ...new Set(pushes.flatMap((p) => Object.values(p.refs)))], { env })
    ).trim(),
  );
  return {
    head,
    pushes: pushes.filter((p) => p.at < end),
    commits,
    absent: [...timelines.keys()].filter((ref) => !seen.has(ref)),
  };
}

/** `git rev-list --first-parent` of `revs`, newest first, with committer dates. */
async function firstParents(repo: string, revs: string[]): Promise<Timeline> {
  const out = await git(["rev-list", "--first-parent", "--format=%ct", ...revs], { env: { GIT_DIR: repo } });
  const chain: Timeline = [];
  const rows = out.split("\n");
  for (let i = 0; i + 1 < rows.length; i += 2) {
    const oid = rows[i]!.replace(/^commit /, "");
    chain.push({ oid, at: Number(rows[i + 1]) * 1000 });
  }
  return chain;
}

/** Every ref at `at`: the first target of its timeline (newest first) that has appeared by then. */
export function stateAt(timelines: ReadonlyMap<string, Timeline>, at: number): RefMap {
  const refs: RefMap = {};
  for (const [ref, timeline] of timelines) {
    const target = timeline.find((t) => t.at <= at);
    if (target) refs[ref] = target.oid;
  }
  return refs;
}

/**
 * One push per distinct hour inside the window that has a commit or tag, a minute after the last
 * one of that hour (in the same hour), at most `maxPerDay` a day: the day's last ones.
 */
export function pushTimes(timelines: ReadonlyMap<string, Timeline>, options: ReplayOptions): number[] {
  const end = options.start + options.days * DAY;
  const lastInHour = new Map<number, number>();
  for (const timeline of timelines.values())
    for (const { at } of timeline) {
      if (at < options.start || at >= end) continue;
      const hour = Math.floor(at / HOUR);
      lastInHour.set(hour, Math.max(lastInHour.get(hour) ?? 0, at));
    }
  const byDay = new Map<number, number[]>();
  for (const [hour, last] of lastInHour) {
    const at = Math.min(last + MINUTE, (hour + 1) * HOUR - 1000);
    const day = Math.floor(at / DAY);
    byDay.set(day, [...(byDay.get(day) ?? []), at]);
  }
  return [...byDay.values()]
    .flatMap((times) => times.sort((a, b) => a - b).slice(-options.maxPerDay))
    .sort((a, b) => a - b);
}
