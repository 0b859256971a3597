// What became of each metadata kind in one collection: the record a manifest and the health view carry.
import { z } from "zod";

export const kindOutcomeSchema = z.discriminatedUnion("state", [
  /** The file holds every item of the kind. */
  z.strictObject({ state: z.literal("full"), items: z.number().int().nonnegative() }),
  /** The file holds the items changed since the checkpoint (see KindShape). */
  z.strictObject({ state: z.literal("delta"), items: z.number().int().nonnegative() }),
  /** Nothing changed since the checkpoint: no file; the chain's earlier files stand. */
  z.strictObject({ state: z.literal("unchanged") }),
  /**
   * The repository cannot provide it (feature disabled, the App lacks a permission, legal block):
   * no file. `status` is GitHub's HTTP answer when there was one.
   */
  z.strictObject({
    state: z.literal("unavailable"),
    reason: z.string().min(1),
    status: z.number().int().optional(),
  }),
  /**
   * Not read this time to stay within the installation's rate budget ("rate budget"): no file; the
   * chain's earlier files stand, and a later collection reads it. Not a failure.
   */
  z.strictObject({ state: z.literal("deferred"), reason: z.string().min(1) }),
]);

export type KindOutcome = z.infer<typeof kindOutcomeSchema>;

/**
 * The index record's part of a collection's outcomes (model.ts MetadataRecord): items per kind with a
 * file, the unavailable kinds with why ("403: …"), the deferred ones with why (absent when none).
 */
export function recordedOutcomes(kinds: Partial<Record<string, KindOutcome>>): {
  items: Record<string, number>;
  unavailable: Record<string, string>;
  deferred?: Record<string, string>;
} {
  const items: Record<string, number> = {};
  const unavailable: Record<string, string> = {};
  const deferred: Record<string, string> = {};
  for (const [kind, outcome] of Object.entries(kinds)) {
    if (!outcome) continue;
    if (outcome.state === "full" || outcome.state === "delta") items[kind] = outcome.items;
    if (outcome.state === "unavailable")
      unavailable[kind] = outcome.status ? `${outcome.status}: ${outcome.reason}` : outcome.reason;
    if (outcome.state === "deferred") deferred[kind] = outcome.reason;
  }
  return { items, unavailable, ...(Object.keys(deferred).length ? { deferred } : {}) };
}
