// Layer garbage, run by prune after it removed snapshot records (docs/ARCHITECTURE.md, "Shared
// pack layers"): live layers no kept snapshot resolves to are set dead in one T-drop; then, from a
// second read of the index, the archives of retired and dead layers past the grace period are
// deleted, each followed by markObjectDeleted and its data key record; then records that nothing
// names are forgotten, and layer archives no record names (a put whose transaction never came) are
// collected. Each step leaves every kept snapshot resolvable to stored layers, wherever a crash
// stops the run; the next run picks up from the records.
//
// The generation is read before the snapshot list: a T-snap committed after the list moves it, so
// a T-drop planned without that snapshot fails instead of taking a layer it needs.
import type { Deps } from "../deps.js";
import { LineageIndex } from "../lineage/lineage-index.js";
import { ConflictError, describeError, RetainedError } from "../errors.js";
import type { Layer, Snapshot } from "../model.js";
import { layerPrefixes } from "../object-keys.js";
import type { AuditEvent, BlobInfo } from "../ports.js";
import { LAYER_GRACE_MS, layerIdOfKey, layerOrphans, planLayerGarbage } from "./garbage-plan.js";

export interface LayerGarbageOptions {
  now: Date;
  /** Plan only: no transaction, no delete, no audit. */
  dryRun: boolean;
  actor: string;
  graceMs?: number;
  /** Snapshot ids to count as removed though the index still lists them (a dry run of prune). */
  removing?: ReadonlySet<string>;
}

export interface LayerGarbageReport {
  /** Layers set dead (a dry run: that would be). */
  dead: string[];
  /** Layers whose archives were deleted. */
  deleted: string[];
  /** Layer records removed from the index. */
  forgotten: string[];
  /** Layer archives no record named, deleted. */
  orphans: string[];
  /** Bytes of deleted layer archives and orphans. */
  bytesFreed: number;
  /** Kept snapshots whose layers do not resolve: nothing they reach was touched. */
  unresolvable: { snapshotId: string; error: string }[];
  /** Steps given up this run (another writer moved the generation, the store retains an archive). */
  skipped: { layerId?: string; reason: string }[];
  /** Storage class changes of layer archives by "FROM -> TO" (prune: core/layers/classes.ts). */
  moves?: Record<string, number>;
}

type Audit = (event: Omit<AuditEvent, "repo" | "actor">) => Promise<void>;

/** Collects the layer garbage of the lineage `lineage` whose snapshots the index lists as `repo`. */
export async function collectLayerGarbage(
  deps: Deps,
  repo: string,
  lineage: string,
  options: LayerGarbageOptions,
): Promise<LayerGarbageReport> {
  const report: LayerGarbageReport = {
    dead: [],
    deleted: [],
    forgotten: [],
    orphans: [],
    bytesFreed: 0,
    unresolvable: [],
    skipped: [],
  };
  const layers = deps.layers;
  if (!layers) return report;
  const graceMs = options.graceMs ?? LAYER_GRACE_MS;
  const at = { now: options.now, graceMs };
  const audit: Audit = (event) => deps.audit.record({ ...event, repo, actor: options.actor });

  const { generation } = await layers.layerState(lineage);
  const first = planLayerGarbage({ ...(await read(deps, repo, lineage, options.removing)), ...at });
  report.unresolvable = first.unresolvable;
  report.dead = first.drop.map((layer) => layer.id);
  if (options.dryRun) {
    const objects = await listLayerObjects(deps, lineage);
    report.deleted = first.remove.map((layer) => layer.id);
    report.forgotten = first.forget.map((layer) => layer.id);
    report.orphans = layerOrphans(objects, await layers.layers(lineage), options.now, graceMs).map(
      (o) => o.key,
    );
    report.bytesFreed = sum(first.remove) + bytesOf(objects, report.orphans);
    return report;
  }

  if (first.drop.length > 0) {
    try {
      await layers.markDead(lineage, report.dead, options.now.toISOString(), generation);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Someone committed or merged since the read: this run drops nothing, the next one replans.
      report.dead = [];
      report.skipped.push({ reason: describeError(err) });
      return report;
    }
    for (const id of report.dead)
      await audit({ action: "prune.layer-dead", outcome: "success", details: { layerId: id } });
  }

  // The second read: what is deleted is decided from the index as it is after the drop.
  const second = await read(deps, repo, lineage);
  const plan = planLayerGarbage({ ...second, ...at });
  const deletedNow = new Set<string>();
  for (const layer of plan.remove) {
    const refused = await deleteLayerArchives(deps, layer);
    if (refused) {
      report.skipped.push({ layerId: layer.id, reason: refused });
      continue;
    }
    await layers.markObjectDeleted(lineage, layer.id);
    await deps.keyRecords?.removeDataKey(lineage, layer.id);
    deletedNow.add(layer.id);
    report.deleted.push(layer.id);
    report.bytesFreed += layer.size + layer.oidsSize;
    await audit({
      action: "prune.layer-deleted",
      outcome: "success",
      details: {
        layerId: layer.id,
        state: layer.state,
        objectKey: layer.objectKey,
        bytes: layer.size + layer.oidsSize,
      },
    });
  }

  const afterDeletes = second.layers.map((layer) =>
    deletedNow.has(layer.id) ? { ...layer, objectDeleted: true as const } : layer,
  );
  const forget = planLayerGarbage({ snapshots: second.snapshots, layers: afterDeletes, ...at }).forget;
  for (const layer of forget) {
    try {
      await layers.forgetLayer(lineage, layer.id);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      report.skipped.push({ layerId: layer.id, reason: describeError(err) }); // named again since the read
      continue;
    }
    report.forgotten.push(layer.id);
    await audit({ action: "prune.layer-forgotten", outcome: "success", details: { layerId: layer.id } });
  }

  // Orphans: listed first, then judged against a fresh read of the records, so a layer committed
  // between the two is named (and a young put is protected by the grace period anyway).
  const objects = await listLayerObjects(deps, lineage);
  const orphans = layerOrphans(objects, await layers.layers(lineage), options.now, graceMs);
  const orphanIds = new Set<string>();
  for (const orphan of orphans) {
    try {
      await deps.store.delete(orphan.key);
    } catch (err) {
      if (!(err instanceof RetainedError)) throw err;
      report.skipped.push({ layerId: layerIdOfKey(orphan.key), reason: describeError(err) });
      continue;
    }
    orphanIds.add(layerIdOfKey(orphan.key));
    report.orphans.push(orphan.key);
    report.bytesFreed += orphan.size;
    await audit({
      action: "prune.orphan",
      outcome: "success",
      details: { objectKey: orphan.key, bytes: orphan.size, createdAt: orphan.createdAt },
    });
  }
  // The data key of an orphan layer goes once nothing of it is stored.
  const stored = new Set(
    objects.filter((o) => !report.orphans.includes(o.key)).map((o) => layerIdOfKey(o.key)),
  );
  for (const id of orphanIds) if (!stored.has(id)) await deps.keyRecords?.removeDataKey(lineage, id);
  return report;
}

/**
 * Archive keys outside `layers/` that layer records name: the old archives of folded snapshots
 * (legacy records), which prune's orphan collection must leave to layer garbage.
 */
export async function keysNamedByLayers(deps: Deps, repo: string): Promise<Set<string>> {
  if (!deps.layers) return new Set();
  const lineage = deps.index instanceof LineageIndex ? (await deps.index.resolve(repo)).key : repo;
  const layers = await deps.layers.layers(lineage);
  return new Set(layers.filter((layer) => !layer.objectDeleted).flatMap((l) => [l.objectKey, l.oidsKey]));
}

/** The lineage's layer archives, under each prefix layers were ever written to. */
async function listLayerObjects(deps: Deps, lineage: string): Promise<BlobInfo[]> {
  const objects: BlobInfo[] = [];
  for (const prefix of layerPrefixes(lineage))
    for await (const object of deps.store.list(prefix)) objects.push(object);
  return objects;
}

/** The kept snapshot records, then the layer records (in this order: see the module comment). */
async function read(
  deps: Deps,
  repo: string,
  lineage: string,
  removing: ReadonlySet<string> = new Set(),
): Promise<{ snapshots: Snapshot[]; layers: Layer[] }> {
  const snapshots = (await deps.index.list(repo)).filter((snapshot) => !removing.has(snapshot.id));
  return { snapshots, layers: await deps.layers!.layers(lineage) };
}

/** Deletes the pack archive, then the oids; resolves with why the store refused, if it did. */
async function deleteLayerArchives(deps: Deps, layer: Layer): Promise<string | undefined> {
  for (const key of [layer.objectKey, layer.oidsKey]) {
    try {
      await deps.store.delete(key);
    } catch (err) {
      if (err instanceof RetainedError) return describeError(err);
      throw err;
    }
  }
  return undefined;
}

function sum(layers: readonly Layer[]): number {
  return layers.reduce((total, layer) => total + layer.size + layer.oidsSize, 0);
}

function bytesOf(objects: readonly BlobInfo[], keys: readonly string[]): number {
  const wanted = new Set(keys);
  return objects.filter((object) => wanted.has(object.key)).reduce((total, object) => total + object.size, 0);
}
