// Old (pre-layer) archives as input to the fold (docs/ARCHITECTURE.md, "Old archives folded in"):
// a chain's archives are read, oldest first, into one scratch repository, each bundle's pack
// through `git index-pack --fix-thin` (an incremental's pack may be thin against the archives before
// it, which are already indexed there); and a folded snapshot gets its own archive of the layered
// kind, holding everything its old archive held except the git objects and the LFS objects (those
// go into layers), with its GitHub metadata whole (fold-metadata.ts), not as a delta over a chain. The own archive reuses the old archive's data key and header, so no key record
// changes and the key that opened the old archive opens the new one.
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ArchiveHeader } from "../archive/header.js";
import type { Manifest } from "../archive/manifest.js";
import { BUNDLE_PATH } from "../archive/paths.js";
import { writeArchive } from "../archive/writer.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError } from "../errors.js";
import { writtenAndStored } from "../first-error.js";
import { BundleCheck } from "../git/bundle.js";
import { diffRefs, indexPack } from "../git/local-repo.js";
import { lfsOidOf } from "../lfs/paths.js";
import { storeLfsObject } from "../lfs/restore.js";
import { isMetadataPath } from "../metadata/paths.js";
import type { Snapshot } from "../model.js";
import { writeNewFile } from "../new-file.js";
import { foldedArchiveKey } from "../object-keys.js";
import type { FoldedSnapshot } from "../ports.js";
import { archiveDataKey, readSnapshotArchive } from "../read-snapshot.js";
import type { WholeMetadata } from "./fold-metadata.js";

export type LegacyReadDeps = Pick<Deps, "store" | "keys" | "keyRecords">;

/** One old archive, read: what its folded archive is made of. */
export interface LegacyMember {
  snapshot: Snapshot;
  header: ArchiveHeader;
  manifest: Manifest;
  /** Its files other than the bundle and the LFS objects, saved in scratch space, in archive order. */
  files: { path: string; file: string }[];
}

/**
 * Decrypts `chain` (parents before children) into the bare repository `repo`: each bundle's pack
 * indexed with --fix-thin, its refs checked against the record, each LFS object (checked against
 * its oid) into the repository's LFS store once; every other file saved under `dir`. Each archive
 * is checked against its record as it is read. Resolves with the members and the LFS oids.
 */
export async function readLegacyChain(
  deps: LegacyReadDeps,
  chain: readonly Snapshot[],
  repo: string,
  dir: string,
): Promise<{ members: LegacyMember[]; lfs: string[] }> {
  const members: LegacyMember[] = [];
  const lfs = new Set<string>();
  for (const snapshot of chain) {
    const where = `the archive of ${snapshot.id} of ${snapshot.repo}`;
    const saved = join(dir, snapshot.id);
    await mkdir(saved, { recursive: true });
    const files: LegacyMember["files"] = [];
    let sawBundle = false;
    const read = await readSnapshotArchive(deps, snapshot, async (path, body) => {
      if (path === BUNDLE_PATH) {
        sawBundle = true;
        const check = new BundleCheck(BUNDLE_PATH, false, false); // index-pack checks the trailer
        body.on("error", (err) => check.destroy(err));
        await indexPack(repo, body.pipe(check), { thin: true });
        const differ = diffRefs(snapshot.refs, check.info.refs);
        if (differ)
          throw new ArchiveCorruptError(`${where}: bundle refs differ from the record's: ${differ}`);
        return;
      }
      const oid = lfsOidOf(path);
      if (oid) {
        if (lfs.has(oid)) return void body.resume();
        await storeLfsObject(repo, oid, body, where);
        lfs.add(oid);
        return;
      }
      // Named before the first await: the reader may open the next file while this one is written.
      const file = join(saved, String(files.length));
      files.push({ path, file });
      await writeNewFile(file, body);
    });
    if (!sawBundle && Object.keys(snapshot.refs).length > 0 && snapshot.kind === "full")
      throw new ArchiveCorruptError(`${where} has no ${BUNDLE_PATH}`);
    members.push({ snapshot, header: read.header, manifest: read.manifest, files });
  }
  return { members, lfs: [...lfs].sort() };
}

/**
 * Writes `member`'s own archive of the layered kind, naming `layers`, under a key of its own
 * (`foldId` makes it new: keys are written once), then reads it back whole against what was put.
 * Its metadata are `metadata`, whole (fold-metadata.ts), in place of the old archive's meta/ files.
 * Resolves with the change T-fold makes to the snapshot's record.
 */
export async function writeFoldedArchive(
  deps: LegacyReadDeps,
  member: LegacyMember,
  metadata: WholeMetadata,
  layers: string[],
  foldId: string,
): Promise<FoldedSnapshot> {
  const { snapshot, header } = member;
  const { entries: _entries, parentId: _parent, lfs: _lfs, metadata: _metadata, ...kept } = member.manifest;
  const files = [...member.files.filter(({ path }) => !isMetadataPath(path)), ...metadata.files];
  const dataKey = await archiveDataKey(deps, snapshot, header);
  const objectKey = foldedArchiveKey(snapshot.objectKey, foldId);
  try {
    const archive = writeArchive({
      header,
      dataKey,
      manifest: {
        ...kept,
        kind: "layered",
        layers,
        prerequisites: [],
        ...(metadata.metadata ? { metadata: metadata.metadata } : {}),
      },
      files: files.map(({ path, file }) => ({ path, open: () => createReadStream(file) })),
    });
    const [manifest, stored] = await writtenAndStored(
      archive.manifest,
      deps.store.put(objectKey, archive.stream, {
        metadata: { repo: snapshot.repo, snapshotId: snapshot.id, keyRef: header.keyRef },
      }),
    );
    const change: FoldedSnapshot = {
      id: snapshot.id,
      legacyKey: snapshot.objectKey,
      objectKey,
      size: stored.size,
      sha256: await archive.sha256,
      bundleBytes: manifest.entries.filter((e) => e.path.startsWith("git/")).reduce((n, e) => n + e.size, 0),
      layers,
      ...(metadata.record ? { metadata: metadata.record } : {}),
    };
    // Put, then checked whole (invariant 3), before any record names it.
    await readSnapshotArchive(deps, { ...snapshot, ...change, kind: "layered" }, async (_path, body) => {
      body.resume();
    });
    return change;
  } finally {
    dataKey.fill(0);
  }
}
