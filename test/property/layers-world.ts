// What the layers property test generates from a seed: a retention policy and a list of steps
// (pushes, snapshots with layers off then on, prunes with and without compaction, the clock moving
// by minutes to days, crashes injected into a step), and the pushes themselves, applied to a real
// bare repository: new commits, merges, force pushes, branch and tag deletions, re-created refs,
// lightweight and annotated tags, and old content pushed again.
import { parseRetentionPolicy, type RetentionPolicy } from "../../functions/core/retention-policy.js";
import type { BareHistory } from "../helpers/git-history.js";
import { seededRandom, type Random } from "./retention-world.js";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A crash in a step: its `nth` write (an index transaction or a store put/delete) fails, before or after it lands, and every later write of the step fails too. */
export interface Crash {
  nth: number;
  when: "before" | "after";
}

export type Step =
  /** One to three changes pushed to the source; `seed` chooses them against the repository then. */
  | { kind: "push"; seed: number }
  | { kind: "snapshot"; layers: boolean; crash?: Crash }
  | { kind: "prune"; compact: boolean; crash?: Crash }
  | { kind: "wait"; ms: number };

export interface LayersCase {
  seed: number;
  policy: RetentionPolicy;
  policyText: Record<string, unknown>;
  /** Chains for the snapshots taken with layers off (before layers are switched on). */
  incremental: { maxChain: number; fullEveryMs: number };
  steps: Step[];
}

/** A policy that lets snapshots go within a case's few days, so layers die and garbage runs. */
function randomPolicy(rnd: Random): Record<string, unknown> {
  return rnd.pick<() => Record<string, unknown>>([
    () => ({ last: 2 + rnd.int(5) }),
    () => ({ within: `${6 + rnd.int(42)}h` }),
    () => ({ keepDaily: 1 + rnd.int(4), last: 1 + rnd.int(3) }),
    () => ({ daily: `${1 + rnd.int(4)}d`, last: 2 }),
    () => ({ keepLast: 2 + rnd.int(3), keepWeekly: 1 + rnd.int(2) }),
  ])();
}

const maybeCrash = (rnd: Random): Crash | undefined =>
  rnd.chance(0.3) ? { nth: 1 + rnd.int(6), when: rnd.chance(0.5) ? "before" : "after" } : undefined;

/**
 * A case: sometimes one to three snapshots with layers off first (each after a push), then 14 to
 * 27 steps with layers on (a push and its snapshot, now and then a burst of them, counting one). The clock moves between steps by minutes to hours, and now and then by
 * days (past the layer grace period and the store's retention of new archives).
 */
export function layersCase(seed: number): LayersCase {
  const rnd = seededRandom(seed);
  const policyText = randomPolicy(rnd);
  const steps: Step[] = [];
  for (let n = rnd.chance(0.4) ? 1 + rnd.int(3) : 0; n > 0; n--) {
    steps.push({ kind: "push", seed: rnd.int(2 ** 31) }, { kind: "snapshot", layers: false });
  }
  for (let n = 14 + rnd.int(14); n > 0; n--) {
    const roll = rnd.next();
    if (roll < 0.5) {
      // A push and its snapshot, or a busy hour of them (so levels fill and merge).
      for (let burst = rnd.chance(0.25) ? 4 + rnd.int(6) : 1; burst > 0; burst--) {
        steps.push({ kind: "push", seed: rnd.int(2 ** 31) });
        const crash = maybeCrash(rnd);
        steps.push({ kind: "snapshot", layers: true, ...(crash ? { crash } : {}) });
      }
    } else if (roll < 0.58) {
      steps.push({ kind: "snapshot", layers: true }); // often unchanged
    } else if (roll < 0.8) {
      const crash = maybeCrash(rnd);
      steps.push({ kind: "prune", compact: rnd.chance(0.6), ...(crash ? { crash } : {}) });
    } else {
      const long = rnd.chance(0.35);
      steps.push({ kind: "wait", ms: long ? 3 * DAY + rnd.int(2 * DAY) : MINUTE + rnd.int(12 * HOUR) });
    }
  }
  return {
    seed,
    policy: parseRetentionPolicy(policyText, "property policy"),
    policyText,
    incremental: { maxChain: 1 + rnd.int(4), fullEveryMs: DAY },
    steps,
  };
}

/** Random text of a few hundred bytes to a few KiB, from the generator. */
function text(rnd: Random): string {
  const line = `${rnd.int(1e9).toString(36)} ${rnd.int(1e9).toString(36)}\n`;
  return line.repeat(1 + rnd.int(60)) + rnd.int(1e9).toString(36);
}

/**
 * Applies a push step to `repo`: one to three changes chosen by `seed` against its refs now.
 * `written` collects every file content pushed, so old content can be pushed again (its blob sent
 * once more when no kept snapshot reaches it). Resolves with what was done, for a failure message.
 */
export function applyPush(repo: BareHistory, seed: number, written: string[]): string[] {
  const rnd = seededRandom(seed);
  const done: string[] = [];
  for (let n = 1 + rnd.int(3); n > 0; n--) {
    const heads = [...repo.refs("refs/heads/").keys()].map((ref) => ref.slice("refs/heads/".length));
    const others = heads.filter((name) => name !== "main");
    const tags = [...repo.refs("refs/tags/").keys()];
    const commits = repo.commits();
    const anyCommit = () => rnd.pick(commits);
    const content = () => {
      const body = text(rnd);
      written.push(body);
      return body;
    };
    const file = () => `f${rnd.int(8)}.txt`;
    const roll = rnd.next();
    if (roll < 0.3) {
      const branch = rnd.pick(heads);
      repo.commit(branch, { [file()]: content(), ...(rnd.chance(0.3) ? { [file()]: content() } : {}) });
      done.push(`commit on ${branch}`);
    } else if (roll < 0.4) {
      const branch = `b${rnd.int(1000)}`;
      repo.commit(branch, { [file()]: content() }, undefined, anyCommit());
      done.push(`commit on ${branch} (new or moved on)`);
    } else if (roll < 0.5 && others.length) {
      const from = rnd.pick(others);
      repo.commit("main", { [`merge-${rnd.int(1000)}.txt`]: content() }, `refs/heads/${from}`);
      done.push(`merge ${from} into main`);
    } else if (roll < 0.62) {
      // A force push: the branch back one to three commits (as far as it goes), then a new commit.
      const branch = rnd.pick(heads);
      const back = 1 + rnd.int(3);
      const base = repo.git([
        "rev-list",
        "--first-parent",
        `--max-count=${back + 1}`,
        `refs/heads/${branch}`,
      ]);
      repo.setRef(`refs/heads/${branch}`, base.split("\n").filter(Boolean).at(-1)!);
      repo.commit(branch, { [file()]: content() });
      done.push(`force push ${branch} back ${back}`);
    } else if (roll < 0.7 && others.length) {
      const branch = rnd.pick(others);
      repo.deleteRef(`refs/heads/${branch}`);
      done.push(`delete branch ${branch}`);
    } else if (roll < 0.8) {
      const name = `t${rnd.int(100)}`;
      const annotated = rnd.chance(0.5);
      repo.tag(name, anyCommit(), annotated);
      done.push(`${annotated ? "annotated" : "lightweight"} tag ${name} (new or re-created)`);
    } else if (roll < 0.86 && tags.length) {
      const tag = rnd.pick(tags);
      repo.deleteRef(tag);
      done.push(`delete ${tag}`);
    } else if (roll < 0.93 && others.length) {
      // The same name, another target.
      const branch = rnd.pick(others);
      repo.setRef(`refs/heads/${branch}`, anyCommit());
      done.push(`re-create ${branch} elsewhere`);
    } else if (written.length) {
      // Old content again: its blob may be one only expired snapshots reached.
      const branch = rnd.pick(heads);
      repo.commit(branch, { [file()]: rnd.pick(written) });
      done.push(`old content again on ${branch}`);
    } else {
      repo.commit("main", { [file()]: content() });
      done.push("commit on main");
    }
  }
  return done;
}
