// The rules of the layer transactions (LayerIndex in ports.ts: T-snap, T-merge, T-drop and the
// bookkeeping after a delete), in one place for every adapter: an adapter reads what a rule needs
// inside its transaction, asks the rule, and writes what the rule returns, or nothing when it
// throws. ConflictError: the index moved since the plan was made (replan); UserInputError: the
// caller asked for something no index state allows.
import { ConflictError, NotFoundError, UserInputError } from "../errors.js";
import type { Layer, Snapshot } from "../model.js";
import type { LegacyFold } from "../ports.js";
import { sameCommit } from "../snapshot-identity.js";

/** What T-snap found in the index, read inside its transaction. */
export interface SnapRead {
  generation: number;
  /** The snapshot record already committed under the same id, if any. */
  existing: Snapshot | undefined;
  /** Of the `basedOn` ids, those the index no longer holds. */
  missingBasedOn: string[];
  /** The lineage's layer records named by the snapshot or with the new layer's id. */
  layers: ReadonlyMap<string, Layer>;
}

/**
 * T-snap: "already" when the same snapshot is committed (a retry: nothing to write, whatever the
 * generation now is), "commit" when the snapshot (and `layer`) may be written and the generation
 * bumped. Refuses a stale generation, a basedOn snapshot that was removed, a named layer that is
 * missing or dead, and a new layer id that is taken.
 */
export function decideSnap(
  snapshot: Snapshot,
  layer: Layer | undefined,
  expectGeneration: number,
  read: SnapRead,
): "already" | "commit" {
  const lineage = snapshot.lineage ?? snapshot.repo;
  const what = `layered snapshot ${snapshot.id} of ${snapshot.repo}`;
  if (snapshot.kind !== "layered" || !Array.isArray(snapshot.layers)) {
    throw new UserInputError(`${what}: a layered commit needs kind "layered" and a layers list`);
  }
  if (layer) {
    if (layer.lineage !== lineage) {
      throw new UserInputError(`${what}: its new layer ${layer.id} is filed under ${layer.lineage}`);
    }
    if (layer.state !== "live" || layer.objectDeleted || layer.replacedBy) {
      throw new UserInputError(`${what}: its new layer ${layer.id} must be live, stored and replace nothing`);
    }
    if (!snapshot.layers.includes(layer.id)) {
      throw new UserInputError(`${what}: its new layer ${layer.id} is not in its layers list`);
    }
  }
  if (read.existing) {
    if (sameCommit(read.existing, snapshot)) return "already";
    throw new ConflictError(
      `snapshot ${snapshot.id} of ${snapshot.repo} is already committed with different content`,
    );
  }
  checkGeneration(lineage, expectGeneration, read.generation);
  if (read.missingBasedOn.length > 0) {
    throw new ConflictError(
      `${what}: snapshot ${read.missingBasedOn.join(", ")} it was fetched against is no longer in the index (pruned); fetch again`,
    );
  }
  if (layer && read.layers.has(layer.id)) {
    throw new ConflictError(`${what}: layer id ${layer.id} is already taken in ${lineage}`);
  }
  for (const id of snapshot.layers) {
    if (id === layer?.id) continue;
    const named = read.layers.get(id);
    if (!named) throw new ConflictError(`${what}: layer ${id} is not in the index`);
    if (named.state === "dead") throw new ConflictError(`${what}: layer ${id} is dead`);
  }
  return "commit";
}

/**
 * T-merge: the input records as they are to be written (retired, replaced by `merged`, from
 * merged.createdAt). Refuses a stale generation, a merged id that is taken, an input that is not
 * live (merged already, dead, unknown).
 */
export function decideMerge(
  lineage: string,
  merged: Layer,
  inputs: string[],
  expectGeneration: number,
  generation: number,
  read: ReadonlyMap<string, Layer>,
): Layer[] {
  const what = `merge into layer ${merged.id} of ${lineage}`;
  if (merged.lineage !== lineage)
    throw new UserInputError(`${what}: the merged layer is filed under ${merged.lineage}`);
  if (merged.state !== "live" || merged.objectDeleted || merged.replacedBy) {
    throw new UserInputError(`${what}: the merged layer must be live, stored and replace nothing`);
  }
  if (inputs.length === 0) throw new UserInputError(`${what}: no input layers`);
  if (new Set(inputs).size !== inputs.length || inputs.includes(merged.id)) {
    throw new UserInputError(`${what}: the inputs repeat a layer or name the merged one`);
  }
  checkGeneration(lineage, expectGeneration, generation);
  if (read.has(merged.id)) throw new ConflictError(`${what}: layer id ${merged.id} is already taken`);
  return inputs.map((id) => {
    const input = read.get(id);
    if (!input) throw new ConflictError(`${what}: input layer ${id} is not in the index`);
    if (input.state !== "live")
      throw new ConflictError(`${what}: input layer ${id} is ${input.state}, not live`);
    return { ...input, state: "retired", stateAt: merged.createdAt, replacedBy: [merged.id] };
  });
}

/** T-drop: the records as they are to be written (dead at `at`). Each must be live or retired. */
export function decideDrop(
  lineage: string,
  ids: string[],
  at: string,
  expectGeneration: number,
  generation: number,
  read: ReadonlyMap<string, Layer>,
): Layer[] {
  if (Number.isNaN(Date.parse(at)))
    throw new UserInputError(`T-drop of ${lineage}: ${JSON.stringify(at)} is not a time`);
  checkGeneration(lineage, expectGeneration, generation);
  return [...new Set(ids)].map((id) => {
    const layer = read.get(id);
    if (!layer) throw new ConflictError(`T-drop of ${lineage}: layer ${id} is not in the index`);
    if (layer.state === "dead") throw new ConflictError(`T-drop of ${lineage}: layer ${id} is dead already`);
    return { ...layer, state: "dead", stateAt: at };
  });
}

/** The record once its archives are deleted; undefined when it says so already (a retry). */
export function decideObjectDeleted(
  lineage: string,
  id: string,
  layer: Layer | undefined,
): Layer | undefined {
  if (!layer) throw new NotFoundError(`layer ${id} of ${lineage} is not in the index`);
  if (layer.state === "live") {
    throw new ConflictError(`layer ${id} of ${lineage} is live: its archives may not be deleted`);
  }
  return layer.objectDeleted ? undefined : { ...layer, objectDeleted: true };
}

/**
 * Whether a record may be forgotten: false when it is gone already (a retry). Refused while its
 * archives are stored, while a snapshot names it, or while another record's replacedBy names it
 * (forgetting a link in the middle would break the resolve of a snapshot naming an older layer).
 */
export function decideForget(
  lineage: string,
  id: string,
  layer: Layer | undefined,
  namedBySnapshot: string | undefined,
  namedByLayer: string | undefined,
): boolean {
  if (!layer) return false;
  const what = `layer ${id} of ${lineage} cannot be forgotten`;
  if (!layer.objectDeleted) throw new ConflictError(`${what}: its archives are not deleted`);
  if (namedBySnapshot) throw new ConflictError(`${what}: snapshot ${namedBySnapshot} names it`);
  if (namedByLayer) throw new ConflictError(`${what}: layer ${namedByLayer} is replaced by it`);
  return true;
}

function checkGeneration(lineage: string, expected: number, found: number): void {
  if (expected !== found) {
    throw new ConflictError(
      `the layers of ${lineage} changed since the plan was made (generation ${found}, expected ${expected}); plan again`,
    );
  }
}

/** What T-fold found in the index, read inside its transaction. */
export interface FoldRead {
  generation: number;
  /** The records of the folded snapshot ids, as the index holds them now. */
  snapshots: ReadonlyMap<string, Snapshot>;
  /** Snapshots of the lineage that are not folded and name one of the folded ones as parent. */
  children: readonly Pick<Snapshot, "id" | "parentId">[];
  /** The lineage's layer records with the new ids or named by the folded snapshots. */
  layers: ReadonlyMap<string, Layer>;
}

/**
 * T-fold: the layer records to create and the snapshot records as they are to be written, or
 * "already" when every folded snapshot reads its layered archive already (a retry). Refuses a
 * fold whose parts do not fit together (UserInputError) and one the index moved under
 * (ConflictError): a stale generation, a snapshot gone or reading another archive, a named layer
 * missing or dead, an id taken, a snapshot left out that builds on a folded one.
 */
export function decideFold(
  lineage: string,
  fold: LegacyFold,
  expectGeneration: number,
  read: FoldRead,
): "already" | { create: Layer[]; snapshots: Snapshot[] } {
  const what = `fold of old archives of ${lineage}`;
  checkFoldShape(lineage, fold, what);
  const done = fold.snapshots.every((change) => {
    const found = read.snapshots.get(change.id);
    return found?.kind === "layered" && found.objectKey === change.objectKey;
  });
  if (done) return "already";
  checkGeneration(lineage, expectGeneration, read.generation);
  const create = [...(fold.layer ? [fold.layer] : []), ...fold.legacy];
  for (const layer of create)
    if (read.layers.has(layer.id)) throw new ConflictError(`${what}: layer id ${layer.id} is already taken`);
  const newIds = new Set(create.map((layer) => layer.id));
  const named = new Set([
    ...fold.snapshots.flatMap((change) => change.layers),
    ...fold.legacy.flatMap((layer) => layer.replacedBy ?? []),
  ]);
  for (const id of named) {
    if (newIds.has(id)) continue;
    const layer = read.layers.get(id);
    if (!layer) throw new ConflictError(`${what}: layer ${id} is not in the index`);
    if (layer.state === "dead") throw new ConflictError(`${what}: layer ${id} is dead`);
  }
  const folded = new Set(fold.snapshots.map((change) => change.id));
  const orphaned = read.children.find((child) => !folded.has(child.id) && folded.has(child.parentId ?? ""));
  if (orphaned) {
    throw new ConflictError(
      `${what}: snapshot ${orphaned.id} builds on ${orphaned.parentId} and is not folded with it`,
    );
  }
  const snapshots = fold.snapshots.map((change) => {
    const found = read.snapshots.get(change.id);
    if (!found) throw new ConflictError(`${what}: snapshot ${change.id} is no longer in the index`);
    if (found.kind === "layered" || found.objectKey !== change.legacyKey) {
      throw new ConflictError(
        `${what}: snapshot ${change.id} reads ${found.objectKey} now, not the archive it was folded from`,
      );
    }
    const { parentId: _parent, verification: _verdict, ...kept } = found;
    return {
      ...kept,
      kind: "layered" as const,
      objectKey: change.objectKey,
      size: change.size,
      sha256: change.sha256,
      bundleBytes: change.bundleBytes,
      layers: [...change.layers],
      ...(change.metadata ? { metadata: change.metadata } : {}),
    };
  });
  return { create, snapshots };
}

/** The fold's own consistency, before anything is read: what no index state could make right. */
function checkFoldShape(lineage: string, fold: LegacyFold, what: string): void {
  if (fold.snapshots.length === 0) throw new UserInputError(`${what}: no snapshots`);
  const layer = fold.layer;
  if (
    layer &&
    (layer.lineage !== lineage || layer.state !== "live" || layer.objectDeleted || layer.replacedBy)
  ) {
    throw new UserInputError(`${what}: its new layer ${layer.id} must be a live, stored layer of ${lineage}`);
  }
  const legacyKeys = new Set<string>();
  for (const legacy of fold.legacy) {
    if (
      legacy.lineage !== lineage ||
      legacy.level !== "legacy" ||
      legacy.state !== "retired" ||
      legacy.objectDeleted ||
      !legacy.replacedBy?.length
    ) {
      throw new UserInputError(
        `${what}: record ${legacy.id} must be a retired legacy record of ${lineage} naming its replacement`,
      );
    }
    legacyKeys.add(legacy.objectKey);
  }
  const ids = [...(layer ? [layer.id] : []), ...fold.legacy.map((l) => l.id)];
  if (new Set(ids).size !== ids.length) throw new UserInputError(`${what}: two new records share an id`);
  for (const change of fold.snapshots) {
    if (change.layers.length === 0)
      throw new UserInputError(`${what}: snapshot ${change.id} names no layers`);
    // Every old archive stays named by a record until layer garbage deletes it (invariant 4).
    if (!legacyKeys.has(change.legacyKey)) {
      throw new UserInputError(`${what}: the old archive of snapshot ${change.id} has no legacy record`);
    }
    if (change.objectKey === change.legacyKey) {
      throw new UserInputError(`${what}: snapshot ${change.id} must get a new archive`);
    }
  }
  if (new Set(fold.snapshots.map((c) => c.id)).size !== fold.snapshots.length)
    throw new UserInputError(`${what}: a snapshot is folded twice`);
}
