// Prune's layer part (core/prune.ts calls it): layer garbage and the storage class of each layer a
// kept snapshot resolves to. Compaction under the repository's lease is compact-run.ts's.
import type { Deps } from "../deps.js";
import { LineageIndex } from "../lineage/lineage-index.js";
import type { Snapshot } from "../model.js";
import { repoPrefix } from "../object-keys.js";
import type { PruneOptions } from "../prune.js";
import type { RepoPrunePlan } from "../prune-plan.js";
import type { RetentionPolicy } from "../retention-policy.js";
import { applyLayerClasses, planLayerClasses } from "./classes.js";
import { collectLayerGarbage, type LayerGarbageReport } from "./garbage.js";

/**
 * The repository's layer part, when the index keeps layers (filed under its lineage key): layer
 * garbage, then the storage class of each layer a kept snapshot resolves to (core/layers/).
 */
export async function pruneLayers(
  deps: Deps,
  repo: string,
  context: { plan: RepoPrunePlan; snapshots: readonly Snapshot[]; policy: RetentionPolicy },
  options: PruneOptions & { now: Date; removing?: ReadonlySet<string> },
): Promise<LayerGarbageReport | undefined> {
  if (!deps.layers) return undefined;
  const lineage = await lineageOf(deps, repo);
  const report = await collectLayerGarbage(deps, repo, lineage, {
    now: options.now,
    dryRun: options.dryRun,
    actor: options.actor,
    ...(options.layerGraceMs === undefined ? {} : { graceMs: options.layerGraceMs }),
    ...(options.removing ? { removing: options.removing } : {}),
  });
  const layers = await deps.layers.layers(lineage);
  if (layers.length === 0) return report;
  const objects = [];
  for await (const object of deps.store.list(`${repoPrefix(lineage)}layers/`)) objects.push(object);
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

/** The lineage key `repo` is filed under (the registry's, through the lineage index). */
export async function lineageOf(deps: Deps, repo: string): Promise<string> {
  return deps.index instanceof LineageIndex ? (await deps.index.resolve(repo)).key : repo;
}
