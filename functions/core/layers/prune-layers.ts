// Prune's layer part (core/prune.ts calls it): store holds of layers, layer garbage and the storage
// class of each layer a kept snapshot resolves to. Compaction under the lease is compact-run.ts's.
import type { Deps } from "../deps.js";
import { LineageIndex } from "../lineage/lineage-index.js";
import type { Snapshot } from "../model.js";
import type { BlobInfo } from "../ports.js";
import { layerPrefixes } from "../object-keys.js";
import type { PruneOptions } from "../prune.js";
import type { RepoPrunePlan } from "../prune-plan.js";
import type { RetentionPolicy } from "../retention-policy.js";
import { applyLayerClasses, planLayerClasses } from "./classes.js";
import { collectLayerGarbage, type LayerGarbageReport } from "./garbage.js";
import { applyLayerHolds, type LayerHoldChanges } from "./holds.js";

/** Prune's layer part: layer garbage, with the store holds it set or lifted on layers. */
export interface PruneLayersReport extends LayerGarbageReport {
  /** Layers whose archives' store hold was set or lifted (absent when none). */
  holds?: LayerHoldChanges;
}

/**
 * The repository's layer part, when the index keeps layers (filed under its lineage key): the store
 * holds of layers held snapshots need (holds.ts), layer garbage, then the storage class of each
 * layer a kept snapshot resolves to (core/layers/).
 */
export async function pruneLayers(
  deps: Deps,
  repo: string,
  context: { plan: RepoPrunePlan; snapshots: readonly Snapshot[]; policy: RetentionPolicy },
  options: PruneOptions & { now: Date; removing?: ReadonlySet<string> },
): Promise<PruneLayersReport | undefined> {
  if (!deps.layers) return undefined;
  const lineage = await lineageOf(deps, repo);
  // Holds first: a layer a held snapshot resolves to is held in the store before garbage runs, and
  // one no held snapshot needs any more is released, so garbage may delete it in this same run.
  const holds = await applyLayerHolds(
    deps,
    context.snapshots,
    await deps.layers.layers(lineage),
    await storedLayerObjects(deps, lineage),
    options.dryRun,
  );
  const garbage = await collectLayerGarbage(deps, repo, lineage, {
    now: options.now,
    dryRun: options.dryRun,
    actor: options.actor,
    ...(options.layerGraceMs === undefined ? {} : { graceMs: options.layerGraceMs }),
    ...(options.removing ? { removing: options.removing } : {}),
  });
  const report = holds.held.length || holds.released.length ? { ...garbage, holds } : garbage;
  const layers = await deps.layers.layers(lineage);
  if (layers.length === 0) return report;
  const objects = await storedLayerObjects(deps, lineage);
  const moves = planLayerClasses({
    kept: context.plan.keep.map((kept) => kept.snapshot),
    snapshots: context.snapshots,
    reference: context.plan.reference,
    policy: context.policy,
    now: options.now,
    layers,
    objects,
  });
  return { ...report, moves: await applyLayerClasses(deps, moves, options.dryRun) };
}

/** The lineage's stored layer archives, under each prefix layers were ever written to. */
async function storedLayerObjects(deps: Deps, lineage: string): Promise<BlobInfo[]> {
  const objects: BlobInfo[] = [];
  for (const prefix of layerPrefixes(lineage))
    for await (const object of deps.store.list(prefix)) objects.push(object);
  return objects;
}

/** The lineage key `repo` is filed under (the registry's, through the lineage index). */
export async function lineageOf(deps: Deps, repo: string): Promise<string> {
  return deps.index instanceof LineageIndex ? (await deps.index.resolve(repo)).key : repo;
}
