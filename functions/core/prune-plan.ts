// One repository's prune, worked out before anything changes: what is kept (reasons, expiry, storage
// class), what is removed and why, which orphans are collected. Pure: prune.ts carries it out, and a
// dry run prints it as it is.
import type { Snapshot } from "./model.js";
import type { BlobInfo } from "./ports.js";
import { planRetention, type RetentionPlan, type RetentionTier } from "./retention.js";
import {
  addDuration,
  COUNT_RULE_PERIOD,
  COUNT_RULES,
  lastRule,
  type RetentionPolicy,
} from "./retention-policy.js";
import { PERIOD_RULES, periodKey, periodLabel } from "./retention-periods.js";
import { chooseStorageClass, readersOf, settledKeepUntil } from "./storage-tiers.js";

export interface KeepDecision {
  snapshot: Snapshot;
  /** Every reason the policy keeps it, as the planner words them. */
  reasons: string[];
  /** ISO-8601 UTC; null when open-ended (nothing may delete it on a date). */
  keepUntil: string | null;
  tier: RetentionTier;
  /** The class after the prune; undefined when the store reports none or the object is missing. */
  storageClass: string | undefined;
  /** Set when the class changes: the class it leaves. */
  movedFrom?: string;
  /** Why that class: "kept 95 more days", "open-ended", "NEARLINE minimum of 30 days not served". */
  classReason: string;
  /** The expiry to send: keepUntil when it moves the object's expiry forward, else absent. */
  setExpiresAt?: string;
  /** The index record names an object the store does not have (verification reports it). */
  missingObject: boolean;
}

/** Why one rule of the policy lets a snapshot go; describeRemoval words it. */
export type RemovalReason =
  | { kind: "older-than-within"; window: string }
  | { kind: "not-among-last"; count: number }
  | { kind: "outside-window"; rule: string; window: string }
  /** A count rule ("keepDaily 7") whose N periods are all held by newer snapshots. */
  | { kind: "beyond-count"; rule: string; count: number }
  /** A newer snapshot holds the rule's period ("weekly 2026-W01"); `by` names it when known. */
  | { kind: "period-kept-by-newer"; period: string; by?: string };

/**
 * The reason in words: "older than 48h", "outside daily 30d", "weekly 2026-W01 kept by newer <id>".
 * `brief` leaves the holder's id out (a table's column; --json and the audit log keep it).
 */
export function describeRemoval(reason: RemovalReason, brief = false): string {
  switch (reason.kind) {
    case "older-than-within":
      return `older than ${reason.window}`;
    case "not-among-last":
      return `not among the last ${reason.count}`;
    case "outside-window":
      return `outside ${reason.rule} ${reason.window}`;
    case "beyond-count":
      return `beyond ${reason.rule} ${reason.count}`;
    case "period-kept-by-newer":
      if (brief) return `${reason.period}: newer kept`;
      return reason.by === undefined
        ? `${reason.period} kept by a newer snapshot`
        : `${reason.period} kept by newer ${reason.by}`;
  }
}

export interface RemoveDecision {
  snapshot: Snapshot;
  /** Why no rule keeps it, one reason per rule of the policy. */
  reasons: RemovalReason[];
  /** What its object takes up in the store; 0 when the object is already gone. */
  bytes: number;
}

export interface Orphan {
  key: string;
  size: number;
  createdAt: string;
  storageClass: string | undefined;
}

export interface RepoPrunePlan {
  repo: string;
  /** The instant the windows were measured from (see retention.ts). */
  reference: string;
  /** Newest first. */
  keep: KeepDecision[];
  /** Newest first: dependants before the snapshots they build on, so a halted run breaks no chain. */
  remove: RemoveDecision[];
  /** Objects no index record names, older than the grace period: collected. */
  orphans: Orphan[];
  /** Objects no index record names, younger than the grace period (a snapshot may be in flight). */
  youngOrphans: Orphan[];
}

export interface PrunePlanInput {
  repo: string;
  /** The repository's index records. */
  snapshots: readonly Snapshot[];
  /** Every object under the repository's prefix in the store. */
  objects: readonly BlobInfo[];
  policy: RetentionPolicy;
  now: Date;
  orphanGraceMs: number;
}

export function planPrune(input: PrunePlanInput): RepoPrunePlan {
  const { snapshots, policy, now } = input;
  const plan = planRetention(snapshots, policy, now);
  const settled = settledKeepUntil(snapshots, policy, now);
  const readBy = readersOf(
    plan.keep.map((kept) => kept.snapshot),
    plan.reference,
  );
  const objects = new Map(input.objects.map((object) => [object.key, object]));

  const keep = plan.keep.map(({ snapshot, reasons, keepUntil, tier }): KeepDecision => {
    const object = objects.get(snapshot.objectKey);
    const base = { snapshot, reasons, keepUntil, tier };
    if (object === undefined) {
      return { ...base, storageClass: undefined, classReason: "object missing", missingObject: true };
    }
    const sure = settled.get(snapshot.id);
    const choice = chooseStorageClass({
      current: object.storageClass,
      createdAt: object.createdAt,
      // Not kept for sure: it may go with the next snapshot, so it is treated as leaving now.
      settledUntil: sure === undefined ? now.toISOString() : sure,
      now,
      readBy: readBy.get(snapshot.id),
    });
    const decision: KeepDecision = {
      ...base,
      storageClass: choice.storageClass,
      classReason: choice.why,
      missingObject: false,
    };
    if (choice.move) decision.movedFrom = object.storageClass ?? "none";
    if (keepUntil !== null && isLater(keepUntil, object.expiresAt)) decision.setExpiresAt = keepUntil;
    return decision;
  });

  const remove = plan.remove.map((snapshot) => ({
    snapshot,
    reasons: removalReasons(snapshot, plan, policy),
    bytes: objects.get(snapshot.objectKey)?.size ?? 0,
  }));

  const named = new Set(snapshots.map((snapshot) => snapshot.objectKey));
  const orphans: Orphan[] = [];
  const youngOrphans: Orphan[] = [];
  for (const object of input.objects) {
    if (named.has(object.key)) continue;
    const orphan = {
      key: object.key,
      size: object.size,
      createdAt: object.createdAt,
      storageClass: object.storageClass,
    };
    const age = now.getTime() - Date.parse(object.createdAt);
    (age >= input.orphanGraceMs ? orphans : youngOrphans).push(orphan);
  }
  return { repo: input.repo, reference: plan.reference, keep, remove, orphans, youngOrphans };
}

/** Whether `candidate` is after `current` (an absent or unreadable current expiry counts as none). */
function isLater(candidate: string, current: string | undefined): boolean {
  const known = current === undefined ? Number.NaN : Date.parse(current);
  return Number.isNaN(known) || Date.parse(candidate) > known;
}

/**
 * Why each rule of the policy lets the snapshot go: it is outside the rule's window, beyond the
 * rule's count, or a newer snapshot holds its period. A removed snapshot is never future-dated,
 * held or the newest.
 */
export function removalReasons(
  snapshot: Snapshot,
  plan: RetentionPlan<Snapshot>,
  policy: RetentionPolicy,
): RemovalReason[] {
  const reference = Date.parse(plan.reference);
  const at = Date.parse(snapshot.takenAt);
  const holder = new Map<string, string>();
  for (const kept of plan.keep) {
    for (const reason of kept.reasons) if (!holder.has(reason)) holder.set(reason, kept.snapshot.id);
  }
  const reasons: RemovalReason[] = [];
  if (policy.within !== undefined) reasons.push({ kind: "older-than-within", window: policy.within.text });
  const last = lastRule(policy);
  if (last !== undefined) reasons.push({ kind: "not-among-last", count: last.count });
  for (const rule of PERIOD_RULES) {
    const window = policy[rule];
    if (window === undefined) continue;
    if (addDuration(at, window) <= reference) {
      reasons.push({ kind: "outside-window", rule, window: window.text });
      continue;
    }
    const period = `${rule} ${periodLabel(periodKey(rule, at))}`;
    const by = holder.get(period);
    reasons.push({ kind: "period-kept-by-newer", period, ...(by === undefined ? {} : { by }) });
  }
  for (const rule of COUNT_RULES) {
    const count = policy[rule];
    if (count === undefined) continue;
    const key = periodKey(COUNT_RULE_PERIOD[rule], at);
    const holder = plan.counted[rule]?.find((period) => period.key === key);
    reasons.push(
      holder === undefined
        ? { kind: "beyond-count", rule, count }
        : { kind: "period-kept-by-newer", period: `${rule} ${periodLabel(key)}`, by: holder.id },
    );
  }
  return reasons;
}
