// The fold, compaction's first step (docs/ARCHITECTURE.md, "Old archives folded in"): each old
// chain (a full snapshot and its incrementals) becomes layered. F1: the chain's archives are read
// into one scratch repository (archive-legacy.ts) and its connectivity from every tip is checked.
// F2: the chain's objects no live layer holds are written as a new layer (with the chain's LFS
// objects), read back and required equal to that set. F3: each snapshot gets its own archive of
// the layered kind, naming the new layer and the live layers holding the rest, its GitHub metadata
// whole (the chain replayed up to it, fold-metadata.ts). F4: T-fold at the
// generation read before F1. The old archives stay, named by retired legacy records, until layer
// garbage deletes them after the grace period (invariant 4). A crash before F4 leaves orphans
// (prune collects them), after it nothing to undo. Then each folded snapshot is verified at level
// "layer" and the verdicts recorded.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, ConflictError, describeError } from "../errors.js";
import { fsck, initBare, setRefs } from "../git/local-repo.js";
import { OID_BYTES, OidSet, packOidSet } from "../git/oid-set.js";
import { newSnapshotId } from "../ids.js";
import type { Layer, Snapshot } from "../model.js";
import { makeScratch } from "../scratch.js";
import { verifySnapshot } from "../verify.js";
import { readLegacyChain, writeFoldedArchive } from "./archive-legacy.js";
import { readLayerOids } from "./archive-read.js";
import { writeLayer } from "./archive.js";
import { MetadataReplay } from "./fold-metadata.js";
import { lfsFiles, packObjects, unionOf } from "./compact-pack.js";
import { withUnavailableLfs } from "./lfs-unavailable.js";
import { levelOf } from "./plan.js";
import { planFold } from "./plan-fold.js";

export interface FoldOptions {
  actor: string;
  signal?: AbortSignal;
}

export interface FoldReport {
  /**
   * Chains folded: the new layer (if any objects were new), the snapshots, the objects it holds,
   * and the snapshots the verification right after the fold did not pass (a failed verdict, or a
   * check that could not run), when any.
   */
  folded: {
    layerId?: string;
    snapshots: string[];
    objects: number;
    unverified?: { id: string; detail: string }[];
  }[];
  /** Chains left as they are, and why. */
  skipped: { snapshots: string[]; reason: string }[];
}

/**
 * Folds every old chain of `repo` (filed under `lineage`), oldest first, one T-fold each. The
 * caller holds the repository's lease (invariant 7). A ConflictError (the generation moved) ends
 * the run with what was written an orphan; the next run plans again.
 */
export async function foldLegacy(
  deps: Deps,
  repo: string,
  lineage: string,
  options: FoldOptions,
): Promise<FoldReport> {
  const report: FoldReport = { folded: [], skipped: [] };
  for (const chain of planFold(await deps.index.list(repo))) {
    const ids = chain.snapshots.map((snapshot) => snapshot.id);
    if (chain.skip) {
      report.skipped.push({ snapshots: ids, reason: chain.skip });
      continue;
    }
    try {
      const folded = await foldChain(deps, lineage, chain.snapshots, options);
      if (!folded) {
        report.skipped.push({ snapshots: ids, reason: "the chain holds no git objects" });
        continue;
      }
      const unverified = await verifyFolded(deps, repo, ids, options.actor);
      report.folded.push({ ...folded, ...(unverified.length ? { unverified } : {}) });
      await deps.audit.record({
        action: "compact.folded",
        repo,
        actor: options.actor,
        outcome: "success",
        details: {
          ...(folded.layerId ? { layerId: folded.layerId } : {}),
          snapshots: ids,
          objects: folded.objects,
          ...(unverified.length ? { unverified: unverified.map((u) => u.id) } : {}),
        },
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      report.skipped.push({ snapshots: ids, reason: describeError(err) });
      break;
    }
  }
  return report;
}

/**
 * Right after T-fold: each folded snapshot verified at level "layer" (the fold's new layer read
 * whole and its links checked once, its own archive's contents against its record), the verdicts
 * recorded on the snapshots and the layer, so a snapshot whose bytes were just checked is never
 * shown unverified. Resolves with those that did not pass; a check that could not run leaves its
 * snapshot unverified, as the fold left it, for the next verification.
 */
async function verifyFolded(
  deps: Deps,
  repo: string,
  ids: readonly string[],
  actor: string,
): Promise<{ id: string; detail: string }[]> {
  const unverified = [];
  for (const id of ids) {
    try {
      const { verification } = await verifySnapshot(deps, repo, id, { level: "layer", actor });
      if (verification.verdict !== "ok") unverified.push({ id, detail: verification.detail ?? "failed" });
    } catch (err) {
      unverified.push({ id, detail: describeError(err) });
    }
  }
  return unverified;
}

/** F1-F4 for one chain; undefined when the chain has no object at all (nothing to fold into). */
async function foldChain(
  deps: Deps,
  lineage: string,
  chain: readonly Snapshot[],
  options: FoldOptions,
): Promise<FoldReport["folded"][number] | undefined> {
  const index = deps.layers!;
  const { generation } = await index.layerState(lineage);
  const live = (await index.layers(lineage)).filter((layer) => layer.state === "live");
  const scratch = await makeScratch("fold");
  try {
    const repo = join(scratch, "fold.git");
    await initBare(repo);
    // F1: the chain whole, connected from every tip of every snapshot of it.
    const { members, lfs } = await readLegacyChain(deps, chain, repo, join(scratch, "files"));
    const tips = [...new Set(chain.flatMap((snapshot) => Object.values(snapshot.refs)))];
    if (tips.length === 0) return undefined;
    await setRefs(repo, Object.fromEntries(tips.map((oid, i) => [`refs/fold/${i}`, oid])));
    await fsck(repo, "connectivity");
    const objects = await oidsIn(repo);

    // F2: what no live layer holds goes into a new layer; the live layers holding the rest are named.
    const named: Layer[] = [];
    const held: OidSet[] = [];
    for (const layer of live) {
      const oids = await readLayerOids(deps, layer);
      if (sharesAny(objects, oids)) {
        named.push(layer);
        held.push(oids);
      }
    }
    let fresh = differenceOf(objects, held);
    // LFS objects live in a layer: a chain whose objects are all held still gets one, for them.
    if (fresh.size === 0 && lfs.length > 0) fresh = objects;
    // What the chain's archives and records say the source could not give, kept on the new layer.
    const unavailable = members.flatMap(({ snapshot, manifest }) => [
      ...(manifest.lfs?.unavailable ?? []).map((u) => u.oid),
      ...Object.keys(snapshot.lfs?.unavailable ?? {}),
    ]);
    const written =
      fresh.size > 0 ? await writeFoldLayer(deps, lineage, repo, fresh, lfs, options) : undefined;
    const layer = written && withUnavailableLfs(written, unavailable, lfs);
    const layers = [...(layer ? [layer.id] : []), ...named.map((l) => l.id)];

    // F3: each snapshot's own archive, then F4.
    const now = deps.clock.now();
    const foldId = newSnapshotId(now);
    // Each snapshot's metadata whole: its chain replayed up to it, written before the next is replayed.
    const replay = new MetadataReplay(join(scratch, "metadata"));
    await mkdir(join(scratch, "metadata"));
    const snapshots = [];
    for (const member of members) {
      const metadata = await replay.next(member);
      snapshots.push(await writeFoldedArchive(deps, member, metadata, layers, foldId));
    }
    const legacy = chain.map((snapshot): Layer => ({
      id: newSnapshotId(now),
      lineage,
      level: "legacy",
      objectKey: snapshot.objectKey,
      size: snapshot.size,
      sha256: snapshot.sha256,
      // An old archive has no oids archive of its own; its key is named again so garbage deletes it once.
      oidsKey: snapshot.objectKey,
      oidsSize: 0,
      oidsSha256: snapshot.sha256,
      objects: 0,
      packBytes: snapshot.bundleBytes,
      keyRef: snapshot.keyRef,
      createdAt: snapshot.takenAt,
      state: "retired",
      stateAt: now.toISOString(),
      replacedBy: layers,
    }));
    await index.commitFold(lineage, { ...(layer ? { layer } : {}), legacy, snapshots }, generation);
    return {
      ...(layer ? { layerId: layer.id } : {}),
      snapshots: chain.map((snapshot) => snapshot.id),
      objects: fresh.size,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** F2: the new layer over exactly `oids`, read back from the store and required equal to them. */
async function writeFoldLayer(
  deps: Deps,
  lineage: string,
  repo: string,
  oids: OidSet,
  lfs: string[],
  options: FoldOptions,
): Promise<Layer> {
  const pack = packObjects(repo, oids);
  const layer = await writeLayer(deps, lineage, pack.stream, levelOf(oids.size), {
    actor: options.actor,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(lfs.length ? { files: lfsFiles(repo, lfs) } : {}),
  });
  await pack.done;
  const what = `fold of old archives of ${lineage}`;
  if (!layer) throw new ArchiveCorruptError(`${what}: git pack-objects gave no objects`);
  const written = await readLayerOids(deps, layer);
  if (!written.bytes.equals(oids.bytes)) {
    throw new ArchiveCorruptError(
      `${what}: layer ${layer.id} holds ${written.size} objects, not ${oids.size}`,
    );
  }
  return layer;
}

/** Every object of the repository's packs (index-pack --fix-thin may have added bases: all count). */
async function oidsIn(repo: string): Promise<OidSet> {
  const dir = join(repo, "objects", "pack");
  const sets = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(".idx")).sort())
    sets.push(await packOidSet(join(dir, name)));
  return unionOf(sets);
}

function sharesAny(a: OidSet, b: OidSet): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (let i = 0; i < small.size; i++) if (large.has(oidAt(small, i))) return true;
  return false;
}

/** The objects of `set` none of `minus` holds, sorted as `set` is. */
function differenceOf(set: OidSet, minus: readonly OidSet[]): OidSet {
  const out = Buffer.alloc(set.bytes.length);
  let used = 0;
  for (let i = 0; i < set.size; i++) {
    const oid = oidAt(set, i);
    if (minus.some((other) => other.has(oid))) continue;
    oid.copy(out, used);
    used += OID_BYTES;
  }
  return OidSet.fromBytes(out.subarray(0, used), "objects no live layer holds");
}

function oidAt(set: OidSet, i: number): Buffer {
  return set.bytes.subarray(i * OID_BYTES, (i + 1) * OID_BYTES);
}
