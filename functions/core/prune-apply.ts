// A prune plan carried out (prune.ts runs these in order): kept archives' lifecycle in the store,
// snapshots removed record first and object second, orphans collected; each step audited. What the
// store still retains or holds is left, record and object, and said why: never forced.
import type { Deps } from "./deps.js";
import { ConflictError, describeError, RetainedError } from "./errors.js";
import type { AuditEvent, BlobInfo } from "./ports.js";
import { describeRemoval, type KeepDecision, type RemoveDecision, type RepoPrunePlan } from "./prune-plan.js";

/** Records an event of this repository's prune, by this run's actor. */
export type Audit = (event: Omit<AuditEvent, "repo" | "actor">) => Promise<void>;

export async function applyLifecycle(
  deps: Deps,
  kept: KeepDecision,
  object: BlobInfo | undefined,
): Promise<void> {
  if (kept.missingObject) return;
  const change: { expiresAt?: string; storageClass?: string; retainUntil?: string; hold?: boolean } = {};
  if (kept.setExpiresAt !== undefined) change.expiresAt = kept.setExpiresAt;
  if (kept.movedFrom !== undefined && kept.storageClass !== undefined)
    change.storageClass = kept.storageClass;
  // The store retains it as long as the plan keeps it (only ever later; stores ignore earlier).
  if (kept.keepUntil && laterThan(kept.keepUntil, object?.retainUntil)) change.retainUntil = kept.keepUntil;
  // A legal hold is the object's too, so the store refuses its deletion whoever asks.
  const held = kept.snapshot.hold === true;
  if (held !== (object?.held === true)) change.hold = held;
  if (Object.keys(change).length === 0) return;
  await deps.store.setLifecycle(kept.snapshot.objectKey, change);
}

function laterThan(iso: string, than: string | undefined): boolean {
  return than === undefined || Date.parse(iso) > Date.parse(than);
}

/** Why the store would refuse to delete `object` now, or undefined when it would not. */
export function retainedReason(object: BlobInfo | undefined, now: Date): string | undefined {
  if (object?.held) return `its object ${object.key} is on legal hold in the store`;
  if (object?.retainUntil && Date.parse(object.retainUntil) > now.getTime())
    return `its object ${object.key} is retained until ${object.retainUntil}`;
  return undefined;
}

/**
 * The index record goes first, the object second: an interrupted prune can leave an object without a
 * record (an orphan, collected later), never a record naming a deleted object. Resolves with why the
 * removal was given up, if it was.
 */
export async function removeSnapshot(
  deps: Deps,
  repo: string,
  removal: RemoveDecision,
  audit: Audit,
  now: Date,
): Promise<string | undefined> {
  const { snapshot, reasons, bytes } = removal;
  let object = await deps.store.stat(snapshot.objectKey);
  // The store's hold mirrors the snapshot's legal hold (prune and `hold` set it). The plan removes
  // only snapshots not on hold, so one still held in the store was released since: the mirror goes
  // too, or every later prune would skip it for ever.
  const lifted = object?.held === true && snapshot.hold !== true;
  if (lifted) object = await deps.store.setLifecycle(snapshot.objectKey, { hold: false });
  // Still retained by the store: record and object both stay (the record first would orphan it).
  const retained = retainedReason(object, now);
  if (retained !== undefined) {
    await audit({
      action: "prune.retained",
      snapshotId: snapshot.id,
      outcome: "success",
      details: { objectKey: snapshot.objectKey, reason: retained },
    });
    return retained;
  }
  const keyOwner = snapshot.lineage ?? snapshot.repo;
  const dataKey = await deps.keyRecords?.dataKey(keyOwner, snapshot.id);
  try {
    await deps.index.remove(repo, snapshot.id);
  } catch (err) {
    // Put on hold after the plan was made: the hold wins, and the object stays (held in the store too).
    if (err instanceof ConflictError) {
      if (lifted) await deps.store.setLifecycle(snapshot.objectKey, { hold: true });
      return describeError(err);
    }
    throw err;
  }
  // The snapshot's data key record goes with its record (format 2 archives; see core/keys/).
  await deps.keyRecords?.removeDataKey(keyOwner, snapshot.id);
  const details = {
    objectKey: snapshot.objectKey,
    bytes,
    takenAt: snapshot.takenAt,
    reasons: reasons.map((reason) => describeRemoval(reason)),
  };
  try {
    await deps.store.delete(snapshot.objectKey);
  } catch (err) {
    if (err instanceof RetainedError) {
      // The store refused though its metadata said the time had come (a bucket's own retention
      // policy, a hold set since): the removal is undone, record and data key back, the archive
      // readable as before, and it is reported like any retained snapshot.
      if (dataKey) await deps.keyRecords!.putDataKey(dataKey);
      await deps.index.commit(snapshot);
      const reason = describeError(err);
      await audit({
        action: "prune.retained",
        snapshotId: snapshot.id,
        outcome: "success",
        details: { objectKey: snapshot.objectKey, reason },
      });
      return reason;
    }
    const error = describeError(err);
    await audit({
      action: "prune.deleted",
      snapshotId: snapshot.id,
      outcome: "failure",
      details: { ...details, error },
    });
    throw err;
  }
  await audit({ action: "prune.deleted", snapshotId: snapshot.id, outcome: "success", details });
  return undefined;
}

/** Deletes the plan's orphans, after checking once more that no record committed since names them. */
export async function collectOrphans(
  deps: Deps,
  repo: string,
  plan: RepoPrunePlan,
  audit: Audit,
  objects: Map<string, BlobInfo>,
  now: Date,
): Promise<RepoPrunePlan["orphans"]> {
  if (plan.orphans.length === 0) return [];
  const named = new Set((await deps.index.list(repo)).map((snapshot) => snapshot.objectKey));
  // An orphan still under retention waits for a later run.
  const collected = plan.orphans.filter(
    (orphan) => !named.has(orphan.key) && !retainedReason(objects.get(orphan.key), now),
  );
  const deleted: RepoPrunePlan["orphans"] = [];
  for (const orphan of collected) {
    try {
      await deps.store.delete(orphan.key);
    } catch (err) {
      if (err instanceof RetainedError) continue; // retained since it was listed: a later run
      throw err;
    }
    deleted.push(orphan);
    await audit({
      action: "prune.orphan",
      outcome: "success",
      details: { objectKey: orphan.key, bytes: orphan.size, createdAt: orphan.createdAt },
    });
  }
  return deleted;
}
