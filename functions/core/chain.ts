// Incremental snapshots form chains: a full snapshot, then incrementals that each hold only the
// objects their parent lacked. Reading one means reading its chain, oldest first, into one repo.
import type { Deps } from "./deps.js";
import { ArchiveCorruptError } from "./errors.js";
import { initBare } from "./git/local-repo.js";
import type { Snapshot } from "./model.js";
import type { SnapshotIndex } from "./ports.js";
import { readSnapshotArchive, type ArchiveObserver } from "./read-snapshot.js";
import type { Readable } from "node:stream";
import { BUNDLE_PATH, WIKI_PATH } from "./archive/paths.js";
import { unpackBundle } from "./unpack.js";
import { lfsOidOf } from "./lfs/paths.js";
import { storeLfsObject } from "./lfs/restore.js";

/** Longest chain ever followed: a guard against a cycle in damaged index records. */
const MAX_CHAIN = 1000;

/** The snapshot's chain, full snapshot first, the snapshot itself last. */
export async function snapshotChain(
  index: Pick<SnapshotIndex, "get">,
  snapshot: Snapshot,
): Promise<Snapshot[]> {
  const chain = [snapshot];
  for (let s = snapshot; s.kind === "incremental";) {
    if (!s.parentId)
      throw new ArchiveCorruptError(`incremental snapshot ${s.id} of ${s.repo} names no parent`);
    const parent = await index.get(s.repo, s.parentId);
    if (!parent) {
      throw new ArchiveCorruptError(
        `snapshot ${s.id} of ${s.repo} builds on ${s.parentId}, which is not in the index`,
      );
    }
    if (chain.length >= MAX_CHAIN)
      throw new ArchiveCorruptError(`snapshot chain of ${snapshot.id} is longer than ${MAX_CHAIN}`);
    chain.unshift(parent);
    s = parent;
  }
  return chain;
}

/**
 * The ref tips of every snapshot of `parent`'s chain, sorted: the `have`s of an incremental built on
 * it. A restore unpacks the whole chain before the incremental, so nothing any of them reaches
 * needs sending again (a branch force-pushed back to an older state of the chain costs nothing).
 */
export async function chainTips(index: Pick<SnapshotIndex, "get">, parent: Snapshot): Promise<string[]> {
  const chain = await snapshotChain(index, parent);
  return [...new Set(chain.flatMap((snapshot) => Object.values(snapshot.refs)))].sort();
}

export interface UnpackChainOptions {
  onBytes?: (n: number) => void;
  /** Receives the wiki bundle of the chain's last snapshot (the one being read), if it has one. */
  onWiki?: (body: Readable) => Promise<void>;
  /** index-pack proves each pack's links too (see indexPack). */
  checkLinks?: boolean;
  /** Sees every archive's other files and its manifest (a drill's content check). */
  observer?: ArchiveObserver;
}

/**
 * Decrypts every archive of the chain into a new bare repository at `dir` (refs not yet set), its
 * LFS objects into the repository's git-lfs store (lfs/objects/<aa>/<bb>/<oid>), each checked.
 * Each archive is checked on the way (segments, manifest, bundle refs); with `checkLinks`, each
 * pack's links too, oldest first, so the finished repository is connected. Returns bytes read.
 */
export async function unpackChain(
  deps: Pick<Deps, "store" | "keys">,
  chain: Snapshot[],
  dir: string,
  { onBytes, onWiki, checkLinks = false, observer }: UnpackChainOptions = {},
): Promise<number> {
  let total = 0;
  await initBare(dir);
  for (const snapshot of chain) {
    const last = snapshot === chain.at(-1);
    let sawBundle = false;
    const { bytes, manifest } = await readSnapshotArchive(
      deps,
      snapshot,
      async (path, body) => {
        if (path === WIKI_PATH && last && onWiki) return onWiki(body);
        const oid = lfsOidOf(path);
        if (oid) return storeLfsObject(dir, oid, body, `the archive of ${snapshot.id}`);
        if (path !== BUNDLE_PATH) return observer ? observer.file(snapshot, path, body) : void body.resume();
        sawBundle = true;
        await unpackBundle(dir, body, snapshot, checkLinks);
      },
      onBytes,
    );
    if (!sawBundle && Object.keys(snapshot.refs).length && snapshot.kind === "full") {
      throw new ArchiveCorruptError(`archive of ${snapshot.id} has no ${BUNDLE_PATH}`);
    }
    observer?.archive(snapshot, manifest);
    total += bytes;
  }
  return total;
}

/** When a snapshot may build on the latest one instead of storing everything again. */
export interface IncrementalPolicy {
  /** At most this many incrementals after a full snapshot (bounds restore work). */
  maxChain: number;
  /** A full snapshot at least this often (bounds how much one damaged archive can affect). */
  fullEveryMs: number;
}

/**
 * The snapshot a new one may build on: the latest, unless incrementals are off, it failed
 * verification, its chain is full or old, or any link is missing from the index.
 */
export async function chooseParent(
  index: Pick<SnapshotIndex, "get">,
  latest: Snapshot | undefined,
  now: Date,
  policy: IncrementalPolicy | false,
): Promise<Snapshot | undefined> {
  if (!policy || !latest || latest.verification?.verdict === "failed") return undefined;
  // A layered snapshot's archive holds no bundle: an incremental built on it would not restore.
  if (latest.kind === "layered") return undefined;
  if (Object.keys(latest.refs).length === 0) return undefined;
  let chain: Snapshot[];
  try {
    chain = await snapshotChain(index, latest);
  } catch {
    return undefined; // a broken chain is never extended: start a new full snapshot
  }
  if (chain.length > policy.maxChain) return undefined;
  if (chain.some((s) => s.verification?.verdict === "failed")) return undefined;
  if (now.getTime() - Date.parse(chain[0]!.takenAt) >= policy.fullEveryMs) return undefined;
  return latest;
}
