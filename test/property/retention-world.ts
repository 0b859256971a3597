// What the retention property test generates: a seeded random generator, random policies, and random
// histories of one repository (full and incremental snapshots, holds, orphans, clock skew and prunes
// at random times), as steps a test replays against a backend.
import { archiveKey } from "../../functions/core/object-keys.js";
import type { Snapshot } from "../../functions/core/model.js";
import { parseRetentionPolicy, type RetentionPolicy } from "../../functions/core/retention-policy.js";

export const REPO = "acme/prop";
const MINUTE = 60_000;
const DAY = 86_400_000;

/** mulberry32: small, fast and the same on every machine, so a seed replays a case exactly. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
export type Random = ReturnType<typeof seededRandom>;

/** A random policy of one to five rules, windows and counts mixed, written as the YAML would say it. */
export function randomPolicy(rnd: Random): { policy: RetentionPolicy; text: Record<string, unknown> } {
  const choices: [string, () => unknown][] = [
    ["within", () => `${1 + rnd.int(72)}h`],
    ["last", () => 1 + rnd.int(6)],
    ["daily", () => `${1 + rnd.int(40)}d`],
    ["weekly", () => `${1 + rnd.int(20)}w`],
    ["monthly", () => `${1 + rnd.int(18)}mo`],
    ["yearly", () => `${1 + rnd.int(7)}y`],
    ["keepHourly", () => 1 + rnd.int(30)],
    ["keepDaily", () => 1 + rnd.int(10)],
    ["keepWeekly", () => 1 + rnd.int(6)],
    ["keepMonthly", () => 1 + rnd.int(6)],
    ["keepYearly", () => 1 + rnd.int(3)],
  ];
  const text: Record<string, unknown> = {};
  for (let n = 1 + rnd.int(5); n > 0; n--) {
    const [rule, value] = rnd.pick(choices);
    text[rule] = value();
  }
  // restic's name for the same rule, half the time.
  if (text.last !== undefined && rnd.chance(0.5)) {
    text.keepLast = text.last;
    delete text.last;
  }
  return { policy: parseRetentionPolicy(text, "random policy"), text };
}

/** One step of a history, in order; `at` is the wall clock when it happens. */
export type Step =
  | { kind: "snapshot"; at: number; take: Take }
  | { kind: "hold"; at: number; pick: number; hold: boolean }
  | { kind: "orphan"; at: number; key: string }
  | { kind: "prune"; at: number };

/** A snapshot to take; its parent is chosen from the records there are when it is taken. */
export interface Take {
  id: string;
  takenAt: number;
  /** "latest": an incremental on the newest record, as chooseParent does, while its chain is short enough. */
  base: "none" | "latest" | { older: number };
  maxChain: number;
  hold: boolean;
}

export interface RandomCase {
  seed: number;
  policy: RetentionPolicy;
  policyText: Record<string, unknown>;
  /** The whole repository on legal hold (holdRepos). */
  repoHeld: boolean;
  steps: Step[];
}

/**
 * A random history: 5 to 60 steps, the clock moving by minutes to months (sometimes not at all).
 * A snapshot is full, or an incremental on the latest record while its chain is shorter than a
 * random limit, or now and then on an older record; a few are dated up to two days ahead of the
 * wall clock (a skewed clock), a few are put on hold or released later; objects without a record
 * appear (a snapshot that failed after its put); prune runs at random moments and once at the end.
 */
export function randomCase(seed: number): RandomCase {
  const rnd = seededRandom(seed);
  const { policy, text } = randomPolicy(rnd);
  const maxChain = 1 + rnd.int(8);
  let now = Date.UTC(2019 + rnd.int(7), rnd.int(12), 1 + rnd.int(28), rnd.int(24), rnd.int(60));
  const steps: Step[] = [];
  let serial = 0;
  for (let n = 5 + rnd.int(56); n > 0; n--) {
    const gap = rnd.chance(0.1) ? 0 : Math.exp(Math.log(MINUTE) + rnd.next() * Math.log((60 * DAY) / MINUTE));
    now += Math.round(gap);
    const roll = rnd.next();
    if (roll < 0.6) {
      const takenAt = rnd.chance(0.05) ? now + rnd.int(2 * DAY) : now;
      const id = `${new Date(takenAt).toISOString().replace(/[-:.]/g, "")}-${(++serial).toString(16).padStart(8, "0")}`;
      const base = rnd.chance(0.7) ? "latest" : rnd.chance(0.1) ? { older: rnd.next() } : "none";
      steps.push({
        kind: "snapshot",
        at: now,
        take: { id, takenAt, base, maxChain, hold: rnd.chance(0.08) },
      });
    } else if (roll < 0.66) {
      steps.push({ kind: "hold", at: now, pick: rnd.next(), hold: rnd.chance(0.5) });
    } else if (roll < 0.7) {
      steps.push({ kind: "orphan", at: now, key: archiveKey(REPO, new Date(now), `orphan-${++serial}`) });
    } else {
      steps.push({ kind: "prune", at: now });
    }
  }
  steps.push({ kind: "prune", at: now + rnd.int(3 * DAY) });
  return { seed, policy, policyText: text, repoHeld: rnd.chance(0.05), steps };
}

/** Records sorted by id, oldest first: what `pick` and `older` index into. */
export function byId(records: readonly Snapshot[]): Snapshot[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The record a step takes, its parent chosen among `records` (the index at that moment). */
export function snapshotFor(take: Take, writtenAt: number, records: readonly Snapshot[]): Snapshot {
  const sorted = byId(records);
  let parent: Snapshot | undefined;
  if (take.base === "latest") {
    // index.latest: the newest by takenAt, then id.
    const latest = [...sorted]
      .sort((a, b) => a.takenAt.localeCompare(b.takenAt) || (a.id < b.id ? -1 : 1))
      .at(-1);
    if (latest && chainLength(latest, sorted) < take.maxChain) parent = latest;
  } else if (take.base !== "none" && sorted.length > 0) {
    parent = sorted[Math.floor(take.base.older * sorted.length)];
  }
  const at = new Date(take.takenAt).toISOString();
  return {
    id: take.id,
    repo: REPO,
    takenAt: at,
    kind: parent ? "incremental" : "full",
    ...(parent ? { parentId: parent.id } : {}),
    refs: { "refs/heads/main": take.id.slice(-8).padStart(40, "0") },
    // The key carries the wall clock's date, as snapshotRepo's would for a skewed source clock.
    objectKey: archiveKey(REPO, new Date(writtenAt), take.id),
    size: 100,
    sha256: "0".repeat(64),
    bundleBytes: 50,
    keyRef: "local:prop",
    confirmedAt: at,
    ...(take.hold ? { hold: true } : {}),
  };
}

function chainLength(snapshot: Snapshot, records: readonly Snapshot[]): number {
  const ids = new Map(records.map((s) => [s.id, s]));
  let n = 0;
  for (let s = snapshot; s.parentId && ids.has(s.parentId); s = ids.get(s.parentId)!) n++;
  return n;
}
