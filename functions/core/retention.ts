// Retention planning: which snapshots of one repository to keep under a RetentionPolicy, and why.
// Pure (no clock, no store): prune acts on the plan; dry runs print it.
//
// Semantics follow restic's `forget` with its keep-within-* windows:
// - Snapshots are walked newest to oldest (equal takenAt: the greater id counts as newer). For each
//   period rule (daily, weekly, monthly, yearly) a snapshot inside the rule's window is kept when its
//   period key differs from that of the last one the rule kept: the newest snapshot of each period.
//   Rules are ORed and each kept snapshot lists every rule that keeps it. Periods are UTC days, ISO-8601
//   weeks (of the ISO week-year), months and years; a period with no snapshot simply keeps nothing.
// - The oldest-snapshot rule: while a rule's window reaches back past the oldest snapshot (history is
//   shorter than the window), the oldest snapshot is kept too ("oldest daily 2024-02-29"), so the
//   longest possible history survives while the window fills.
// - Reference time: windows are measured back from the newest snapshot that is not future-dated, not
//   from the wall clock, so that when backups stop nothing ages out. A snapshot is inside a window W
//   when takenAt + W > reference (calendar months and years clamp the day; restic subtracts W from the
//   reference instead, which differs only near month ends, by at most three days, for "mo"/"y" windows).
// - keepUntil: for a window rule, the moment the window would let go of the snapshot if the reference
//   kept pace with the wall clock from `now` on: takenAt + W + (now - reference). While backups run
//   that is takenAt + W; while they are stopped, every plan moves it forward, so a lifecycle rule
//   keyed on it (GCS customTime) never deletes what the plan still keeps. null means open-ended: no
//   moment is known ("newest", "last N", "hold", "future-dated"); the lifecycle must not delete it.
//   A snapshot's keepUntil is the latest over its reasons; a parent inherits its dependants'.
// - tier: the kind of the reason that sets keepUntil (open-ended counts as latest; ties go to hold,
//   future, newest, last, yearly, monthly, weekly, daily, within in that order). A parent takes its
//   dependant's tier, so the full snapshot under a yearly incremental is stored like a yearly one.
// - Always kept: the newest snapshot ("newest"), held ones ("hold"), future-dated ones (takenAt > now:
//   "future-dated"; a skewed clock must not cost data, and they never become the reference nor take a
//   period slot from a real snapshot), and, transitively, every snapshot a kept one builds on through
//   parentId ("parent of <id>"). A parentId naming no listed snapshot is ignored: nothing to keep.

import { BackupError } from "./errors.js";
import { addDuration } from "./retention-duration.js";
import { PERIOD_RULES, periodKey, periodLabel } from "./retention-periods.js";
import { assertNonEmptyPolicy, type RetentionPolicy } from "./retention-policy.js";
import { resolveDependencies, type Reason, type RetentionTier } from "./retention-verdicts.js";

export type { RetentionTier } from "./retention-verdicts.js";

/** What the planner needs of a snapshot; a full Snapshot passes through untouched. */
export interface RetentionCandidate {
  id: string;
  /** ISO-8601. */
  takenAt: string;
  parentId?: string;
  hold?: boolean;
}

export interface KeptSnapshot<S> {
  snapshot: S;
  /** Every reason, e.g. ["newest", "within 48h", "daily 2026-01-04", "weekly 2026-W01", "parent of 2026…"]. */
  reasons: string[];
  /** ISO-8601 UTC; null when open-ended. See the module comment. */
  keepUntil: string | null;
  tier: RetentionTier;
}

export interface RetentionPlan<S> {
  /** The instant windows were measured from (ISO-8601 UTC): the newest snapshot not in the future, else `now`. */
  reference: string;
  /** Newest first. */
  keep: KeptSnapshot<S>[];
  /** Newest first. */
  remove: S[];
}

const RANK = {
  newest: 0,
  hold: 1,
  future: 2,
  within: 3,
  last: 4,
  daily: 5,
  weekly: 6,
  monthly: 7,
  yearly: 8,
  parent: 9,
};

/** Plans retention for one repository's snapshots. Throws UserInputError for an empty policy. */
export function planRetention<S extends RetentionCandidate>(
  snapshots: readonly S[],
  policy: RetentionPolicy,
  now: Date,
): RetentionPlan<S> {
  assertNonEmptyPolicy(policy);
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) {
    throw new BackupError("planRetention: `now` is not a valid date", { permanent: true });
  }

  const ordered = orderNewestFirst(snapshots);
  const present = ordered.filter((entry) => entry.at <= nowMs);
  const reference = present[0]?.at ?? nowMs;
  const lag = nowMs - reference;
  const reasons = new Map<string, Reason[]>();
  const add = (id: string, reason: Reason): void => {
    const list = reasons.get(id);
    if (list === undefined) reasons.set(id, [reason]);
    else list.push(reason);
  };

  // Per rule, the period it kept last; walking newest first, a new key is the newest snapshot of its period.
  const lastKey = new Map<string, string>();
  present.forEach(({ snapshot, at }, nr) => {
    const { within } = policy;
    if (within !== undefined) {
      const end = addDuration(at, within);
      const text = `within ${within.text}`;
      if (end > reference) add(snapshot.id, { text, kind: "within", until: end + lag, rank: RANK.within });
    }
    if (policy.last !== undefined && nr < policy.last) {
      add(snapshot.id, { text: `last ${policy.last}`, kind: "last", until: null, rank: RANK.last });
    }
    for (const rule of PERIOD_RULES) {
      const window = policy[rule];
      if (window === undefined) continue;
      const end = addDuration(at, window);
      if (end <= reference) continue;
      const key = periodKey(rule, at);
      const label = `${rule} ${periodLabel(key)}`;
      const isOldest = nr === present.length - 1;
      if (key !== lastKey.get(rule)) {
        lastKey.set(rule, key);
        add(snapshot.id, { text: label, kind: rule, until: end + lag, rank: RANK[rule] });
      } else if (isOldest) {
        add(snapshot.id, { text: `oldest ${label}`, kind: rule, until: end + lag, rank: RANK[rule] });
      }
    }
  });

  const newest = present[0];
  if (newest !== undefined) {
    add(newest.snapshot.id, { text: "newest", kind: "newest", until: null, rank: RANK.newest });
  }
  for (const { snapshot, at } of ordered) {
    if (snapshot.hold === true) {
      add(snapshot.id, { text: "hold", kind: "hold", until: null, rank: RANK.hold });
    }
    if (at > nowMs) {
      add(snapshot.id, { text: "future-dated", kind: "future", until: null, rank: RANK.future });
    }
  }

  const verdicts = resolveDependencies(
    ordered.map((entry) => entry.snapshot),
    reasons,
    RANK.parent,
  );
  const keep: KeptSnapshot<S>[] = [];
  const remove: S[] = [];
  for (const { snapshot } of ordered) {
    const verdict = verdicts.get(snapshot.id);
    if (verdict === undefined) {
      remove.push(snapshot);
      continue;
    }
    keep.push({
      snapshot,
      reasons: verdict.reasons.map((reason) => reason.text),
      keepUntil: verdict.until === null ? null : new Date(verdict.until).toISOString(),
      tier: verdict.tier,
    });
  }
  return { reference: new Date(reference).toISOString(), keep, remove };
}

interface Entry<S> {
  snapshot: S;
  at: number;
}

function orderNewestFirst<S extends RetentionCandidate>(snapshots: readonly S[]): Entry<S>[] {
  const seen = new Set<string>();
  const entries = snapshots.map((snapshot) => {
    if (seen.has(snapshot.id)) {
      throw new BackupError(`snapshot ${snapshot.id} is listed twice`, { permanent: true });
    }
    seen.add(snapshot.id);
    const at = Date.parse(snapshot.takenAt);
    if (Number.isNaN(at)) {
      throw new BackupError(
        `snapshot ${snapshot.id} has an unreadable takenAt ${JSON.stringify(snapshot.takenAt)}`,
        {
          permanent: true,
        },
      );
    }
    return { snapshot, at };
  });
  // Ids are unique, so this order is total: the output never depends on the input's order.
  return entries.sort((a, b) => b.at - a.at || (a.snapshot.id < b.snapshot.id ? 1 : -1));
}
