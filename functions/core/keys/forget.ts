// Forgetting a repository (crypto-shredding): its repository keys are destroyed in the index, so
// the data keys of all its format 2 archives, wherever copies of them live, can never be unwrapped
// again. The snapshot records stay, marked shredded through the key set, until prune removes them
// when retention and holds allow; nothing is deleted early. Its restore drill records go (they name
// the repository and are no proof of anything once nothing of it can be restored).
import { REPOSITORY_KEY_REF } from "../archive/header.js";
import type { Deps } from "../deps.js";
import { UserInputError } from "../errors.js";
import { holdLease, leaseHolder } from "../lease.js";
import type { DrillRecords, KeyRecords, Shredding } from "../ports.js";
import { lineageKeyOf } from "./repository-keys.js";

export interface ForgetRequest {
  repo: string;
  /** Who asked (recorded in the audit trail and the key set). */
  by: string;
  /** Why: a ticket, a request, a law. Required. */
  reason: string;
  /** The repository name typed back: must equal `repo`. */
  confirm: string;
}

export interface ForgetResult {
  repo: string;
  /** The lineage key the keys were filed under. */
  lineage: string;
  shredding: Shredding;
  /** True when the repository had been forgotten before (nothing new was destroyed). */
  already: boolean;
  /** Snapshots now unreadable through the destroyed keys (format 2 archives). */
  shredded: number;
  /**
   * Snapshots written before per-repository keys (format 1): their data key is wrapped by the KMS
   * key or key file, so destroying the repository key cannot erase them. Our code refuses to read
   * them from now on; their bytes go when prune removes them.
   */
  legacy: number;
  /** Restore drill records of the repository removed from the index. */
  drills: number;
}

export async function forgetRepository(
  deps: Pick<Deps, "index" | "audit" | "clock"> & { keyRecords: KeyRecords; drills?: DrillRecords },
  request: ForgetRequest,
): Promise<ForgetResult> {
  const { repo, by } = request;
  const reason = request.reason.trim();
  if (request.confirm !== repo) {
    throw new UserInputError(
      `forget destroys every key of ${repo} for good: type the repository name to confirm ` +
        `(${JSON.stringify(request.confirm)} is not ${JSON.stringify(repo)})`,
    );
  }
  if (!reason) throw new UserInputError("forget needs a reason (--reason TEXT), kept in the audit trail");
  const lineage = await lineageKeyOf(deps.index, repo);
  const snapshots = await deps.index.list(repo);
  const existing = await deps.keyRecords.keySet(lineage);
  if (!snapshots.length && !existing)
    throw new UserInputError(`${repo} has no snapshots and no keys to forget`);
  const at = deps.clock.now();
  // The repository's lease: no snapshot of it is being written while its keys are destroyed.
  const lease = await holdLease(deps.index, repo, leaseHolder(`forget-${at.getTime()}`));
  let result: ForgetResult;
  try {
    let already = false;
    const stored = await deps.keyRecords.updateKeySet(lineage, (current) => {
      already = current?.shredded !== undefined;
      if (already) return undefined;
      return {
        repo: lineage,
        keys: [],
        shredded: { at: at.toISOString(), by, reason, keyIds: (current?.keys ?? []).map((k) => k.id) },
      };
    });
    const legacy = snapshots.filter((s) => s.keyRef !== REPOSITORY_KEY_REF).length;
    // Filed by the name each snapshot was taken under, and by the lineage key.
    const names = new Set([repo, lineage, ...snapshots.map((s) => s.repo)]);
    let drills = 0;
    for (const name of names) drills += (await deps.drills?.forgetDrills(name)) ?? 0;
    result = {
      repo,
      lineage,
      shredding: stored!.shredded!,
      already,
      shredded: snapshots.length - legacy,
      legacy,
      drills,
    };
  } catch (err) {
    await deps.audit.record({
      action: "key.forget",
      repo,
      actor: by,
      outcome: "failure",
      details: { reason, error: err instanceof Error ? err.message : String(err) },
    });
    throw err;
  } finally {
    await lease.release();
  }
  await deps.audit.record({
    action: "key.forget",
    repo,
    actor: by,
    outcome: "success",
    details: {
      reason,
      at: result.shredding.at,
      keyIds: result.shredding.keyIds,
      snapshots: result.shredded,
      legacySnapshots: result.legacy,
      drillRecords: result.drills,
      already: result.already,
    },
  });
  return result;
}
