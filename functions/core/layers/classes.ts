// Prune's lifecycle for shared pack layers (docs/ARCHITECTURE.md, "Tiers that know about reads"):
// each live layer a kept snapshot resolves to has both archives (pack and oids) moved to the class
// its readers call for (layer-tiers.ts layerClassInputs, then chooseStorageClass, the rule archives
// follow), their retention moved forward to the latest keepUntil of those readers, and a legal hold
// on any of them holds the layer too. No expiry is set: a layer goes only through layer garbage
// (record before delete), never by the bucket's expiry rule, since the next snapshot may need it.
import type { Deps } from "../deps.js";
import { describeError } from "../errors.js";
import { lineageKeyOf } from "../keys/repository-keys.js";
import { layerClassInputs } from "../layer-tiers.js";
import type { Layer, Snapshot } from "../model.js";
import { repoPrefix } from "../object-keys.js";
import type { BlobInfo, LifecycleChange } from "../ports.js";
import type { KeepDecision } from "../prune-plan.js";
import type { RetentionPolicy } from "../retention-policy.js";
import { chooseStorageClass, settledKeepUntil } from "../storage-tiers.js";
import { layerResolver } from "./resolve.js";

/** One of a layer's two archives, as the prune leaves it. */
export interface LayerArchiveDecision {
  key: string;
  bytes: number;
  /** The class after the prune; undefined when the store reports none or the object is missing. */
  storageClass: string | undefined;
  /** Set when the class changes: the class it leaves. */
  movedFrom?: string;
  /** Why: "read by the newest snapshot", "kept 2190 more days", "object missing". */
  why: string;
  /** What setLifecycle is asked to change; absent when nothing changes. */
  change?: LifecycleChange;
  missingObject: boolean;
}

export interface LayerLifecycleDecision {
  layerId: string;
  level: Layer["level"];
  /** The kept snapshots that resolve to it, newest first; empty for a stored layer none needs. */
  neededBy: string[];
  /** The pack's archive, then the oids'. */
  archives: LayerArchiveDecision[];
}

export interface LayerLifecycleReport {
  lineage: string;
  layers: LayerLifecycleDecision[];
  /** Kept snapshots whose layers do not resolve: the live layers they reach stay warm. */
  unresolvable: { snapshotId: string; error: string }[];
}

export interface LayerLifecyclePlanInput {
  /** The plan's kept snapshots, newest first (a prune plan's keep list). */
  kept: readonly KeepDecision[];
  /** The plan's reference instant (retention.ts). */
  reference: string;
  /** settledKeepUntil's answer for the same snapshots and policy. */
  settled: ReadonlyMap<string, string | null>;
  /** Every layer record of the lineage. */
  layers: readonly Layer[];
  /** The lineage's layer archives as the store lists them. */
  objects: readonly BlobInfo[];
  now: Date;
}

/** What prune does to each stored layer's archives. Pure. */
export function planLayerLifecycle(input: LayerLifecyclePlanInput): LayerLifecycleReport {
  const { now } = input;
  const byId = new Map(input.layers.map((layer) => [layer.id, layer]));
  const objects = new Map(input.objects.map((object) => [object.key, object]));
  const resolver = layerResolver(input.layers);
  const unresolvable: LayerLifecycleReport["unresolvable"] = [];
  const layersOf = new Map<string, string[]>();
  for (const { snapshot } of input.kept) {
    try {
      layersOf.set(
        snapshot.id,
        resolver.resolve(snapshot).map((layer) => layer.id),
      );
    } catch (err) {
      unresolvable.push({ snapshotId: snapshot.id, error: describeError(err) });
      layersOf.set(snapshot.id, liveReach(snapshot, byId));
    }
  }
  const snapshots = input.kept.map((kept) => kept.snapshot);
  const inputs = layerClassInputs(
    snapshots,
    input.reference,
    input.settled,
    now,
    (s) => layersOf.get(s.id) ?? [],
  );
  const keptById = new Map(input.kept.map((kept) => [kept.snapshot.id, kept]));

  const decisions: LayerLifecycleDecision[] = [];
  for (const layer of input.layers) {
    if (layer.objectDeleted) continue;
    const classInput = inputs.get(layer.id);
    const readers = (classInput?.neededBy ?? []).map((id) => keptById.get(id)!);
    const retainUntil = latestKeepUntil(readers);
    const held = readers.some((kept) => kept.snapshot.hold === true);
    const archives = [
      { key: layer.objectKey, bytes: layer.size },
      { key: layer.oidsKey, bytes: layer.oidsSize },
    ].map(({ key, bytes }): LayerArchiveDecision => {
      const object = objects.get(key);
      if (object === undefined) {
        return { key, bytes, storageClass: undefined, why: "object missing", missingObject: true };
      }
      const change: LifecycleChange = {};
      let decision: LayerArchiveDecision = {
        key,
        bytes,
        storageClass: object.storageClass,
        why: "needed by no kept snapshot",
        missingObject: false,
      };
      // Only live layers a kept snapshot needs move; others wait for layer garbage where they are.
      if (classInput !== undefined && layer.state === "live") {
        const choice = chooseStorageClass({
          current: object.storageClass,
          createdAt: object.createdAt,
          now,
          settledUntil: classInput.settledUntil,
          ...(classInput.readBy === undefined ? {} : { readBy: classInput.readBy }),
        });
        decision = { ...decision, storageClass: choice.storageClass, why: choice.why };
        if (choice.move && choice.storageClass !== undefined) {
          decision.movedFrom = object.storageClass ?? "none";
          change.storageClass = choice.storageClass;
        }
      }
      if (retainUntil !== undefined && laterThan(retainUntil, object.retainUntil))
        change.retainUntil = retainUntil;
      // A hold released on every reader (or a layer no kept snapshot needs) is released here too,
      // or layer garbage could never delete it.
      if (held !== (object.held === true)) change.hold = held;
      return Object.keys(change).length === 0 ? decision : { ...decision, change };
    });
    if (classInput === undefined && archives.every((archive) => archive.change === undefined)) continue;
    decisions.push({ layerId: layer.id, level: layer.level, neededBy: classInput?.neededBy ?? [], archives });
  }
  return { lineage: input.layers[0]?.lineage ?? "", layers: decisions, unresolvable };
}

/** Each archive move as "FROM -> TO", counted, for the prune report's `moves`. */
export function layerMoves(report: LayerLifecycleReport): Record<string, number> {
  const moves: Record<string, number> = {};
  for (const layer of report.layers) {
    for (const archive of layer.archives) {
      if (archive.movedFrom === undefined) continue;
      const move = `${archive.movedFrom} -> ${archive.storageClass}`;
      moves[move] = (moves[move] ?? 0) + 1;
    }
  }
  return moves;
}

export interface LayerLifecycleOptions {
  /** The repository's snapshot records as prune judged them (holds applied). */
  snapshots: readonly Snapshot[];
  kept: readonly KeepDecision[];
  reference: string;
  policy: RetentionPolicy;
  now: Date;
  /** Plan only: nothing is changed. */
  dryRun: boolean;
}

/**
 * Plans, and unless a dry run carries out, the lifecycle of `repo`'s layers. Undefined when the
 * deps keep no layers or the lineage has none.
 */
export async function applyLayerLifecycle(
  deps: Deps,
  repo: string,
  options: LayerLifecycleOptions,
): Promise<LayerLifecycleReport | undefined> {
  if (!deps.layers) return undefined;
  const lineage = await lineageKeyOf(deps.index, repo);
  const layers = await deps.layers.layers(lineage);
  if (layers.length === 0) return undefined;
  const objects: BlobInfo[] = [];
  for await (const object of deps.store.list(`${repoPrefix(lineage)}layers/`)) objects.push(object);
  const report = planLayerLifecycle({
    kept: options.kept,
    reference: options.reference,
    settled: settledKeepUntil(options.snapshots, options.policy, options.now),
    layers,
    objects,
    now: options.now,
  });
  report.lineage = lineage;
  if (options.dryRun) return report;
  for (const layer of report.layers) {
    for (const archive of layer.archives) {
      if (archive.change !== undefined) await deps.store.setLifecycle(archive.key, archive.change);
    }
  }
  return report;
}

/** The live, stored layers a snapshot's ids reach through replacedBy, whatever else is broken. */
export function liveReach(snapshot: Snapshot, byId: ReadonlyMap<string, Layer>): string[] {
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

/** The latest keepUntil over the readers that have one (open-ended readers set no retention). */
function latestKeepUntil(readers: readonly KeepDecision[]): string | undefined {
  let latest: string | undefined;
  for (const { keepUntil } of readers) {
    if (keepUntil !== null && laterThan(keepUntil, latest)) latest = keepUntil;
  }
  return latest;
}

function laterThan(iso: string, than: string | undefined): boolean {
  return than === undefined || Date.parse(iso) > Date.parse(than);
}
