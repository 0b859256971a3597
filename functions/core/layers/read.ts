// Reads a layered snapshot back (docs/ARCHITECTURE.md, "Restore from layers with plain git"): the
// live layers it resolves to are decrypted into one bare repository (one git index-pack of their
// packs joined, their LFS objects into the repository's lfs store), while the snapshot's own
// archive gives the wiki and is checked against the record. The caller sets the refs
// (unpack.ts finishRepository).
import type { Readable } from "node:stream";
import { BUNDLE_PATH, WIKI_PATH } from "../archive/paths.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, UserInputError } from "../errors.js";
import { initBare } from "../git/local-repo.js";
import { lfsOidOf } from "../lfs/paths.js";
import { storeLfsObject } from "../lfs/restore.js";
import type { Layer, Snapshot } from "../model.js";
import { readSnapshotArchive } from "../read-snapshot.js";
import { indexLayers } from "./read-pack.js";
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
 * Decrypts every layer of `snapshot` into a new bare repository at `dir` (refs not yet set), as one
 * joined pack for one `git index-pack` (read-pack.ts), while its own archive is read beside it
 * (wiki to `onWiki`). Each archive is checked on the way against its record. `linked`: index-pack
 * proved every link resolves within the layers (they hold no object twice); otherwise proving
 * connectivity is the caller's. Resolves with the archive bytes read.
 */
export async function unpackLayered(
  deps: LayeredReadDeps,
  snapshot: Snapshot,
  dir: string,
  onBytes?: (n: number) => void,
  onWiki?: (body: Readable) => Promise<void>,
): Promise<{ bytes: number; linked: boolean }> {
  const [layers] = await Promise.all([layersOfSnapshot(deps, snapshot), initBare(dir)]);
  // Both run to their end before either's error is thrown, so nothing writes into `dir` after.
  const [joined, own] = await Promise.allSettled([
    indexLayers(deps, layers, dir, onBytes, async (layer, path, body) => {
      const oid = lfsOidOf(path);
      if (oid) return storeLfsObject(dir, oid, body, `layer ${layer.id}`);
      body.resume();
    }),
    readOwnArchive(deps, snapshot, onBytes, onWiki),
  ]);
  if (joined.status === "rejected") throw joined.reason;
  if (own.status === "rejected") throw own.reason;
  return { bytes: joined.value.bytes + own.value, linked: joined.value.linked };
}

/** The snapshot's own archive (refs, wiki, no git objects), checked to list the record's layers. */
async function readOwnArchive(
  deps: LayeredReadDeps,
  snapshot: Snapshot,
  onBytes?: (n: number) => void,
  onWiki?: (body: Readable) => Promise<void>,
): Promise<number> {
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
  return bytes;
}
