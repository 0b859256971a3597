// Legal holds reach the layers (docs/ARCHITECTURE.md, "Retention and legal hold"): a held
// snapshot's git objects are in the layers it resolves to, so the store holds those layers' archives
// (pack and oids) as it holds the snapshot's own archive, and no credential deletes them while the
// hold lasts. A layer's store hold is lifted once no held snapshot resolves to it (the snapshot was
// released, or a merge replaced the layer by one that is held in turn); layer garbage then deletes
// it after the grace period like any other. The index side needs nothing new: a held snapshot is
// never removed, so layer garbage counts it as kept and never drops what it resolves to.
import type { Deps } from "../deps.js";
import { lineageKeyOf } from "../keys/repository-keys.js";
import type { Layer, Snapshot } from "../model.js";
import type { BlobInfo } from "../ports.js";
import { layerResolver } from "./resolve.js";

export interface LayerHoldChanges {
  /** Layers whose archives were put on hold (a dry run: would be). */
  held: string[];
  /** Layers whose archives' hold was lifted. */
  released: string[];
}

/**
 * The layer ids whose archives must be on hold: every layer a held snapshot resolves to. A held
 * snapshot that does not resolve holds every layer its records could still reach (all not yet
 * deleted), since which of them it needs cannot be told.
 */
export function layersToHold(snapshots: readonly Snapshot[], layers: readonly Layer[]): Set<string> {
  const resolver = layerResolver(layers);
  const held = new Set<string>();
  for (const snapshot of snapshots) {
    if (snapshot.hold !== true || snapshot.layers === undefined) continue;
    try {
      for (const layer of resolver.resolve(snapshot)) held.add(layer.id);
    } catch {
      for (const layer of layers) if (!layer.objectDeleted) held.add(layer.id);
    }
  }
  return held;
}

/**
 * Sets the store's hold on each stored layer archive whose layer `layersToHold` names, and lifts it
 * from the others. `snapshots` carry the holds as prune sees them (a repository under holdRepos:
 * every one); `objects` are the lineage's stored layer archives.
 */
export async function applyLayerHolds(
  deps: Pick<Deps, "store">,
  snapshots: readonly Snapshot[],
  layers: readonly Layer[],
  objects: readonly BlobInfo[],
  dryRun: boolean,
): Promise<LayerHoldChanges> {
  const wanted = layersToHold(snapshots, layers);
  const byKey = new Map(objects.map((object) => [object.key, object]));
  const changes: LayerHoldChanges = { held: [], released: [] };
  for (const layer of layers) {
    if (layer.objectDeleted) continue;
    const hold = wanted.has(layer.id);
    let changed = false;
    for (const key of [layer.objectKey, layer.oidsKey]) {
      const object = byKey.get(key);
      if (!object || (object.held === true) === hold) continue;
      if (!dryRun) await deps.store.setLifecycle(key, { hold });
      changed = true;
    }
    if (changed) (hold ? changes.held : changes.released).push(layer.id);
  }
  return changes;
}

/**
 * The `hold` command's part for a layered snapshot: puts the archives of every layer it resolves to
 * on hold in the store at once, as its own archive is. A release lifts nothing here: another held
 * snapshot may share a layer, so the next prune lifts the holds no held snapshot needs.
 */
export async function holdLayersOf(
  deps: Pick<Deps, "index" | "store" | "layers">,
  repo: string,
  snapshot: Snapshot,
): Promise<string[]> {
  if (!deps.layers || snapshot.layers === undefined) return [];
  const layers = await deps.layers.layers(await lineageKeyOf(deps.index, repo));
  const ids = layersToHold([{ ...snapshot, hold: true }], layers);
  for (const layer of layers) {
    if (!ids.has(layer.id) || layer.objectDeleted) continue;
    for (const key of [layer.objectKey, layer.oidsKey]) await deps.store.setLifecycle(key, { hold: true });
  }
  return [...ids];
}
