// The weekly full deep verification of layered snapshots, spread over the week (docs/ARCHITECTURE.md,
// "Verification per layer"): the daily verification sweep checks a layered repository's latest
// snapshot at level `layer` (its new layers and their links, in proportion to the push), and once a
// week, on the weekday its lineage hashes to, restores it whole (`deep`: git fsck --full). Hashing
// the lineage key spreads the repositories' full restores evenly over the seven days, and a
// repository keeps its weekday whatever else is added or removed.
import { createHash } from "node:crypto";
import type { SnapshotSummary, VerifyLevel } from "../model.js";

/** The UTC weekday (0 Sunday … 6 Saturday) of the lineage's weekly full deep verification. */
export function deepVerifyWeekday(lineage: string): number {
  return createHash("sha256").update(lineage).digest().readUInt32BE(0) % 7;
}

/**
 * The level the verification sweep asks for `snapshot` at `now`: `deep` for chains (as always), and
 * for a layered snapshot `deep` on its lineage's weekday, `layer` on the other six.
 */
export function sweepVerifyLevel(
  snapshot: Pick<SnapshotSummary, "kind" | "repo" | "lineage">,
  now: Date,
): "deep" | "layer" {
  if (snapshot.kind !== "layered") return "deep";
  return now.getUTCDay() === deepVerifyWeekday(snapshot.lineage ?? snapshot.repo) ? "deep" : "layer";
}

/**
 * The level verify-after-backup checks a new snapshot at: a layered snapshot's `deep` is per layer
 * (its new objects and their links); its full-restore deep verification is the sweep's weekly one.
 */
export function afterBackupLevel(kind: SnapshotSummary["kind"], configured: VerifyLevel): VerifyLevel {
  return kind === "layered" && configured === "deep" ? "layer" : configured;
}
