// The plan of a layered snapshot (docs/ARCHITECTURE.md, "Snapshot (write path)"): the lineage's
// generation, read first, then the kept layered snapshots that still resolve to live layers. Their
// tips are the fetch's haves (the server leaves out everything they reach) and their layers, with
// the new one, are what the new snapshot needs. T-snap fails if anything moved since this read.
import type { Deps } from "../deps.js";
import { ArchiveCorruptError } from "../errors.js";
import { lineageKeyOf } from "../keys/repository-keys.js";
import type { Layer, Snapshot } from "../model.js";
import type { LayerIndex } from "../ports.js";
import { layerResolver } from "./resolve.js";

export interface LayeredPlan {
  lineage: string;
  /** The lineage's generation when the plan was made: T-snap expects it unchanged. */
  generation: number;
  /** The snapshots whose tips are the haves (T-snap checks they are still kept). */
  basedOn: Snapshot[];
  /** Their ref tips, deduplicated and sorted. */
  have: string[];
  /** Their live layers, each once: every object the haves reach is in one of them (invariant 1). */
  layers: Layer[];
}

/**
 * Plans a layered snapshot of `repo`. Only layered snapshots count: a chain's objects are in no
 * layer, so the first layered snapshot after legacy ones fetches everything (one full layer). A
 * snapshot whose verification failed, or that no longer resolves, is left out: its tips would
 * vouch for objects that may not be stored.
 */
export async function planLayered(
  deps: Pick<Deps, "index"> & { layers: LayerIndex },
  repo: string,
): Promise<LayeredPlan> {
  const lineage = await lineageKeyOf(deps.index, repo);
  // The generation first: whatever is committed after this read makes T-snap fail and re-plan.
  const { generation } = await deps.layers.layerState(lineage);
  const [snapshots, records] = await Promise.all([deps.index.list(repo), deps.layers.layers(lineage)]);
  const resolver = layerResolver(records);
  const basedOn: Snapshot[] = [];
  const layers = new Map<string, Layer>();
  for (const snapshot of snapshots) {
    if (snapshot.kind !== "layered" || snapshot.verification?.verdict === "failed") continue;
    let resolved: Layer[];
    try {
      resolved = resolver.resolve(snapshot);
    } catch (err) {
      if (err instanceof ArchiveCorruptError) continue;
      throw err;
    }
    basedOn.push(snapshot);
    for (const layer of resolved) layers.set(layer.id, layer);
  }
  const have = [...new Set(basedOn.flatMap((s) => Object.values(s.refs)))].sort();
  return { lineage, generation, basedOn, have, layers: [...layers.values()] };
}
