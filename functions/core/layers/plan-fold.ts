// Which old snapshots fold together (docs/ARCHITECTURE.md, "Old archives folded in"): the full and
// incremental snapshot records still in the index, grouped by the full snapshot their chain starts
// at. A chain folds whole or not at all (T-fold refuses a snapshot left out that builds on a folded
// one), parents before children. Pure.
import type { Snapshot } from "../model.js";

export interface FoldChain {
  /** Parents before children (the order the archives are read in). */
  snapshots: Snapshot[];
  /** Why the chain is left as it is; absent: it folds. */
  skip?: string;
}

/**
 * The lineage's old chains, oldest full snapshot first. Only a repository that has turned layers on
 * (it has a layered snapshot) folds: folding one whose backups still make chains would make each
 * next backup a full snapshot (no incremental builds on a layered one).
 */
export function planFold(snapshots: readonly Snapshot[]): FoldChain[] {
  const layersOn = snapshots.some((snapshot) => snapshot.kind === "layered");
  const byId = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot]));
  const chains = new Map<string, { snapshots: { snapshot: Snapshot; depth: number }[]; skip?: string }>();
  for (const snapshot of snapshots) {
    if (snapshot.kind === "layered") continue;
    const root = rootOf(snapshot, byId);
    const chain = chains.get(root.id) ?? { snapshots: [] };
    chains.set(root.id, chain);
    chain.snapshots.push({ snapshot, depth: root.depth });
    chain.skip ??= layersOn
      ? (root.broken ?? skipReason(snapshot))
      : "the repository has no layered snapshot yet (layers are off, or it has not changed since they were turned on)";
  }
  for (const chain of chains.values())
    if (chain.snapshots.every(({ snapshot }) => Object.keys(snapshot.refs).length === 0))
      chain.skip ??= "the chain holds no git objects";
  return [...chains.values()]
    .map((chain) => ({
      snapshots: chain.snapshots
        .sort((a, b) => a.depth - b.depth || compare(a.snapshot.takenAt, b.snapshot.takenAt))
        .map((entry) => entry.snapshot),
      ...(chain.skip ? { skip: chain.skip } : {}),
    }))
    .sort((a, b) => compare(a.snapshots[0]!.takenAt, b.snapshots[0]!.takenAt));
}

/** Why this one snapshot cannot fold (which keeps its whole chain as it is). */
function skipReason(snapshot: Snapshot): string | undefined {
  // A held snapshot's archive is kept exactly as it was taken until the hold is released
  // (docs/ARCHITECTURE.md, "Old archives folded in"); its chain folds at the first compaction after.
  if (snapshot.hold)
    return `snapshot ${snapshot.id} is on legal hold: its chain stays as taken until the hold is released`;
  return undefined;
}

/** The full snapshot the chain starts at (the id to group by), and how deep `snapshot` is. */
function rootOf(
  snapshot: Snapshot,
  byId: ReadonlyMap<string, Snapshot>,
): { id: string; depth: number; broken?: string } {
  let depth = 0;
  let at = snapshot;
  const seen = new Set<string>();
  while (at.kind === "incremental") {
    const parent = at.parentId ? byId.get(at.parentId) : undefined;
    if (!parent || seen.has(at.id) || parent.kind === "layered") {
      return {
        id: at.id,
        depth,
        broken: `snapshot ${at.id}'s chain is broken (parent ${at.parentId ?? "none"} is not an old snapshot in the index)`,
      };
    }
    seen.add(at.id);
    at = parent;
    depth++;
  }
  return { id: at.id, depth };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
