// Storage classes of shared pack layers in prune: each live layer a kept snapshot resolves to
// follows its youngest reader (core/layer-tiers.ts), the same rule (chooseStorageClass) as an
// archive, applied to both of its archives. Only the class moves: a layer gets no expiry and no
// retention from prune (layer garbage alone deletes it, after its record says so).
import type { Deps } from "../deps.js";
import { layerClassInputs } from "../layer-tiers.js";
import type { Layer, Snapshot } from "../model.js";
import type { BlobInfo } from "../ports.js";
import type { RetentionPolicy } from "../retention-policy.js";
import { chooseStorageClass, settledKeepUntil } from "../storage-tiers.js";
import { layerResolver } from "./resolve.js";

export interface LayerClassMove {
  layerId: string;
  key: string;
  from: string;
  to: string;
  why: string;
}

/**
 * The class moves of a lineage's layer archives. `kept` newest first and `reference` as the prune
 * plan has them; `snapshots` every record the plan judged (for the settled ends); `objects` the
 * layer archives as the store lists them. A kept snapshot that does not resolve moves nothing of
 * its own (layer garbage reports it).
 */
export function planLayerClasses(input: {
  kept: readonly Snapshot[];
  snapshots: readonly Snapshot[];
  reference: string;
  policy: RetentionPolicy;
  now: Date;
  layers: readonly Layer[];
  objects: readonly BlobInfo[];
}): LayerClassMove[] {
  const resolver = layerResolver(input.layers);
  const layersOf = (snapshot: Snapshot): string[] => {
    try {
      return resolver.resolve(snapshot).map((layer) => layer.id);
    } catch {
      return [];
    }
  };
  const settled = settledKeepUntil(input.snapshots, input.policy, input.now);
  const classes = layerClassInputs(input.kept, input.reference, settled, input.now, layersOf);
  const byKey = new Map(input.objects.map((object) => [object.key, object]));
  const byId = new Map(input.layers.map((layer) => [layer.id, layer]));
  const moves: LayerClassMove[] = [];
  for (const [id, why] of classes) {
    const layer = byId.get(id);
    if (!layer) continue;
    for (const key of [layer.objectKey, layer.oidsKey]) {
      const object = byKey.get(key);
      if (!object) continue;
      const choice = chooseStorageClass({
        current: object.storageClass,
        createdAt: object.createdAt,
        settledUntil: why.settledUntil,
        now: input.now,
        ...(why.readBy === undefined ? {} : { readBy: why.readBy }),
      });
      if (choice.move && choice.storageClass !== undefined) {
        moves.push({
          layerId: id,
          key,
          from: object.storageClass ?? "none",
          to: choice.storageClass,
          why: choice.why,
        });
      }
    }
  }
  return moves;
}

/** Carries out the moves (a dry run only reports them); counts them by "FROM -> TO". */
export async function applyLayerClasses(
  deps: Pick<Deps, "store">,
  moves: readonly LayerClassMove[],
  dryRun: boolean,
): Promise<Record<string, number>> {
  const counted: Record<string, number> = {};
  for (const move of moves) {
    if (!dryRun) await deps.store.setLifecycle(move.key, { storageClass: move.to });
    const label = `${move.from} -> ${move.to}`;
    counted[label] = (counted[label] ?? 0) + 1;
  }
  return counted;
}
