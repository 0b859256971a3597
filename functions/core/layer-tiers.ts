// Which storage class a shared pack layer belongs in: it follows the youngest kept snapshot that
// resolves to it, as an archive follows the youngest snapshot whose chain reads it (storage-tiers.ts).
// A layer the newest or a recent snapshot needs stays warm; one only old snapshots need goes as cold
// as its longest-kept reader's settled keepUntil allows. Pure: prune's layer part asks it, then
// chooseStorageClass, for each layer it keeps.
import type { RetentionCandidate } from "./retention.js";
import { recentReaders } from "./storage-tiers.js";

export interface LayerClassInput {
  /** Why it stays warm ("read by the newest snapshot"); absent when no recent snapshot needs it. */
  readBy?: string;
  /** Until when it is sure to be kept: the latest over the snapshots that need it; null: open-ended. */
  settledUntil: string | null;
  /** The kept snapshots that resolve to it, newest first. */
  neededBy: string[];
}

/**
 * For each layer a kept snapshot resolves to, what chooseStorageClass needs besides the store's
 * facts (current class, createdAt). `kept` is newest first (a plan's keep list) and `reference` the
 * plan's; `settled` is settledKeepUntil's map (a kept snapshot missing from it may go with the next
 * snapshot, so it counts as leaving `now`); `layersOf` gives a snapshot's live layers, already
 * resolved through merges (core/layers/resolve.ts), and nothing for a snapshot without layers.
 */
export function layerClassInputs<S extends RetentionCandidate>(
  kept: readonly S[],
  reference: string,
  settled: ReadonlyMap<string, string | null>,
  now: Date,
  layersOf: (snapshot: S) => readonly string[],
): Map<string, LayerClassInput> {
  const recent = recentReaders(kept, reference);
  const layers = new Map<string, LayerClassInput>();
  for (const snapshot of kept) {
    const sure = settled.has(snapshot.id) ? settled.get(snapshot.id)! : now.toISOString();
    for (const layer of new Set(layersOf(snapshot))) {
      const input = layers.get(layer);
      if (input === undefined) {
        // Newest first: the first snapshot to need a layer is its youngest reader.
        const readBy = recent.get(snapshot);
        layers.set(layer, {
          ...(readBy === undefined ? {} : { readBy }),
          settledUntil: sure,
          neededBy: [snapshot.id],
        });
        continue;
      }
      input.neededBy.push(snapshot.id);
      input.settledUntil = later(input.settledUntil, sure);
    }
  }
  return layers;
}

/** The later of two ends, null (open-ended) being the latest. */
function later(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return null;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
