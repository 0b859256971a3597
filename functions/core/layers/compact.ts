// Compaction (docs/ARCHITECTURE.md, "Shared pack layers", Merge): carries out plan.ts one merge at a
// time. M1: decrypt the inputs' packs into a scratch bare repository (index-pack each) and write
// `git pack-objects` over the union of their oids as a new layer (archive.ts: both archives put,
// nothing named yet). M2: read the new layer's oids back from the store (which checks the archive
// whole) and require them equal to the union. M3: T-merge at the generation read before the plan.
// The inputs' archives go later, through layer garbage (garbage.ts), after the grace period. A
// crash before M3 leaves an orphan layer for garbage to collect; after it, nothing to undo.
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { ArchiveFile } from "../archive/writer.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, BackupError } from "../errors.js";
import { startGit } from "../git/exec.js";
import { indexPack, initBare } from "../git/local-repo.js";
import { OID_BYTES, OidSet } from "../git/oid-set.js";
import type { Layer } from "../model.js";
import { lfsObjectPath, lfsOidOf, lfsStoreFile } from "../lfs/paths.js";
import { storeLfsObject } from "../lfs/restore.js";
import { makeScratch } from "../scratch.js";
import { readLayerOids, readLayerPack } from "./archive-read.js";
import { writeLayer } from "./archive.js";
import { levelOf, planCompaction } from "./plan.js";

export interface CompactOptions {
  actor: string;
  signal?: AbortSignal;
  /** Stop after this many merges (a run's time budget); default: until no level is full. */
  maxMerges?: number;
}

export interface CompactReport {
  merges: { merged: string; inputs: string[]; objects: number; level: number }[];
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
 * M1 and M2: writes one new live layer holding exactly the union of the inputs' objects (a copy
 * held twice comes out once) and resolves with its record, not yet committed.
 */
export async function mergeLayers(
  deps: Deps,
  lineage: string,
  inputs: readonly Layer[],
  options: Pick<CompactOptions, "actor" | "signal">,
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
    const union = unionOf(sets);
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
    return merged;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The LFS objects gathered in the merge's scratch repository, as archive files. */
async function* lfsFiles(repo: string, oids: readonly string[]): AsyncGenerator<ArchiveFile> {
  for (const oid of oids)
    yield { path: lfsObjectPath(oid), open: () => createReadStream(lfsStoreFile(repo, oid)) };
}

/** Sorted, distinct union of sorted sets: a merge of the inputs, 20 bytes an object. */
export function unionOf(sets: readonly OidSet[]): OidSet {
  let out = Buffer.alloc(sets.reduce((sum, set) => sum + set.bytes.length, 0));
  let used = 0;
  const at = sets.map(() => 0);
  for (;;) {
    let pick = -1;
    for (const [i, set] of sets.entries()) {
      if (at[i]! >= set.bytes.length) continue;
      if (
        pick < 0 ||
        set.bytes.compare(sets[pick]!.bytes, at[pick]!, at[pick]! + OID_BYTES, at[i]!, at[i]! + OID_BYTES) < 0
      ) {
        pick = i;
      }
    }
    if (pick < 0) break;
    const start = at[pick]!;
    const oid = sets[pick]!.bytes.subarray(start, start + OID_BYTES);
    if (used === 0 || oid.compare(out, used - OID_BYTES, used) !== 0) {
      oid.copy(out, used);
      used += OID_BYTES;
    }
    at[pick] = start + OID_BYTES;
  }
  out = out.subarray(0, used);
  return OidSet.fromBytes(out, "union of layer oids");
}

/** `git pack-objects --stdout` over exactly `oids` (a whole pack: deltas only against its own objects). */
function packObjects(repo: string, oids: OidSet): { stream: Readable; done: Promise<void> } {
  const run = startGit(["pack-objects", "--stdout", "--quiet", "--delta-base-offset"], {
    env: { GIT_DIR: repo },
    stdin: "pipe",
  });
  const stdin = run.child.stdin!;
  stdin.on("error", () => undefined); // git's own exit says what went wrong
  void (async () => {
    const lines: string[] = [];
    for (let i = 0; i < oids.size; i++) {
      lines.push(oids.at(i));
      if (lines.length === 4096 || i === oids.size - 1) {
        if (!stdin.write(`${lines.join("\n")}\n`)) await new Promise((r) => stdin.once("drain", r));
        lines.length = 0;
      }
    }
    stdin.end();
  })();
  run.done.catch(() => undefined);
  return { stream: run.child.stdout!, done: run.done };
}
