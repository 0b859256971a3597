// Per-repository keys: each repository (lineage) has its own key-encryption key, wrapped by the
// KeyWrapper and kept in the index; each archive's data key is wrapped by it and kept in the index
// too (a key record), never in the archive. Forgetting the repository key makes every archive of
// the repository unreadable at once; rotating it rewrites key records, never archives.
import { randomBytes } from "node:crypto";
import type { Deps } from "../deps.js";
import { KeyError, ShreddedError } from "../errors.js";
import { LineageIndex } from "../lineage/lineage-index.js";
import type { Snapshot } from "../model.js";
import type { KeyRecords, RepositoryKey, RepositoryKeySet } from "../ports.js";
import { unwrapDataKey, wrapDataKey } from "./data-key-wrap.js";

export type KeyDeps = Pick<Deps, "keys" | "index" | "clock"> & { keyRecords: KeyRecords };

/** The key the index files `repo` under: its lineage key when the index resolves names. */
export async function lineageKeyOf(index: Deps["index"], repo: string): Promise<string> {
  return index instanceof LineageIndex ? (await index.resolve(repo)).key : repo;
}

/** The error every read of a forgotten repository's archive gets. */
export function shreddedError(set: RepositoryKeySet, what: string): ShreddedError {
  const s = set.shredded!;
  return new ShreddedError(
    `${what} is shredded: ${set.repo} was forgotten at ${s.at} by ${s.by} (${s.reason}); ` +
      `its keys are destroyed and its archives can never be decrypted`,
  );
}

/** A new repository key, wrapped; the clear key is handed back for immediate use only. */
export async function newRepositoryKey(
  deps: Pick<KeyDeps, "keys" | "clock">,
): Promise<{ record: RepositoryKey; clear: Buffer }> {
  const clear = randomBytes(32);
  const wrapped = await deps.keys.wrap(clear);
  return {
    clear,
    record: {
      id: randomBytes(8).toString("hex"),
      keyRef: wrapped.keyRef,
      wrapped: wrapped.wrapped.toString("base64"),
      createdAt: deps.clock.now().toISOString(),
    },
  };
}

/** The clear bytes of a stored repository key (the caller zeroes them when done). */
export function openRepositoryKey(deps: Pick<KeyDeps, "keys">, key: RepositoryKey): Promise<Buffer> {
  return deps.keys.unwrap({ keyRef: key.keyRef, wrapped: Buffer.from(key.wrapped, "base64") });
}

/**
 * Wraps a new archive's data key with its repository's current key (made on first use) and stores
 * the key record, before the archive is written: a committed snapshot always has its record.
 * Resolves with the lineage key the record is filed under. A forgotten repository is refused.
 */
export async function sealArchiveKey(
  deps: KeyDeps,
  repo: string,
  snapshotId: string,
  dataKey: Buffer,
): Promise<{ lineage: string; createdKey?: string }> {
  const lineage = await lineageKeyOf(deps.index, repo);
  const sealed = await sealDataKey(deps, lineage, snapshotId, dataKey, `a new snapshot of ${repo}`);
  return { lineage, ...sealed };
}

/**
 * sealArchiveKey for a lineage key already resolved, and any archive id of it (a snapshot's or a
 * layer's: both are filed as data key records under the lineage). `what` names the refused write.
 */
export async function sealDataKey(
  deps: Pick<KeyDeps, "keys" | "clock" | "keyRecords">,
  lineage: string,
  archiveId: string,
  dataKey: Buffer,
  what: string,
): Promise<{ createdKey?: string }> {
  let set = await deps.keyRecords.keySet(lineage);
  if (set?.shredded) throw shreddedError(set, what);
  let fresh: { record: RepositoryKey; clear: Buffer } | undefined;
  if (!set?.keys.length) {
    fresh = await newRepositoryKey(deps);
    const made = fresh.record;
    // Two first snapshots at once (a lost lease) each make a key; the first stored one wins.
    set = await deps.keyRecords.updateKeySet(lineage, (current) =>
      current?.keys.length || current?.shredded ? undefined : { repo: lineage, keys: [made] },
    );
    if (set?.shredded) throw shreddedError(set, what);
  }
  const primary = set?.keys.at(-1);
  if (!primary) throw new KeyError(`no repository key for ${lineage} could be stored`);
  const clear = fresh?.record.id === primary.id ? fresh.clear : await openRepositoryKey(deps, primary);
  try {
    const wrapped = wrapDataKey(clear, primary.id, archiveId, dataKey);
    await deps.keyRecords.putDataKey({
      repo: lineage,
      snapshotId: archiveId,
      keyId: primary.id,
      wrapped: wrapped.toString("base64"),
    });
  } finally {
    clear.fill(0);
    fresh?.clear.fill(0);
  }
  return fresh?.record.id === primary.id ? { createdKey: primary.id } : {};
}

/** The data key of a format 2 archive: its key record unwrapped with its repository's key. */
export async function openArchiveKey(
  deps: Pick<Deps, "keys" | "keyRecords">,
  snapshot: Pick<Snapshot, "id" | "repo" | "lineage">,
): Promise<Buffer> {
  const records = deps.keyRecords;
  const what = `snapshot ${snapshot.id} of ${snapshot.repo}`;
  if (!records) {
    throw new KeyError(`${what} keeps its data key in the index's key records, which were not given`, {
      permanent: true,
    });
  }
  const lineage = snapshot.lineage ?? snapshot.repo;
  const [set, record] = await Promise.all([records.keySet(lineage), records.dataKey(lineage, snapshot.id)]);
  if (set?.shredded) throw shreddedError(set, what);
  if (!record) throw new KeyError(`${what} has no data key record in the index`, { permanent: true });
  const key = set?.keys.find((k) => k.id === record.keyId);
  if (!key) {
    throw new KeyError(`${what}: its repository key ${record.keyId} is not in the index`, {
      permanent: true,
    });
  }
  const clear = await openRepositoryKey(deps, key);
  try {
    return unwrapDataKey(clear, key.id, snapshot.id, Buffer.from(record.wrapped, "base64"));
  } finally {
    clear.fill(0);
  }
}

/** Whether the snapshot's repository was forgotten (list and status show it as shredded). */
export async function shreddedRepos(records: KeyRecords | undefined): Promise<Map<string, RepositoryKeySet>> {
  const sets = records ? await records.keySets() : [];
  return new Map(sets.filter((s) => s.shredded).map((s) => [s.repo, s]));
}
