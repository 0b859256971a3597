// Resolve (docs/ARCHITECTURE.md, "Shared pack layers"): the live layers a snapshot reads. A
// snapshot record keeps the layer ids it was committed with; a merge retires layers and names
// their replacement in `replacedBy`, so readers follow those links until they reach live layers.
// Readers always resolve first and never read a retired layer. Anything else (a layer the index
// does not hold, a dead one, a retired one with no replacement, a cycle) means the index no longer
// describes a readable snapshot: ArchiveCorruptError, naming the snapshot and the layer.
import { ArchiveCorruptError } from "../errors.js";
import type { Layer, SnapshotSummary } from "../model.js";

/** Resolves snapshots against one read of a lineage's layer records (`LayerIndex.layers`). */
export interface LayerResolver {
  /** The snapshot's live layers, each once, in the order its `layers` first reach them. */
  resolve(snapshot: SnapshotSummary): Layer[];
}

/** One snapshot's live layers, given every layer record of its lineage. */
export function resolveLayers(snapshot: SnapshotSummary, layers: Iterable<Layer>): Layer[] {
  return layerResolver(layers).resolve(snapshot);
}

/**
 * A resolver over one lineage's layer records; resolving many snapshots (prune, compaction) reuses
 * what it has followed, so each record is walked once whatever the number of snapshots.
 */
export function layerResolver(layers: Iterable<Layer>): LayerResolver {
  const byId = new Map<string, Layer>();
  for (const layer of layers) byId.set(layer.id, layer);
  // Layer id -> the live layers it stands for (itself when live). Only filled for ids that resolve.
  const settled = new Map<string, Layer[]>();

  function follow(snapshot: SnapshotSummary, id: string, path: string[]): Layer[] {
    const done = settled.get(id);
    if (done) return done;
    const where = path.length === 0 ? "" : ` (reached through ${path.join(" -> ")})`;
    if (path.includes(id)) {
      throw corrupt(snapshot, id, `is replaced by itself: replacedBy cycle ${[...path, id].join(" -> ")}`);
    }
    const layer = byId.get(id);
    if (!layer) throw corrupt(snapshot, id, `is not in the index${where}`);
    let live: Layer[];
    if (layer.state === "live") {
      if (layer.objectDeleted) throw corrupt(snapshot, id, `is live but its archives are deleted${where}`);
      live = [layer];
    } else if (layer.state === "dead") {
      throw corrupt(snapshot, id, `is dead${where}`);
    } else {
      const next = layer.replacedBy ?? [];
      if (next.length === 0) throw corrupt(snapshot, id, `is retired and names no replacement${where}`);
      live = dedupe(next.flatMap((nextId) => follow(snapshot, nextId, [...path, id])));
    }
    settled.set(id, live);
    return live;
  }

  return {
    resolve(snapshot: SnapshotSummary): Layer[] {
      if (snapshot.kind === "layered" && snapshot.layers === undefined) {
        throw new ArchiveCorruptError(
          `snapshot ${snapshot.id} of ${snapshot.repo} is layered but its record names no layers`,
        );
      }
      return dedupe((snapshot.layers ?? []).flatMap((id) => follow(snapshot, id, [])));
    },
  };
}

function dedupe(layers: Layer[]): Layer[] {
  const seen = new Set<string>();
  return layers.filter((layer) => (seen.has(layer.id) ? false : (seen.add(layer.id), true)));
}

function corrupt(snapshot: SnapshotSummary, layerId: string, what: string): ArchiveCorruptError {
  return new ArchiveCorruptError(`snapshot ${snapshot.id} of ${snapshot.repo}: layer ${layerId} ${what}`);
}
