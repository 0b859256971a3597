// Which storage class a kept archive belongs in: the coldest class whose minimum storage duration the
// archive is sure to outlive, never warmer than where it is, and never left before that class's minimum.
//
// Cloud Storage bills an object moved, replaced or deleted before its class's minimum (Nearline 30 d,
// Coldline 90 d, Archive 365 d) as if it had stayed the whole minimum. A class change made by prune is
// a rewrite, which starts the new class's minimum afresh, so the test is "kept at least that much
// longer from now". "Sure to be kept" is not the plan's keepUntil: windows are measured from the
// newest snapshot, so while backups pause every keepUntil stretches by the pause and shrinks back the
// moment they resume, and the newest snapshot holds its periods only until the next one lands.
// settledKeepUntil() answers as if the next snapshot were taken now.
//
// Reads come first: an archive that the newest snapshot, or one taken in the last RECENT_READ_DAYS,
// reads on a restore (the snapshot's own archive and every one its incremental chain builds on)
// stays warm, whatever its keepUntil. Verify-after-backup, the daily re-verification, drills and
// most restores read exactly those, and a cold class bills every read (Archive: 0.05 USD/GiB), so
// an archive's class follows the youngest snapshot that needs it (readersOf).
import { planRetention, type RetentionCandidate } from "./retention.js";
import type { RetentionPolicy } from "./retention-policy.js";

/** Cloud Storage's classes, warmest first. */
export const STORAGE_CLASSES = ["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] as const;
export type StorageClass = (typeof STORAGE_CLASSES)[number];

/** Days an object must stay in the class before a move or delete costs nothing extra. */
export const MINIMUM_STORAGE_DAYS: Readonly<Record<StorageClass, number>> = {
  STANDARD: 0,
  NEARLINE: 30,
  COLDLINE: 90,
  ARCHIVE: 365,
};

const DAY_MS = 86_400_000;

/**
 * Position on the warm-to-cold ladder. A class the ladder does not know ("LOCAL" of the folder store,
 * legacy "REGIONAL", none reported) is where new objects start: the warmest.
 */
export function classRank(storageClass: string | undefined): number {
  const rank = STORAGE_CLASSES.indexOf(storageClass as StorageClass);
  return rank < 0 ? 0 : rank;
}

/** A snapshot taken this recently (measured back from the newest) is read often: restores ask for it. */
export const RECENT_READ_DAYS = 7;

export interface ClassChoiceInput {
  /** The class the store reports now. */
  current: string | undefined;
  /**
   * Set when a current or recent snapshot reads the archive (see readersOf): why it stays warm.
   * It then stays in (or, once the colder class's minimum is served, goes back to) STANDARD.
   */
  readBy?: string;
  /** When the object was written (a rewrite into another class writes it anew). ISO-8601. */
  createdAt: string;
  /** Until when the object is sure to be kept (see settledKeepUntil); null: no end is known. */
  settledUntil: string | null;
  now: Date;
}

export interface ClassChoice {
  /** The class to be in: the current one when nothing moves (undefined if the store reported none). */
  storageClass: string | undefined;
  /** True when prune should change the class. */
  move: boolean;
  /** Why, for the plan's printout: "kept 95 more days", "open-ended", "NEARLINE minimum not served". */
  why: string;
}

/** The minimum of a class on the ladder; 0 for any other (nothing is charged for leaving it). */
export function minimumDays(storageClass: string | undefined): number {
  const known = STORAGE_CLASSES.find((candidate) => candidate === storageClass);
  return known === undefined ? 0 : MINIMUM_STORAGE_DAYS[known];
}

/** The coldest class whose minimum fits into `days`. STANDARD (no minimum) always fits. */
export function coldestClassFor(days: number): StorageClass {
  let chosen: StorageClass = "STANDARD";
  for (const candidate of STORAGE_CLASSES) {
    if (MINIMUM_STORAGE_DAYS[candidate] <= days) chosen = candidate;
  }
  return chosen;
}

export function chooseStorageClass(input: ClassChoiceInput): ClassChoice {
  const { current } = input;
  const stay = (why: string): ClassChoice => ({ storageClass: current, move: false, why });
  const served = (input.now.getTime() - Date.parse(input.createdAt)) / DAY_MS;
  if (input.readBy !== undefined) {
    // The warmest class already (LOCAL, STANDARD, none reported): it stays. A colder one (moved
    // before the reads counted) comes back once leaving it costs no early-deletion charge: every
    // read of it bills a retrieval, the move bills one.
    if (classRank(current) === 0) return stay(input.readBy);
    const minimum = minimumDays(current);
    if (served < minimum) return stay(`${input.readBy}; ${current} minimum of ${minimum} days not served`);
    return { storageClass: "STANDARD", move: true, why: input.readBy };
  }
  // Open-ended (held, newest, last N, future-dated): no end means no minimum can be promised, and a
  // hold may be lifted tomorrow; the object waits where it is until its end is known.
  if (input.settledUntil === null) return stay("open-ended");
  const days = (Date.parse(input.settledUntil) - input.now.getTime()) / DAY_MS;
  const target = coldestClassFor(days);
  const remaining = `kept ${Math.max(0, Math.floor(days))} more days`;
  // Never warmer: moving back would pay the colder class's early-deletion charge for nothing gained.
  if (STORAGE_CLASSES.indexOf(target) <= classRank(current)) return stay(remaining);
  // Leaving a class early is billed like deleting from it. The store reports when the object was
  // written, not when it entered its class, so the age since createdAt is at least the time served:
  // exact for Cloud Storage, where a class change rewrites the object and resets its creation time,
  // and harmless for the folder store, which charges nothing.
  const minimum = minimumDays(current);
  if (served < minimum) return stay(`${current} minimum of ${minimum} days not served`);
  return { storageClass: target, move: true, why: remaining };
}

/** Sorts after every real id, so at an equal takenAt the stand-in counts as the newer snapshot. */
const STAND_IN_ID = "\uffff next snapshot";

/**
 * For each snapshot id the plan keeps for sure, the keepUntil it can count on; null when open-ended.
 * An id missing from the map may go as soon as a newer snapshot lands.
 *
 * It plans again with a stand-in snapshot taken at `now`: that one takes over every period still open
 * and measures the windows from `now`, which is what the next real snapshot will do. What survives
 * it holds periods that are over, by windows no resumed backup can shorten.
 */
export function settledKeepUntil<S extends RetentionCandidate>(
  snapshots: readonly S[],
  policy: RetentionPolicy,
  now: Date,
): Map<string, string | null> {
  const standIn: RetentionCandidate = { id: STAND_IN_ID, takenAt: now.toISOString() };
  const plan = planRetention<RetentionCandidate>([...snapshots, standIn], policy, now);
  const settled = new Map<string, string | null>();
  // With the reference at `now`, a window's floor is its keepUntil; a count rule's is the start of
  // the first period that can push it past its count (its keepUntil is open-ended).
  for (const kept of plan.keep) {
    if (kept.snapshot.id !== STAND_IN_ID) settled.set(kept.snapshot.id, kept.releaseFloor);
  }
  return settled;
}

/**
 * For each kept snapshot that a current or recent snapshot reads, why: "read by the newest snapshot"
 * or "read by <id> (last 7 days)". A restore of a snapshot reads its own archive and, through
 * parentId, every archive its chain builds on, so each of those is read by it. `kept` is newest
 * first (as a plan's keep list); `reference` is the plan's: the newest snapshot is the newest kept
 * at or before it, recent is taken within RECENT_READ_DAYS of it (future-dated snapshots count as
 * recent). Kept snapshots missing from the map are read only by older ones.
 */
export function readersOf<S extends RetentionCandidate>(
  kept: readonly S[],
  reference: string,
): Map<string, string> {
  const byId = new Map(kept.map((snapshot) => [snapshot.id, snapshot]));
  const readBy = new Map<string, string>();
  // Newest first, so the first reader to reach an archive is its youngest.
  for (const [snapshot, why] of recentReaders(kept, reference)) {
    const seen = new Set<string>();
    for (let s: S | undefined = snapshot; s !== undefined && !seen.has(s.id);) {
      seen.add(s.id);
      if (!readBy.has(s.id)) readBy.set(s.id, why);
      s = s.parentId === undefined ? undefined : byId.get(s.parentId);
    }
  }
  return readBy;
}

/**
 * The kept snapshots that are read often, newest first, each with why: the newest (at or before
 * `reference`) and those taken within RECENT_READ_DAYS of it (future-dated ones count as recent).
 * readersOf follows their chains; layer-tiers.ts the layers they resolve to.
 */
export function recentReaders<S extends RetentionCandidate>(
  kept: readonly S[],
  reference: string,
): Map<S, string> {
  const referenceMs = Date.parse(reference);
  const recentFrom = referenceMs - RECENT_READ_DAYS * DAY_MS;
  const newest = kept.find((snapshot) => Date.parse(snapshot.takenAt) <= referenceMs);
  const recent = new Map<S, string>();
  for (const snapshot of kept) {
    if (snapshot === newest) recent.set(snapshot, "read by the newest snapshot");
    else if (Date.parse(snapshot.takenAt) > recentFrom)
      recent.set(snapshot, `read by ${snapshot.id} (last ${RECENT_READ_DAYS} days)`);
  }
  return recent;
}
