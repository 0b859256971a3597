// Which layers are garbage (docs/ARCHITECTURE.md, "Shared pack layers", Garbage): a pure plan over
// one read of a lineage's snapshot records (the kept ones: prune has removed the others) and its
// layer records. garbage.ts carries it out. The plan errs on the side of keeping: a snapshot whose
// layers do not resolve protects everything its layer ids reach, and is reported.
import type { BlobInfo } from "../ports.js";
import type { Layer, Snapshot } from "../model.js";
import { describeError } from "../errors.js";
import { isLayerKey } from "../object-keys.js";
import { layerResolver } from "./resolve.js";

/**
 * How long a retired or dead layer's archives stay after its state changed: longer than any
 * restore or verification that may have resolved the old list before the change (invariant 4).
 */
export const LAYER_GRACE_MS = 24 * 60 * 60 * 1000;

export interface LayerGarbagePlan {
  /** Live layers no kept snapshot resolves to: to be set dead (T-drop). */
  drop: Layer[];
  /** Retired or dead layers past the grace period whose archives are still stored: to be deleted. */
  remove: Layer[];
  /** Records whose archives are deleted and that nothing names, each before any it names. */
  forget: Layer[];
  /** Kept snapshots that do not resolve (an index to look at): nothing they reach is touched. */
  unresolvable: { snapshotId: string; error: string }[];
}

export function planLayerGarbage(input: {
  snapshots: readonly Snapshot[];
  layers: readonly Layer[];
  now: Date;
  graceMs?: number;
}): LayerGarbagePlan {
  const grace = input.graceMs ?? LAYER_GRACE_MS;
  const byId = new Map(input.layers.map((layer) => [layer.id, layer]));
  const resolver = layerResolver(input.layers);
  // Every record a kept snapshot's layer ids reach through replacedBy, whatever its state.
  const reached = new Set<string>();
  const unresolvable: LayerGarbagePlan["unresolvable"] = [];
  const guarded = new Set<string>();
  for (const snapshot of input.snapshots) {
    const ids = reach(snapshot.layers ?? [], byId);
    for (const id of ids) reached.add(id);
    try {
      resolver.resolve(snapshot);
    } catch (err) {
      unresolvable.push({ snapshotId: snapshot.id, error: describeError(err) });
      for (const id of ids) guarded.add(id);
    }
  }
  const drop = input.layers.filter((layer) => layer.state === "live" && !reached.has(layer.id));
  const remove = input.layers.filter(
    (layer) =>
      layer.state !== "live" &&
      !layer.objectDeleted &&
      !guarded.has(layer.id) &&
      input.now.getTime() - Date.parse(layer.stateAt) >= grace,
  );
  return { drop, remove, forget: planForget(input.snapshots, input.layers), unresolvable };
}

/**
 * Records that may go: archives deleted, named by no snapshot record, and named by no other
 * remaining record's replacedBy (a link in the middle of a chain stays while the chain's start
 * does). Ordered so each goes before a record it names.
 */
export function planForget(snapshots: readonly Snapshot[], layers: readonly Layer[]): Layer[] {
  const namedBySnapshot = new Set(snapshots.flatMap((snapshot) => snapshot.layers ?? []));
  const remaining = new Map(layers.map((layer) => [layer.id, layer]));
  const forget: Layer[] = [];
  for (let changed = true; changed;) {
    changed = false;
    const pointedAt = new Set<string>();
    for (const layer of remaining.values())
      for (const next of layer.replacedBy ?? []) if (next !== layer.id) pointedAt.add(next);
    for (const layer of [...remaining.values()]) {
      if (!layer.objectDeleted || namedBySnapshot.has(layer.id) || pointedAt.has(layer.id)) continue;
      forget.push(layer);
      remaining.delete(layer.id);
      changed = true;
    }
  }
  return forget;
}

/** Layer archives (packs or oids) no record names, older than the grace period: a put whose T-snap or T-merge never came. */
export function layerOrphans(
  objects: readonly BlobInfo[],
  layers: readonly Layer[],
  now: Date,
  graceMs = LAYER_GRACE_MS,
): BlobInfo[] {
  const named = new Set(layers.flatMap((layer) => [layer.objectKey, layer.oidsKey]));
  return objects.filter(
    (object) =>
      isLayerKey(object.key) &&
      !named.has(object.key) &&
      now.getTime() - Date.parse(object.createdAt) >= graceMs,
  );
}

/** The layer id an archive key is filed under (`…/layers/<id>.ibk` or `…/layers/<id>.oids.ibk`). */
export function layerIdOfKey(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1).replace(/(\.oids)?\.ibk$/, "");
}

function reach(ids: readonly string[], byId: ReadonlyMap<string, Layer>): Set<string> {
  const seen = new Set<string>();
  const queue = [...ids];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(byId.get(id)?.replacedBy ?? []));
  }
  return seen;
}
