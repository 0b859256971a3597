// Retention planning: which snapshots of one repository to keep under a RetentionPolicy, and why.
// Pure (no clock, no store): prune acts on the plan; dry runs print it.
//
// Semantics follow restic's `forget` with its keep-within-* windows:
// - Snapshots are walked newest to oldest (equal takenAt: the greater id counts as newer). For each
//   period rule (daily, weekly, monthly, yearly) a snapshot inside the rule's window is kept when its
//   period key differs from that of the last one the rule kept: the newest snapshot of each period.
//   Rules are ORed and each kept snapshot lists every rule that keeps it. Periods are UTC days, ISO-8601
//   weeks (of the ISO week-year), months and years; a period with no snapshot simply keeps nothing.
// - Count rules (keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly: N), restic's
//   --keep-hourly and kin (its --keep-last is `last`, also spelled `keepLast`): walking newest
//   first, a snapshot whose period key differs from the last one the rule kept is kept while the
//   rule has kept fewer than N: the newest snapshot of each of the N newest periods
//   that have one, however old ("keepDaily 2026-01-04 (3 of 7)"). Gaps do not use up the count. A
//   count has no date to end on, so its keepUntil is open-ended; its release floor (the earliest it
//   can go, which storage classes read) is the start of the period that pushes it past N.
// - The oldest-snapshot rule: while a rule's window reaches back past the oldest snapshot (history is
//   shorter than the window), the oldest snapshot is kept too ("oldest daily 2024-02-29"), so the
//   longest possible history survives while the window fills. A count rule does the same while its
//   count is not used up (restic's rule), and the oldest snapshot then takes one of its N places.
// - Reference time: windows are measured back from the newest snapshot that is not future-dated, not
//   from the wall clock, so that when backups stop nothing ages out. A snapshot is inside a window W
//   when takenAt + W > reference (calendar months and years clamp the day; restic subtracts W from the
//   reference instead, which differs only near month ends, by at most three days, for "mo"/"y" windows:
//   31 January + 1mo is 28 February, so a snapshot of the 29th to 31st, or of 29 February under "1y",
//   leaves a day or two before restic would let it go; and restic's month back from 31 March starts
//   on 3 March, as Go rolls 31 February over, so there restic lets 1 to 3 March go first; see the
//   clamp-* golden tables).
// - keepUntil: for a window rule, the moment the window would let go of the snapshot if the reference
//   kept pace with the wall clock from `now` on: takenAt + W + (now - reference). While backups run
//   that is takenAt + W; while they are stopped, every plan moves it forward, so a lifecycle rule
//   keyed on it (GCS customTime) never deletes what the plan still keeps. null means open-ended: no
//   moment is known ("newest", "last N", count rules, "hold", "future-dated"); the lifecycle must not
//   delete it.
//   A snapshot's keepUntil is the latest over its reasons; a parent inherits its dependants'.
// - tier: the kind of the reason that sets keepUntil (open-ended counts as latest; ties go to hold,
//   future, newest, last, keepYearly, keepMonthly, keepWeekly, keepDaily, keepHourly, yearly, monthly,
//   weekly, daily, within in that order). A parent takes its dependant's tier, so the full snapshot under a
//   yearly incremental is stored like a yearly one.
// - Always kept: the newest snapshot ("newest"), held ones ("hold"), future-dated ones (takenAt > now:
//   "future-dated"; a skewed clock must not cost data, and they never become the reference nor take a
//   period slot from a real snapshot), and, transitively, every snapshot a kept one builds on through
//   parentId ("parent of <id>"). A parentId naming no listed snapshot is ignored: nothing to keep.

import { BackupError } from "./errors.js";
import { addDuration } from "./retention-duration.js";
import { PERIOD_RULES, periodKey, periodLabel, periodStart } from "./retention-periods.js";
import {
  assertNonEmptyPolicy,
  COUNT_RULE_PERIOD,
  COUNT_RULES,
  type CountRule,
  lastRule,
  type RetentionPolicy,
} from "./retention-policy.js";
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
  /**
   * ISO-8601 UTC: the earliest the rules can let it go if snapshots keep landing from the reference
   * on; null when no such moment is known. settledKeepUntil (storage-tiers.ts) reads it.
   */
  releaseFloor: string | null;
  tier: RetentionTier;
}

/** One period a count rule kept, and the snapshot that holds it. */
export interface CountedPeriod {
  /** The typed period key ("day:2026-01-04"). */
  key: string;
  id: string;
}

export interface RetentionPlan<S> {
  /** The instant windows were measured from (ISO-8601 UTC): the newest snapshot not in the future, else `now`. */
  reference: string;
  /** Newest first. */
  keep: KeptSnapshot<S>[];
  /** Newest first. */
  remove: S[];
  /** Per count rule of the policy, the periods it kept, newest first (removal reasons read it). */
  counted: Partial<Record<CountRule, CountedPeriod[]>>;
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
  keepHourly: 9,
  keepDaily: 10,
  keepWeekly: 11,
  keepMonthly: 12,
  keepYearly: 13,
  parent: 14,
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
  const last = lastRule(policy);
  const counted: Partial<Record<CountRule, CountedPeriod[]>> = {};
  for (const rule of COUNT_RULES) if (policy[rule] !== undefined) counted[rule] = [];
  present.forEach(({ snapshot, at }, nr) => {
    const { within } = policy;
    if (within !== undefined) {
      const end = addDuration(at, within);
      const text = `within ${within.text}`;
      if (end > reference)
        add(snapshot.id, { text, kind: "within", until: end + lag, floor: end, rank: RANK.within });
    }
    if (last !== undefined && nr < last.count) {
      const text = `${last.name} ${last.count}`;
      add(snapshot.id, { text, kind: "last", until: null, floor: null, rank: RANK.last });
    }
    for (const rule of PERIOD_RULES) {
      const window = policy[rule];
      if (window === undefined) continue;
      const end = addDuration(at, window);
      if (end <= reference) continue;
      const key = periodKey(rule, at);
      const label = `${rule} ${periodLabel(key)}`;
      const isOldest = nr === present.length - 1;
      const reason = { kind: rule, until: end + lag, floor: end, rank: RANK[rule] };
      if (key !== lastKey.get(rule)) {
        lastKey.set(rule, key);
        add(snapshot.id, { ...reason, text: label });
      } else if (isOldest) {
        add(snapshot.id, { ...reason, text: `oldest ${label}` });
      }
    }
    for (const rule of COUNT_RULES) {
      const count = policy[rule];
      const periods = counted[rule];
      if (count === undefined || periods === undefined || periods.length >= count) continue;
      const period = COUNT_RULE_PERIOD[rule];
      const key = periodKey(period, at);
      const sameAsLast = key === periods.at(-1)?.key;
      // restic's rule: the oldest snapshot counts too while the count lasts, even in a period
      // already kept, so the longest history survives while the count fills.
      if (sameAsLast && nr !== present.length - 1) continue;
      periods.push({ key, id: snapshot.id });
      const label = `${rule} ${periodLabel(key)} (${periods.length} of ${count})`;
      add(snapshot.id, {
        text: sameAsLast ? `oldest ${label}` : label,
        kind: rule,
        // No date lets it go: only newer periods with snapshots do, so it is open-ended.
        until: null,
        // It holds place N of `count`: `count - N + 1` newer periods push it out, the first of
        // them starting after the reference's period.
        floor: periodStart(period, reference, count - periods.length + 1),
        rank: RANK[rule],
      });
    }
  });

  const newest = present[0];
  if (newest !== undefined) {
    const reason = { kind: "newest", until: null, floor: null, rank: RANK.newest } as const;
    add(newest.snapshot.id, { ...reason, text: "newest" });
  }
  for (const { snapshot, at } of ordered) {
    if (snapshot.hold === true) {
      add(snapshot.id, { text: "hold", kind: "hold", until: null, floor: null, rank: RANK.hold });
    }
    if (at > nowMs) {
      const reason = { kind: "future", until: null, floor: null, rank: RANK.future } as const;
      add(snapshot.id, { ...reason, text: "future-dated" });
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
      releaseFloor: verdict.floor === null ? null : new Date(verdict.floor).toISOString(),
      tier: verdict.tier,
    });
  }
  return { reference: new Date(reference).toISOString(), keep, remove, counted };
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
