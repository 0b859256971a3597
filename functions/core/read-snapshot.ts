// Reads a committed snapshot's archive back from the store, checking on the way that it is the
// archive the index describes: same snapshot, same repo, same bytes (SHA-256 and size).
import type { Readable } from "node:stream";
import { HashStream } from "./archive/hash-stream.js";
import type { ArchiveHeader } from "./archive/header.js";
import type { Manifest } from "./archive/manifest.js";
import { readArchive } from "./archive/reader.js";
import type { Deps } from "./deps.js";
import { ArchiveCorruptError } from "./errors.js";
import { openArchiveKey, shreddedError } from "./keys/repository-keys.js";
import type { Snapshot } from "./model.js";

/**
 * Sees the archives a read of a snapshot passes (a restore's), so a check of what they hold needs
 * no second read: `file` gets each file the reader does not consume itself (not the bundle, nor
 * the LFS objects and wiki it unpacks) and must read its body to the end or leave it (the reader
 * drains the rest); `archive` follows once that archive was read whole and matched `manifest`.
 */
export interface ArchiveObserver {
  file(snapshot: Snapshot, path: string, body: Readable): Promise<void>;
  archive(snapshot: Snapshot, manifest: Manifest): void;
}

export async function readSnapshotArchive(
  deps: Pick<Deps, "store" | "keys" | "keyRecords">,
  snapshot: Snapshot,
  onFile: (path: string, body: Readable) => Promise<void>,
  onBytes?: (n: number) => void,
): Promise<{ manifest: Manifest; bytes: number; header: ArchiveHeader }> {
  const source = await deps.store.get(snapshot.objectKey);
  const hashed = new HashStream(onBytes);
  source.on("error", (err) => hashed.destroy(err));
  const { header, manifest } = await readArchive(source.pipe(hashed), {
    async dataKey(header) {
      if (header.snapshotId !== snapshot.id || header.repo !== snapshot.repo) {
        throw new ArchiveCorruptError(
          `archive header belongs to ${header.repo} snapshot ${header.snapshotId}, not ${snapshot.repo} snapshot ${snapshot.id}`,
        );
      }
      return archiveDataKey(deps, snapshot, header);
    },
    onFile,
  });
  const sha256 = hashed.digest();
  if (hashed.bytes !== snapshot.size || sha256 !== snapshot.sha256) {
    throw new ArchiveCorruptError(
      `archive bytes differ from the index record (size ${hashed.bytes} vs ${snapshot.size}, sha256 ${sha256.slice(0, 12)} vs ${snapshot.sha256.slice(0, 12)})`,
    );
  }
  if (header.keyRef !== snapshot.keyRef) {
    throw new ArchiveCorruptError(
      `archive was wrapped by ${header.keyRef}, the index says ${snapshot.keyRef}`,
    );
  }
  if (manifest.takenAt !== snapshot.takenAt) {
    throw new ArchiveCorruptError(
      `manifest takenAt ${manifest.takenAt} differs from the index (${snapshot.takenAt})`,
    );
  }
  return { manifest, bytes: hashed.bytes, header };
}

/**
 * The data key of a snapshot's archive: from its key record (format 2), or from its header
 * (format 1). A forgotten repository's format 1 archives cannot be shredded (their data key is
 * wrapped by the KMS key or key file itself); our code refuses them all the same.
 */
export async function archiveDataKey(
  deps: Pick<Deps, "keys" | "keyRecords">,
  snapshot: Pick<Snapshot, "id" | "repo" | "lineage">,
  header: ArchiveHeader,
): Promise<Buffer> {
  if (!("wrappedKey" in header)) return openArchiveKey(deps, snapshot);
  const set = await deps.keyRecords?.keySet(snapshot.lineage ?? snapshot.repo);
  if (set?.shredded) throw shreddedError(set, `snapshot ${snapshot.id} of ${snapshot.repo}`);
  return deps.keys.unwrap({ keyRef: header.keyRef, wrapped: Buffer.from(header.wrappedKey, "base64") });
}
