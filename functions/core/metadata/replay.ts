// How a chain's archives add up, kind by kind (FORMAT.md "Chains"): the one home of the rule that
// readMetadata (read.ts) replays to read a snapshot and the fold (core/layers/fold-metadata.ts)
// replays to write a folded snapshot's metadata whole. Pure.
import type { KindOutcome } from "./outcome.js";

/** A kind at a snapshot, after its chain. */
export type KindState =
  | { state: "present" }
  /** The repository could not provide it when the snapshot was taken; `status` is GitHub's answer. */
  | { state: "unavailable"; reason: string; status?: number }
  /** No collection in the chain says anything of it (an archive older than the kind). */
  | { state: "not-collected" }
  /** Not read yet to stay within the rate budget, and no earlier collection of the chain has it. */
  | { state: "deferred"; reason: string };

/**
 * What one archive's outcome for a kind does to the kind's state and lines so far: "replace" them
 * with its file (full), "overlay" its file on them by key (delta), "keep" them (unchanged, or
 * deferred after a chain that had the kind), or "drop" them (unavailable, not collected, deferred
 * with nothing before it).
 */
export function stepKind(
  before: KindState,
  outcome: KindOutcome | undefined,
): { state: KindState; lines: "replace" | "overlay" | "keep" | "drop" } {
  if (!outcome) return { state: { state: "not-collected" }, lines: "drop" };
  switch (outcome.state) {
    case "full":
      return { state: { state: "present" }, lines: "replace" };
    case "delta":
      return { state: { state: "present" }, lines: "overlay" };
    case "unchanged":
      return { state: before, lines: "keep" };
    case "unavailable": {
      const { reason, status } = outcome;
      return {
        state: { state: "unavailable", reason, ...(status === undefined ? {} : { status }) },
        lines: "drop",
      };
    }
    case "deferred":
      // What the chain had stands; with nothing before it, the kind is still to be read.
      return before.state === "present"
        ? { state: before, lines: "keep" }
        : { state: { state: "deferred", reason: outcome.reason }, lines: "drop" };
  }
}
