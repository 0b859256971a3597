// One snapshot's key record as a document a person can carry to tools/decrypt.py: its data key
// wrapped by the repository key, and that key wrapped by the KMS key or key file. Both still
// wrapped: it opens nothing without the KMS key or the key file (docs/FORMAT.md, section 5).
import type { Deps } from "../deps.js";
import { KeyError, NotFoundError } from "../errors.js";
import type { KeyRecords } from "../ports.js";
import { shreddedError } from "./repository-keys.js";

export interface ExportedKeyRecord {
  version: 1;
  /** The lineage key the records are filed under. */
  repo: string;
  snapshotId: string;
  dataKey: { keyId: string; wrapped: string };
  repositoryKey: { id: string; keyRef: string; wrapped: string };
}

export async function exportKeyRecord(
  deps: Pick<Deps, "index"> & { keyRecords: KeyRecords },
  repo: string,
  snapshotId: string,
): Promise<ExportedKeyRecord> {
  const snapshot = await deps.index.get(repo, snapshotId);
  if (!snapshot) throw new NotFoundError(`no snapshot ${snapshotId} of ${repo}`);
  const lineage = snapshot.lineage ?? snapshot.repo;
  const [set, record] = await Promise.all([
    deps.keyRecords.keySet(lineage),
    deps.keyRecords.dataKey(lineage, snapshotId),
  ]);
  if (set?.shredded) throw shreddedError(set, `snapshot ${snapshotId} of ${repo}`);
  if (!record) {
    throw new KeyError(
      `snapshot ${snapshotId} of ${repo} has no key record: its archive (format 1) holds its data key`,
      { permanent: true },
    );
  }
  const key = set?.keys.find((k) => k.id === record.keyId);
  if (!key)
    throw new KeyError(`repository key ${record.keyId} of ${repo} is not in the index`, { permanent: true });
  return {
    version: 1,
    repo: lineage,
    snapshotId,
    dataKey: { keyId: record.keyId, wrapped: record.wrapped },
    repositoryKey: { id: key.id, keyRef: key.keyRef, wrapped: key.wrapped },
  };
}
