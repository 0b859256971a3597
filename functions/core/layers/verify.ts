// Verification of a layered snapshot (docs/ARCHITECTURE.md, "Verification per layer"). Level
// "layer": each of its layers with no good verdict yet (a new snapshot's own one) is read whole,
// index-packed alone, its objects compared with its stored oids, and every link of its commits,
// trees and tags, and every ref tip of the snapshot, found in the oids of the layers the snapshot
// resolves to. By induction (every layer verified connected against its snapshot's layers when it
// was new) the whole graph is closed, at the cost of the new layer plus 20 bytes per object.
// "deep": everything into one scratch repository and `git fsck --full`. "quick": every archive read.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BUNDLE_PATH, WIKI_PATH } from "../archive/paths.js";
import type { Deps, ProgressListener } from "../deps.js";
import { ArchiveCorruptError } from "../errors.js";
import { BundleCheck } from "../git/bundle.js";
import { diffRefs, indexPack, initBare } from "../git/local-repo.js";
import { packOidSet, type OidSet } from "../git/oid-set.js";
import type { Layer, Snapshot, Verification, VerifyLevel } from "../model.js";
import { readSnapshotArchive } from "../read-snapshot.js";
import { makeScratch } from "../scratch.js";
import { finishRepository, unpackWiki } from "../unpack.js";
import { readLayerOids, readLayerPack } from "./archive-read.js";
import { objectLinks } from "./links.js";
import { layersOfSnapshot, unpackLayered } from "./read.js";

export interface LayeredCheck {
  bytes: number;
  warnings: string[];
}

/** Checks a layered snapshot at `level`; rejects with ArchiveCorruptError naming what is wrong. */
export async function checkLayered(
  deps: Deps,
  snapshot: Snapshot,
  level: VerifyLevel,
  onProgress?: ProgressListener,
): Promise<LayeredCheck> {
  let bytes = 0;
  // Counted whether or not anyone listens: the outcome reports the bytes read.
  const onBytes = (n: number) => {
    bytes += n;
    onProgress?.({ repo: snapshot.repo, phase: "verifying", bytes });
  };
  const scratch = await makeScratch("verify");
  try {
    if (level === "deep") {
      const repoDir = join(scratch, "repo.git");
      const warnings: string[] = [];
      // fsck --full below checks everything again, links included, whatever index-pack proved.
      await unpackLayered(deps, snapshot, repoDir, onBytes, async (wiki) => {
        warnings.push(...(await unpackWiki(join(scratch, "wiki.git"), wiki, snapshot, "full")).warnings);
      });
      if (Object.keys(snapshot.refs).length)
        warnings.push(...(await finishRepository(repoDir, snapshot, "full")).warnings);
      return { bytes, warnings: [...new Set(warnings)].sort() };
    }
    const layers = await layersOfSnapshot(deps, snapshot);
    if (level === "quick") {
      for (const layer of layers) {
        await readLayerPack(deps, layer, (pack) => drain(pack), onBytes);
        await readLayerOids(deps, layer);
      }
      await checkOwnArchive(deps, snapshot, onBytes);
      return { bytes, warnings: [] };
    }
    const known = await Promise.all(layers.map((layer) => readLayerOids(deps, layer)));
    const has = (oid: string | Buffer) => known.some((oids) => oids.has(oid));
    for (const [i, layer] of layers.entries()) {
      if (layer.verification?.verdict === "ok") continue;
      await checkLayer(deps, snapshot, layer, known[i]!, has, join(scratch, `${layer.id}.git`), onBytes);
    }
    for (const [name, tip] of Object.entries(snapshot.refs)) {
      if (!has(tip))
        throw new ArchiveCorruptError(
          `${name} of snapshot ${snapshot.id} points to ${tip}, which is in none of its layers`,
        );
    }
    await checkOwnArchive(deps, snapshot, onBytes);
    return { bytes, warnings: [] };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Records a good "layer" verdict on every layer of the snapshot that had none (after its check passed). */
export async function recordLayerVerdicts(
  deps: Deps,
  snapshot: Snapshot,
  verification: Verification,
): Promise<void> {
  if (!deps.layers || verification.verdict !== "ok" || verification.level !== "layer") return;
  for (const layer of await layersOfSnapshot(deps, snapshot)) {
    if (layer.verification?.verdict === "ok") continue;
    await deps.layers.recordLayerVerification(layer.lineage, layer.id, verification);
  }
}

/** One layer alone: whole archive, its objects equal its oids, its links within the snapshot's layers. */
async function checkLayer(
  deps: Deps,
  snapshot: Snapshot,
  layer: Layer,
  oids: OidSet,
  has: (oid: string | Buffer) => boolean,
  dir: string,
  onBytes: (n: number) => void,
): Promise<void> {
  await initBare(dir);
  await readLayerPack(deps, layer, (pack) => indexPack(dir, pack), onBytes);
  const packDir = join(dir, "objects", "pack");
  const idx = (await readdir(packDir)).filter((name) => name.endsWith(".idx"));
  const indexed = await packOidSet(join(packDir, idx[0]!));
  if (!indexed.bytes.equals(oids.bytes)) {
    throw new ArchiveCorruptError(
      `layer ${layer.id}: its pack holds ${indexed.size} objects, its oids list ${oids.size}, and they differ`,
    );
  }
  for await (const links of objectLinks(dir)) {
    for (const link of links) {
      if (has(link.to)) continue;
      const to = typeof link.to === "string" ? link.to : link.to.toString("hex");
      throw new ArchiveCorruptError(
        `snapshot ${snapshot.id} needs object ${to} (named by ${link.fromType} ${link.from} in layer ${layer.id}), which is in none of its layers`,
      );
    }
  }
}

/** The snapshot's own archive: refs and layers as the record says, no bundle, the wiki checked. */
async function checkOwnArchive(deps: Deps, snapshot: Snapshot, onBytes: (n: number) => void): Promise<void> {
  let sawWiki = false;
  const { manifest } = await readSnapshotArchive(
    deps,
    snapshot,
    async (path, body) => {
      if (path === BUNDLE_PATH)
        throw new ArchiveCorruptError(`layered snapshot ${snapshot.id} holds a ${BUNDLE_PATH}`);
      if (path !== WIKI_PATH) return drain(body);
      sawWiki = true;
      const check = new BundleCheck(WIKI_PATH);
      await pipeline(body, check, drain);
      const diff = diffRefs(snapshot.wikiRefs ?? {}, check.info.refs);
      if (diff) throw new ArchiveCorruptError(`${WIKI_PATH} refs differ from the snapshot's: ${diff}`);
    },
    onBytes,
  );
  const diff = diffRefs(snapshot.refs, manifest.refs);
  if (diff) throw new ArchiveCorruptError(`manifest refs differ from the index: ${diff}`);
  if ((manifest.layers ?? []).join() !== (snapshot.layers ?? []).join())
    throw new ArchiveCorruptError(`the archive of ${snapshot.id} lists other layers than its record`);
  if (Object.keys(snapshot.wikiRefs ?? {}).length > 0 !== sawWiki)
    throw new ArchiveCorruptError(sawWiki ? `unexpected ${WIKI_PATH}` : `archive has no ${WIKI_PATH}`);
}

async function drain(body: Readable | AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body as AsyncIterable<Buffer>);
}
