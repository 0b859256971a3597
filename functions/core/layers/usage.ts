// Shared pack layers in the numbers users see, from the index alone (backupHealth may not read the
// bucket): the bytes a repository's snapshots need (each layer once, however many share it), and
// each stored layer archive with the class daily prunes are expected to have put it in and the
// retention tier it is kept for, for the storage report and its monthly cost.
import type { StoredObject } from "../cost.js";
import { layerClassInputs } from "../layer-tiers.js";
import type { Layer, SnapshotSummary } from "../model.js";
import { planRetention } from "../retention.js";
import type { RetentionPolicy } from "../retention-policy.js";
import { periodEnds } from "../storage-report.js";
import { chooseStorageClass, RECENT_READ_DAYS, settledKeepUntil } from "../storage-tiers.js";
import { layerResolver } from "./resolve.js";

const DAY_MS = 86_400_000;

/** What a layer costs in the store: its pack archive and its oids. */
export const layerBytes = (layer: Layer): number => layer.size + layer.oidsSize;

/**
 * The live layers `snapshots` resolve to, each once. A snapshot that does not resolve counts the
 * live layers its ids still reach (what prune keeps for it).
 */
export function layersNeeded(
  snapshots: readonly SnapshotSummary[],
  layers: readonly Layer[],
): Map<string, Layer> {
  const byId = new Map(layers.map((layer) => [layer.id, layer]));
  const resolver = layerResolver(layers);
  const needed = new Map<string, Layer>();
  for (const snapshot of snapshots) {
    if (snapshot.layers === undefined) continue;
    for (const id of layersOf(snapshot, resolver, byId)) needed.set(id, byId.get(id)!);
  }
  return needed;
}

/** The bytes of the layers `snapshots` need, shared ones counted once. */
export function neededLayerBytes(snapshots: readonly SnapshotSummary[], layers: readonly Layer[]): number {
  let bytes = 0;
  for (const layer of layersNeeded(snapshots, layers).values()) bytes += layerBytes(layer);
  return bytes;
}

/** A layer's pack archive or its oids in the storage report, named by its layer. */
export type LayerArchive = StoredObject & { layerId: string; part: "pack" | "oids" };

/**
 * Each stored layer archive (records whose archives are not deleted) of one lineage: its bytes,
 * the class it is expected in at `now` and the tier it is kept for (its youngest reader's; when no
 * kept snapshot needs it, "retired" or "expired" as unneededTier says: layer garbage removes it). The class replays prune's choice
 * (core/layers/classes.ts) from `newObjectClass` at the instants it can change, as
 * storage-report.ts expectedClasses does for archives; a layer counts from its createdAt.
 */
export function layerArchives(
  snapshots: readonly SnapshotSummary[],
  layers: readonly Layer[],
  policy: RetentionPolicy,
  now: Date,
  newObjectClass: string,
): LayerArchive[] {
  const stored = layers.filter((layer) => !layer.objectDeleted);
  if (stored.length === 0) return [];
  const byId = new Map(layers.map((layer) => [layer.id, layer]));
  const resolver = layerResolver(layers);
  const resolved = new Map(snapshots.map((s) => [s.id, layersOf(s, resolver, byId)]));
  const expected = new Map(stored.map((l) => [l.id, { storageClass: newObjectClass, since: l.createdAt }]));

  const end = now.getTime();
  const instants = new Set([end]);
  for (const s of snapshots) {
    const takenAt = Date.parse(s.takenAt);
    for (const t of [...periodEnds(takenAt), takenAt + RECENT_READ_DAYS * DAY_MS])
      if (t < end) instants.add(t);
  }
  let tierOf = new Map<string, string>();
  for (const t of [...instants].sort((a, b) => a - b)) {
    const at = new Date(t);
    const present = snapshots.filter((s) => Date.parse(s.takenAt) <= t);
    if (present.length === 0) continue;
    const plan = planRetention(present, policy, at);
    const kept = plan.keep.map((k) => k.snapshot);
    const written = (id: string) => Date.parse(byId.get(id)!.createdAt) <= t;
    const inputs = layerClassInputs(kept, plan.reference, settledKeepUntil(present, policy, at), at, (s) =>
      (resolved.get(s.id) ?? []).filter(written),
    );
    for (const [id, input] of inputs) {
      const current = expected.get(id);
      if (current === undefined || byId.get(id)!.state !== "live") continue;
      const choice = chooseStorageClass({
        current: current.storageClass,
        createdAt: current.since,
        now: at,
        settledUntil: input.settledUntil,
        ...(input.readBy === undefined ? {} : { readBy: input.readBy }),
      });
      if (choice.move && choice.storageClass !== undefined)
        expected.set(id, { storageClass: choice.storageClass, since: at.toISOString() });
    }
    if (t === end) tierOf = layerTiers(plan.keep, layers);
  }
  // A legacy record (a folded snapshot's old archive) names one object twice: it has no oids archive.
  return stored.flatMap((layer) =>
    (layer.oidsKey === layer.objectKey
      ? ([["pack", layer.size]] as const)
      : ([
          ["pack", layer.size],
          ["oids", layer.oidsSize],
        ] as const)
    ).map(([part, bytes]) => ({
      bytes,
      storageClass: expected.get(layer.id)!.storageClass,
      tier: tierOf.get(layer.id) ?? unneededTier(layer),
      layerId: layer.id,
      part,
    })),
  );
}

/**
 * The tier of a stored layer archive no kept snapshot needs: "retired" when a merge or a fold
 * replaced it (its readers resolve to the replacement; layer garbage deletes it after the grace
 * period), "expired" otherwise (dead: layer garbage removes it).
 */
export function unneededTier(layer: Pick<Layer, "state">): "retired" | "expired" {
  return layer.state === "retired" ? "retired" : "expired";
}

/**
 * For each live layer a kept snapshot needs, the retention tier of its youngest reader ("daily",
 * "yearly"); `kept` is newest first, as a plan's keep list. Layers missing from the map are needed
 * by no kept snapshot ("expired": layer garbage removes them).
 */
export function layerTiers(
  kept: readonly { snapshot: SnapshotSummary; tier: string }[],
  layers: readonly Layer[],
): Map<string, string> {
  const byId = new Map(layers.map((layer) => [layer.id, layer]));
  const resolver = layerResolver(layers);
  const tiers = new Map<string, string>();
  for (const { snapshot, tier } of kept) {
    for (const id of layersOf(snapshot, resolver, byId)) if (!tiers.has(id)) tiers.set(id, tier);
  }
  return tiers;
}

function layersOf(
  snapshot: SnapshotSummary,
  resolver: ReturnType<typeof layerResolver>,
  byId: ReadonlyMap<string, Layer>,
): string[] {
  if (snapshot.layers === undefined) return [];
  try {
    return resolver.resolve(snapshot).map((layer) => layer.id);
  } catch {
    return liveReach(snapshot, byId);
  }
}

/** The live, stored layers a snapshot's ids reach through replacedBy, whatever else is broken. */
function liveReach(snapshot: SnapshotSummary, byId: ReadonlyMap<string, Layer>): string[] {
  const seen = new Set<string>();
  const live: string[] = [];
  const queue = [...(snapshot.layers ?? [])];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const layer = byId.get(id);
    if (layer === undefined) continue;
    if (layer.state === "live" && !layer.objectDeleted) live.push(id);
    queue.push(...(layer.replacedBy ?? []));
  }
  return live;
}
