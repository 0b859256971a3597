// Compaction (docs/ARCHITECTURE.md, "Shared pack layers", Merge): folds old chains in when asked
// (compact-fold.ts) and rewrites layers under half live (compact-rewrite.ts), then carries out
// plan.ts one merge at a time. M1: decrypt the inputs' packs into a scratch bare repository
// (index-pack each) and write `git pack-objects` over the union of their oids as a new layer
// (archive.ts: both archives put, nothing named yet). M2: read the new layer's oids back from the
// store (which checks the archive whole) and require them equal to the union. M3: T-merge at the
// generation read before the plan. The inputs' archives go later, through layer garbage
// (garbage.ts), after the grace period. A crash before M3 leaves an orphan layer for garbage to
// collect; after it, nothing to undo.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, BackupError, ConflictError, describeError } from "../errors.js";
import { indexPack, initBare } from "../git/local-repo.js";
import type { OidSet } from "../git/oid-set.js";
import type { Layer } from "../model.js";
import { lfsOidOf } from "../lfs/paths.js";
import { storeLfsObject } from "../lfs/restore.js";
import { makeScratch } from "../scratch.js";
import { readLayerOids, readLayerPack } from "./archive-read.js";
import { foldLegacy, type FoldReport } from "./compact-fold.js";
import { lfsFiles, packObjects, unionOf } from "./compact-pack.js";
import { withUnavailableLfs } from "./lfs-unavailable.js";
import { intersectOf, planRewrite } from "./compact-rewrite.js";
import { writeLayer } from "./archive.js";
import { levelOf, planCompaction } from "./plan.js";

export { unionOf } from "./compact-pack.js";

export interface CompactOptions {
  actor: string;
  /**
   * The name the index lists the lineage's snapshots under: given, old full and incremental
   * snapshots are folded into layers first (compact-fold.ts).
   */
  repo?: string;
  signal?: AbortSignal;
  /** Stop after this many merges (a run's time budget); default: until no level is full. */
  maxMerges?: number;
  /**
   * With `repo`: rewrite every live layer into one holding only what kept snapshots reach
   * (compact-rewrite.ts planFull) instead of only the layers under half live.
   */
  full?: boolean;
}

export interface CompactReport {
  merges: { merged: string; inputs: string[]; objects: number; level: number }[];
  /** Old chains folded in (with `repo`). */
  fold?: FoldReport;
  /** The live-share rewrite (with `repo`): the merge that dropped objects no kept snapshot reaches, or why none ran. */
  rewrite?: { merged?: string; inputs?: string[]; objects?: number; dropped?: number; reason?: string };
}

/**
 * Merges the lineage's full levels until none is left (or `maxMerges`), replanning from the index
 * after each merge. The caller holds the repository's lease (invariant 7); a ConflictError from
 * T-merge (someone else moved the generation) ends the run with the merged layer an orphan.
 */
export async function compactLineage(
  deps: Deps,
  lineage: string,
  options: CompactOptions,
): Promise<CompactReport> {
  const layers = deps.layers;
  if (!layers) throw new BackupError(`compaction of ${lineage} needs a layer index`, { permanent: true });
  const report: CompactReport = { merges: [] };
  if (options.repo) {
    report.fold = await foldLegacy(deps, options.repo, lineage, options);
    report.rewrite = await rewriteLowShare(deps, options.repo, lineage, options);
  }
  while (report.merges.length < (options.maxMerges ?? Infinity)) {
    const { generation } = await layers.layerState(lineage);
    const [merge] = planCompaction(await layers.layers(lineage));
    if (!merge) break;
    const merged = await mergeLayers(deps, lineage, merge.inputs, options);
    const inputs = merge.inputs.map((layer) => layer.id);
    await layers.commitMerge(lineage, merged, inputs, generation);
    report.merges.push({
      merged: merged.id,
      inputs,
      objects: merged.objects,
      level: levelOf(merged.objects),
    });
    await deps.audit.record({
      action: "compact.merged",
      repo: lineage,
      actor: options.actor,
      outcome: "success",
      details: { layerId: merged.id, inputs, objects: merged.objects, bytes: merged.size },
    });
  }
  return report;
}

/**
 * The live-share rewrite (compact-rewrite.ts): the layers under half live merged into one that
 * keeps only what kept snapshots reach, committed by T-merge at the generation read before the walk.
 */
async function rewriteLowShare(
  deps: Deps,
  repo: string,
  lineage: string,
  options: CompactOptions,
): Promise<NonNullable<CompactReport["rewrite"]>> {
  const { plan, reason } = await planRewrite(deps, repo, lineage, { full: options.full === true });
  if (!plan) return { reason: reason ?? "nothing to rewrite" };
  const merged = await mergeLayers(deps, lineage, plan.inputs, options, plan.keep);
  const inputs = plan.inputs.map((layer) => layer.id);
  try {
    await deps.layers!.commitMerge(lineage, merged, inputs, plan.generation);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return { reason: describeError(err) }; // the merged layer is an orphan; the next run walks again
  }
  const dropped = plan.inputs.reduce((sum, layer) => sum + layer.objects, 0) - merged.objects;
  await deps.audit.record({
    action: "compact.rewritten",
    repo: lineage,
    actor: options.actor,
    outcome: "success",
    details: { layerId: merged.id, inputs, objects: merged.objects, dropped, full: options.full === true },
  });
  return { merged: merged.id, inputs, objects: merged.objects, dropped };
}

/**
 * M1 and M2: writes one new live layer holding exactly the union of the inputs' objects (a copy
 * held twice comes out once), or only those of it `keep` holds (a live-share rewrite), and
 * resolves with its record, not yet committed.
 */
export async function mergeLayers(
  deps: Deps,
  lineage: string,
  inputs: readonly Layer[],
  options: Pick<CompactOptions, "actor" | "signal">,
  keep?: OidSet,
): Promise<Layer> {
  const scratch = await makeScratch("compact");
  try {
    const repo = join(scratch, "merge.git");
    await initBare(repo);
    const sets: OidSet[] = [];
    // The inputs' LFS objects come along (a snapshot's LFS objects live in its layer), each once.
    const lfs = new Set<string>();
    for (const input of inputs) {
      await readLayerPack(
        deps,
        input,
        (pack) => indexPack(repo, pack),
        undefined,
        async (path, body) => {
          const oid = lfsOidOf(path);
          if (!oid || lfs.has(oid)) return void body.resume();
          await storeLfsObject(repo, oid, body, `layer ${input.id} of ${lineage}`);
          lfs.add(oid);
        },
      );
      sets.push(await readLayerOids(deps, input));
    }
    const union = keep ? intersectOf(unionOf(sets), keep) : unionOf(sets);
    const pack = packObjects(repo, union);
    const merged = await writeLayer(deps, lineage, pack.stream, levelOf(union.size), {
      actor: options.actor,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(lfs.size ? { files: lfsFiles(repo, [...lfs].sort()) } : {}),
    });
    await pack.done;
    const what = `merge of ${inputs.map((layer) => layer.id).join(", ")} in ${lineage}`;
    if (!merged) throw new ArchiveCorruptError(`${what}: git pack-objects gave no objects`);
    const written = await readLayerOids(deps, merged);
    if (!written.bytes.equals(union.bytes)) {
      throw new ArchiveCorruptError(
        `${what}: layer ${merged.id} holds ${written.size} objects, not the ${union.size} of the inputs`,
      );
    }
    return withUnavailableLfs(
      merged,
      inputs.flatMap((input) => input.lfsUnavailable ?? []),
      lfs,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
