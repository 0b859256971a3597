// When two index records are the same commit: every field the snapshot was written with, in any key
// order, ignoring the fields the index itself updates later. Every SnapshotIndex adapter uses this
// one rule to make a repeated commit a no-op and a different one a conflict.
import type { Snapshot } from "./model.js";

/** Fields an index changes after the commit (confirmations, verdicts, holds). */
export const INDEX_OWNED_FIELDS: ReadonlySet<string> = new Set(["confirmedAt", "verification", "hold"]);

/** A canonical text of the committed content: equal texts mean the same snapshot. */
export function commitIdentity(snapshot: Snapshot): string {
  const canonical = (value: unknown): unknown =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : Array.isArray(value)
        ? value.map(canonical)
        : value;
  const owned = Object.entries(snapshot).filter(([key]) => !INDEX_OWNED_FIELDS.has(key));
  return JSON.stringify(canonical(Object.fromEntries(owned)));
}

/** Whether `a` and `b` record the same commit (see commitIdentity). */
export function sameCommit(a: Snapshot, b: Snapshot): boolean {
  return commitIdentity(a) === commitIdentity(b);
}
