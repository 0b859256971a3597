// Reads a layered snapshot back (docs/ARCHITECTURE.md, "Restore from layers with plain git"): each
// live layer it resolves to is decrypted into one bare repository (git index-pack of each pack,
// its LFS objects into the repository's lfs store), then the snapshot's own archive gives the wiki
// and is checked against the record. The caller sets the refs (unpack.ts finishRepository).
import type { Readable } from "node:stream";
import { BUNDLE_PATH, WIKI_PATH } from "../archive/paths.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, UserInputError } from "../errors.js";
import { indexPack, initBare } from "../git/local-repo.js";
import { lfsOidOf } from "../lfs/paths.js";
import { storeLfsObject } from "../lfs/restore.js";
import type { Layer, Snapshot } from "../model.js";
import { readSnapshotArchive } from "../read-snapshot.js";
import { readLayerPack } from "./archive-read.js";
import { resolveLayers } from "./resolve.js";

export type LayeredReadDeps = Pick<Deps, "store" | "keys" | "keyRecords" | "layers">;

/** The live layers `snapshot` resolves to, from one read of its lineage's layer records. */
export async function layersOfSnapshot(deps: Pick<Deps, "layers">, snapshot: Snapshot): Promise<Layer[]> {
  if (!deps.layers) {
    throw new UserInputError(
      `snapshot ${snapshot.id} of ${snapshot.repo} is layered, and this backend has no layer index to read it with`,
    );
  }
  return resolveLayers(snapshot, await deps.layers.layers(snapshot.lineage ?? snapshot.repo));
}

/**
 * Decrypts every layer of `snapshot` into a new bare repository at `dir` (refs not yet set), then
 * reads its own archive (wiki to `onWiki`). Each archive is checked on the way against its record.
 * Connectivity is the caller's (layers come in any order, so no pack's links are checked alone).
 * Resolves with the archive bytes read.
 */
export async function unpackLayered(
  deps: LayeredReadDeps,
  snapshot: Snapshot,
  dir: string,
  onBytes?: (n: number) => void,
  onWiki?: (body: Readable) => Promise<void>,
): Promise<number> {
  const layers = await layersOfSnapshot(deps, snapshot);
  await initBare(dir);
  let total = 0;
  for (const layer of layers) {
    const where = `layer ${layer.id}`;
    total += await readLayerPack(
      deps,
      layer,
      (pack) => indexPack(dir, pack),
      onBytes,
      async (path, body) => {
        const oid = lfsOidOf(path);
        if (oid) return storeLfsObject(dir, oid, body, where);
        body.resume();
      },
    );
  }
  const { manifest, bytes } = await readSnapshotArchive(
    deps,
    snapshot,
    async (path, body) => {
      if (path === WIKI_PATH && onWiki) return onWiki(body);
      if (path === BUNDLE_PATH)
        throw new ArchiveCorruptError(`layered snapshot ${snapshot.id} holds a ${BUNDLE_PATH}`);
      body.resume();
    },
    onBytes,
  );
  const listed = (manifest.layers ?? []).join();
  if (manifest.kind !== "layered" || listed !== (snapshot.layers ?? []).join()) {
    throw new ArchiveCorruptError(
      `the archive of ${snapshot.id} lists layers [${listed}], its record [${(snapshot.layers ?? []).join()}]`,
    );
  }
  return total + bytes;
}
