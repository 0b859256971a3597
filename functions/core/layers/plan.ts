// Compaction planning (docs/ARCHITECTURE.md, "Shared pack layers", Compaction in levels): which
// live layers of a lineage merge, as an LSM tree merges its runs. A layer's level follows its
// object count: level 0 under 2,048 objects, level k >= 1 from 256·8^k up to 256·8^(k+1). A level
// holding 8 or more layers merges them all into one, which lands in the same level or a higher
// one. Pure: the compaction run carries out one merge, reads the records again and plans again,
// so a merge whose output fills the next level leads to that level's merge on the next round.
import type { Layer } from "../model.js";

/** Layers in one level before they merge. */
export const LAYERS_PER_LEVEL = 8;
/** Level 1 starts at this many objects (256·8); level k at 256·8^k. */
const LEVEL_BASE = 256;
const LEVEL_FACTOR = 8;

export interface PlannedMerge {
  /** The live layers to merge, oldest first. */
  inputs: Layer[];
  /** The level the inputs are in (the output's may be higher: see levelOf). */
  level: number;
  /** At most this many objects come out (duplicates and garbage are dropped). */
  objects: number;
  /** How many layers the level held. */
  layersInLevel: number;
}

/** The level of a layer of `objects` objects. */
export function levelOf(objects: number): number {
  if (!Number.isFinite(objects) || objects < LEVEL_BASE * LEVEL_FACTOR) return 0;
  let level = 1;
  while (objects >= LEVEL_BASE * LEVEL_FACTOR ** (level + 1)) level++;
  return level;
}

/**
 * The merges of the lineage's live layers, lowest level first; none when each level holds at most
 * 7. Retired and dead layers are never inputs. (Rewriting a layer whose live share fell under half
 * needs the walk over kept snapshots' objects: compact-rewrite.ts.)
 */
export function planCompaction(layers: readonly Layer[]): PlannedMerge[] {
  const byLevel = new Map<number, Layer[]>();
  for (const layer of oldestFirst(layers.filter((l) => l.state === "live"))) {
    const level = levelOf(layer.objects);
    byLevel.set(level, [...(byLevel.get(level) ?? []), layer]);
  }
  return [...byLevel.entries()]
    .filter(([, inLevel]) => inLevel.length >= LAYERS_PER_LEVEL)
    .sort(([a], [b]) => a - b)
    .map(([level, inLevel]) => ({
      inputs: inLevel,
      level,
      objects: total(inLevel),
      layersInLevel: inLevel.length,
    }));
}

function oldestFirst(layers: Layer[]): Layer[] {
  return [...layers].sort(
    (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function total(layers: readonly Layer[]): number {
  return layers.reduce((sum, layer) => sum + layer.objects, 0);
}
