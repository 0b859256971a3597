// Settles a retention plan's verdicts: the "parent of" reasons along parentId chains, and each kept
// snapshot's keepUntil and tier (see retention.ts for what they mean).

import { BackupError } from "./errors.js";

export type RetentionTier =
  | "hold"
  | "future"
  | "newest"
  | "last"
  | "keepYearly"
  | "keepMonthly"
  | "keepWeekly"
  | "keepDaily"
  | "keepHourly"
  | "yearly"
  | "monthly"
  | "weekly"
  | "daily"
  | "within";

/** Tie-break between reasons with the same keepUntil: earlier in this list wins. */
const TIER_ORDER: readonly RetentionTier[] = [
  "hold",
  "future",
  "newest",
  "last",
  "keepYearly",
  "keepMonthly",
  "keepWeekly",
  "keepDaily",
  "keepHourly",
  "yearly",
  "monthly",
  "weekly",
  "daily",
  "within",
];

export interface Reason {
  text: string;
  kind: RetentionTier;
  /** Epoch ms, or null for open-ended. */
  until: number | null;
  /**
   * Epoch ms: the earliest the reason can let go of the snapshot if snapshots keep landing from the
   * reference on (a window's takenAt + W; a count rule's first period past its count); null when no
   * such moment is known.
   */
  floor: number | null;
  /** Listing order within a snapshot's reasons. */
  rank: number;
}

export interface Verdict {
  reasons: Reason[];
  until: number | null;
  /** The latest floor over the reasons (null, open-ended, is the latest). */
  floor: number | null;
  tier: RetentionTier;
}

/** The fields of a snapshot this module reads. */
interface Linked {
  id: string;
  parentId?: string;
}

/**
 * Adds "parent of <id>" along every kept snapshot's parentId chain (ranked `parentRank`), then
 * settles each kept snapshot's keepUntil and tier. A parent's verdict depends on its dependants'
 * verdicts, hence the memoised walk. `ownReasons` holds the snapshots the rules keep; the result
 * holds every kept snapshot, parents included.
 */
export function resolveDependencies(
  snapshots: readonly Linked[],
  ownReasons: ReadonlyMap<string, Reason[]>,
  parentRank: number,
): Map<string, Verdict> {
  const byId = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot]));
  const dependants = new Map<string, string[]>();
  const pending = [...ownReasons.keys()];
  const kept = new Set(pending);
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    const parentId = byId.get(id)?.parentId;
    if (parentId === undefined || !byId.has(parentId)) continue;
    dependants.set(parentId, [...(dependants.get(parentId) ?? []), id]);
    if (!kept.has(parentId)) {
      kept.add(parentId);
      pending.push(parentId);
    }
  }

  const verdicts = new Map<string, Verdict>();
  const settling = new Set<string>();
  const settle = (id: string): Verdict => {
    const done = verdicts.get(id);
    if (done !== undefined) return done;
    if (settling.has(id)) {
      // Corrupt index data: refusing to plan deletes nothing, which is the safe way to fail.
      throw new BackupError(`the parentId chain through snapshot ${id} loops back on itself`, {
        permanent: true,
      });
    }
    settling.add(id);
    const reasons = [...(ownReasons.get(id) ?? [])];
    for (const child of dependants.get(id) ?? []) {
      const childVerdict = settle(child);
      reasons.push({
        text: `parent of ${child}`,
        kind: childVerdict.tier,
        until: childVerdict.until,
        floor: childVerdict.floor,
        rank: parentRank,
      });
    }
    reasons.sort((a, b) => a.rank - b.rank || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    const deciding = reasons.reduce((best, reason) => (outlives(reason, best) ? reason : best));
    const floors = reasons.flatMap((reason) => (reason.floor === null ? [] : [reason.floor]));
    const floor = floors.length < reasons.length ? null : Math.max(...floors);
    const verdict = { reasons, until: deciding.until, floor, tier: deciding.kind };
    verdicts.set(id, verdict);
    settling.delete(id);
    return verdict;
  };
  for (const id of kept) settle(id);
  return verdicts;
}

/** Whether `a` keeps its snapshot longer than `b` (open-ended is longest), ties broken by TIER_ORDER. */
function outlives(a: Reason, b: Reason): boolean {
  if (a.until !== b.until) {
    if (a.until === null) return true;
    if (b.until === null) return false;
    return a.until > b.until;
  }
  return TIER_ORDER.indexOf(a.kind) < TIER_ORDER.indexOf(b.kind);
}
