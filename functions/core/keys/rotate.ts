// Key rotation without rewriting archives. Rewrap: every repository key is unwrapped and wrapped
// again under the KeyWrapper's current key (a new KMS primary version, a new key file key), so the
// old wrapping key is no longer needed by format 2 archives. Repository key rotation: a new key for
// the repository, every data key record rewrapped under it, the old key dropped; only the small
// records in the index change, never an archive.
import type { Deps } from "../deps.js";
import { KeyError } from "../errors.js";
import { holdLease, leaseHolder } from "../lease.js";
import type { RepositoryKey } from "../ports.js";
import { unwrapDataKey, wrapDataKey } from "./data-key-wrap.js";
import {
  lineageKeyOf,
  newRepositoryKey,
  openRepositoryKey,
  shreddedError,
  type KeyDeps,
} from "./repository-keys.js";

type RotateDeps = KeyDeps & Pick<Deps, "audit">;

export interface RewrapResult {
  /** Repository keys wrapped again, and the keyRefs they moved from and to. */
  rewrapped: number;
  from: string[];
  to: string[];
  /** Forgotten repositories (no key to rewrap). */
  shredded: number;
}

/** Wraps every repository key (of `only`, or of all) again under the wrapper's current key. */
export async function rewrapRepositoryKeys(
  deps: RotateDeps,
  options: { actor: string; only?: string[] },
): Promise<RewrapResult> {
  const only =
    options.only && new Set(await Promise.all(options.only.map((r) => lineageKeyOf(deps.index, r))));
  const sets = (await deps.keyRecords.keySets()).filter((s) => !only || only.has(s.repo));
  const result: RewrapResult = { rewrapped: 0, from: [], to: [], shredded: 0 };
  for (const set of sets) {
    if (set.shredded) {
      result.shredded++;
      continue;
    }
    const moved = new Map<string, RepositoryKey>();
    for (const key of set.keys) {
      const clear = await openRepositoryKey(deps, key);
      try {
        const wrapped = await deps.keys.wrap(clear);
        moved.set(key.id, { ...key, keyRef: wrapped.keyRef, wrapped: wrapped.wrapped.toString("base64") });
      } finally {
        clear.fill(0);
      }
    }
    // Only a key still stored as it was read is replaced: a concurrent rotation's work is kept.
    await deps.keyRecords.updateKeySet(set.repo, (current) =>
      current && !current.shredded
        ? {
            ...current,
            keys: current.keys.map((k) => {
              const before = set.keys.find((b) => b.id === k.id);
              return before && before.wrapped === k.wrapped ? (moved.get(k.id) ?? k) : k;
            }),
          }
        : undefined,
    );
    const from = [...new Set(set.keys.map((k) => k.keyRef))];
    const to = [...new Set([...moved.values()].map((k) => k.keyRef))];
    result.rewrapped += moved.size;
    result.from.push(...from.filter((r) => !result.from.includes(r)));
    result.to.push(...to.filter((r) => !result.to.includes(r)));
    await deps.audit.record({
      action: "key.rewrapped",
      repo: set.repo,
      actor: options.actor,
      outcome: "success",
      details: { keys: moved.size, from, to },
    });
  }
  return result;
}

export interface RepositoryKeyRotation {
  repo: string;
  from: string[];
  to: string;
  /** Data key records rewrapped under the new key. */
  dataKeys: number;
}

/**
 * A new key for the repository; every data key record moves to it and the old keys are dropped.
 * Holds the repository's lease, so no snapshot wraps a data key under a key being dropped.
 */
export async function rotateRepositoryKey(
  deps: RotateDeps,
  repo: string,
  options: { actor: string },
): Promise<RepositoryKeyRotation> {
  const lineage = await lineageKeyOf(deps.index, repo);
  const lease = await holdLease(deps.index, repo, leaseHolder(`keys-rotate-${deps.clock.now().getTime()}`));
  try {
    const before = await deps.keyRecords.keySet(lineage);
    if (before?.shredded) throw shreddedError(before, repo);
    if (!before?.keys.length) throw new KeyError(`${repo} has no repository key yet (no format 2 snapshot)`);
    const fresh = await newRepositoryKey(deps);
    const added = await deps.keyRecords.updateKeySet(lineage, (current) =>
      current && !current.shredded ? { ...current, keys: [...current.keys, fresh.record] } : undefined,
    );
    if (added?.shredded) throw shreddedError(added, repo);
    const old = new Map<string, Buffer>();
    let moved = 0;
    try {
      for (const record of await deps.keyRecords.dataKeys(lineage)) {
        if (record.keyId === fresh.record.id) continue;
        let clear = old.get(record.keyId);
        if (!clear) {
          const key = added!.keys.find((k) => k.id === record.keyId);
          if (!key) {
            throw new KeyError(
              `snapshot ${record.snapshotId} of ${repo}: its repository key ${record.keyId} is missing`,
              {
                permanent: true,
              },
            );
          }
          clear = await openRepositoryKey(deps, key);
          old.set(record.keyId, clear);
        }
        const dataKey = unwrapDataKey(
          clear,
          record.keyId,
          record.snapshotId,
          Buffer.from(record.wrapped, "base64"),
        );
        try {
          const wrapped = wrapDataKey(fresh.clear, fresh.record.id, record.snapshotId, dataKey);
          await deps.keyRecords.putDataKey({
            ...record,
            keyId: fresh.record.id,
            wrapped: wrapped.toString("base64"),
          });
          moved++;
        } finally {
          dataKey.fill(0);
        }
      }
    } finally {
      for (const clear of old.values()) clear.fill(0);
      fresh.clear.fill(0);
    }
    // Every record now names the new key: the old ones go (nothing they wrap is left).
    await deps.keyRecords.updateKeySet(lineage, (current) =>
      current && !current.shredded
        ? { ...current, keys: current.keys.filter((k) => k.id === fresh.record.id) }
        : undefined,
    );
    const rotation = { repo, from: before.keys.map((k) => k.id), to: fresh.record.id, dataKeys: moved };
    await deps.audit.record({
      action: "key.rotated",
      repo,
      actor: options.actor,
      outcome: "success",
      details: { from: rotation.from, to: rotation.to, dataKeys: moved },
    });
    return rotation;
  } catch (err) {
    await deps.audit.record({
      action: "key.rotated",
      repo,
      actor: options.actor,
      outcome: "failure",
      details: { error: err instanceof Error ? err.message : String(err) },
    });
    throw err;
  } finally {
    await lease.release();
  }
}

export type KeyRotation =
  ({ kind: "repository" } & RepositoryKeyRotation) | ({ kind: "rewrap" } & RewrapResult);

/**
 * The rotation an admin asks for (the cloud's rotateKeys): with `repo`, a new repository key for
 * it; without, every repository key rewrapped under the wrapper's current key (after Cloud KMS
 * made a new primary version). Audited as `key.rotate`, success or failure. Safe to run again
 * after a crash: until a step completes, the keys it replaces stay, so every archive opens
 * throughout, and a second run finishes the work.
 */
export async function rotateKeys(
  deps: RotateDeps,
  request: { repo?: string; actor: string },
): Promise<KeyRotation> {
  const { repo, actor } = request;
  try {
    const rotation: KeyRotation = repo
      ? { kind: "repository", ...(await rotateRepositoryKey(deps, repo, { actor })) }
      : { kind: "rewrap", ...(await rewrapRepositoryKeys(deps, { actor })) };
    await deps.audit.record({
      action: "key.rotate",
      ...(repo ? { repo } : {}),
      actor,
      outcome: "success",
      details: { ...rotation },
    });
    return rotation;
  } catch (err) {
    await deps.audit.record({
      action: "key.rotate",
      ...(repo ? { repo } : {}),
      actor,
      outcome: "failure",
      details: {
        kind: repo ? "repository" : "rewrap",
        error: err instanceof Error ? err.message : String(err),
      },
    });
    throw err;
  }
}
