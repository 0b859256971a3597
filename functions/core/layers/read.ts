// Reads a layered snapshot back (docs/ARCHITECTURE.md, "Restore from layers with plain git"): the
// live layers it resolves to are decrypted into one bare repository (one git index-pack of their
// packs joined, their LFS objects into the repository's lfs store), while the snapshot's own
// archive gives the wiki and is checked against the record. The caller sets the refs
// (finishLayeredRefs below, or unpack.ts finishRepository). Three git processes in all where `git
// clone` of a bundle starts one: the repository is written as files, index-pack, and one
// for-each-ref that checks the refs.
import type { Readable } from "node:stream";
import { BUNDLE_PATH, WIKI_PATH } from "../archive/paths.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, GitError, UserInputError } from "../errors.js";
import { git } from "../git/exec.js";
import { createBare, diffRefs, writePackedRefs } from "../git/local-repo.js";
import { shortRefName } from "../git/ref-names.js";
import { lfsOidOf } from "../lfs/paths.js";
import { storeLfsObject } from "../lfs/restore.js";
import type { Layer, RefMap, Snapshot } from "../model.js";
import { readSnapshotArchive, type ArchiveObserver } from "../read-snapshot.js";
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
 * (wiki to `onWiki`, its other files and manifest to `observer`: the layers hold git objects and
 * LFS objects only). Each archive is checked on the way against its record. `linked`: index-pack
 * proved every link resolves within the layers (they hold no object twice); otherwise proving
 * connectivity is the caller's. Resolves with the archive bytes read.
 */
export async function unpackLayered(
  deps: LayeredReadDeps,
  snapshot: Snapshot,
  dir: string,
  onBytes?: (n: number) => void,
  onWiki?: (body: Readable) => Promise<void>,
  observer?: ArchiveObserver,
): Promise<{ bytes: number; linked: boolean }> {
  const [layers] = await Promise.all([layersOfSnapshot(deps, snapshot), createBare(dir, snapshot.head)]);
  // Both run to their end before either's error is thrown, so nothing writes into `dir` after.
  const [joined, own] = await Promise.allSettled([
    indexLayers(deps, layers, dir, onBytes, async (layer, path, body) => {
      const oid = lfsOidOf(path);
      if (oid) return storeLfsObject(dir, oid, body, `layer ${layer.id}`);
      body.resume();
    }),
    readOwnArchive(deps, snapshot, onBytes, onWiki, observer),
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
  observer?: ArchiveObserver,
): Promise<number> {
  const { manifest, bytes } = await readSnapshotArchive(
    deps,
    snapshot,
    async (path, body) => {
      if (path === WIKI_PATH && onWiki) return onWiki(body);
      if (path === BUNDLE_PATH)
        throw new ArchiveCorruptError(`layered snapshot ${snapshot.id} holds a ${BUNDLE_PATH}`);
      if (observer) return observer.file(snapshot, path, body);
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
  observer?.archive(snapshot, manifest);
  return bytes;
}

/**
 * Gives the repository unpackLayered wrote exactly the snapshot's refs (HEAD it already has) and
 * checks them in one git process: the refs are written as a packed-refs file, then one `git
 * for-each-ref` reads each back with its object's type, which stops at a ref whose object the
 * layers do not hold. ArchiveCorruptError names that ref, or the refs that differ.
 */
export async function finishLayeredRefs(dir: string, snapshot: Snapshot): Promise<void> {
  if (Object.keys(snapshot.refs).length === 0) return;
  await writePackedRefs(dir, snapshot.refs);
  let listed: string;
  try {
    listed = await git(["for-each-ref", "--format=%(objectname) %(objecttype) %(refname)"], {
      env: { GIT_DIR: dir },
    });
  } catch (err) {
    const missing = err instanceof GitError && /missing object ([0-9a-f]+) for (\S+)/.exec(err.message);
    if (!missing) throw err;
    throw new ArchiveCorruptError(
      `ref ${shortRefName(missing[2]!)} points to ${missing[1]}, which is not in the restored objects`,
      { cause: err },
    );
  }
  const restored: RefMap = {};
  for (const line of listed.split("\n").filter(Boolean)) {
    const [oid, , name] = line.split(" ");
    restored[name!] = oid!;
  }
  const diff = diffRefs(snapshot.refs, restored);
  if (diff) throw new ArchiveCorruptError(`restored refs differ from the snapshot's: ${diff}`);
}
