// Snapshot use case: list refs; if they equal the latest snapshot's, record a confirmation;
// else stream git pack -> bundle -> tar -> AEAD -> store, then commit the index record. The same
// path takes a snapshot with no git data, only metadata (an organization's own: org-snapshot.ts).
import { randomBytes } from "node:crypto";
import { Readable, type Writable } from "node:stream";
import { writeArchive, type ArchiveFile } from "./archive/writer.js";
import { metadataCheckpointSchema, type MetadataCheckpoint } from "./metadata/checkpoint.js";
import { recordedOutcomes } from "./metadata/outcome.js";
import type { CollectedSummary, SnapshotMetadataSource } from "./metadata/source.js";
import type { Deps, ProgressListener } from "./deps.js";
import { BackupError, ConflictError, DeadlineError, RepositoryNotFoundError } from "./errors.js";
import { REPOSITORY_KEY_REF } from "./archive/header.js";
import { lineageKeyOf, sealArchiveKey, shreddedError } from "./keys/repository-keys.js";
import { attachCleanupError, writtenAndStored } from "./first-error.js";
import { holdLease, leaseHolder } from "./lease.js";
import { bundleHeader, BundleCheck } from "./git/bundle.js";
import { fetchPack, lsRefs, type FetchedPack, type RemoteRefs } from "./git/upload-pack.js";
import { BUNDLE_PATH, WIKI_PATH } from "./archive/paths.js";
import { assertRepoName, newSnapshotId } from "./ids.js";
import { archiveKey } from "./object-keys.js";
import type { RefMap, Snapshot } from "./model.js";
import type { GitRemote } from "./ports.js";
import { chainTips, chooseParent, type IncrementalPolicy } from "./chain.js";
import { peelingOf, prerequisitesOf } from "./prerequisites.js";
import { withUnavailableLfs } from "./layers/lfs-unavailable.js";
import { LfsScan } from "./lfs/scan.js";
import { lfsSourceFor, type LfsObjectSource } from "./lfs/source.js";
import type { RetryPolicy } from "./lfs/batch.js";
import { emptyLfsSummary, lfsArchiveFiles, type LfsSummary } from "./lfs/files.js";
import { LFS_UNAVAILABLE_LISTED, type Layer, type LfsRecord } from "./model.js";
import { writeLayer } from "./layers/archive.js";
import { planLayered, type LayeredPlan } from "./layers/snapshot-plan.js";
import { drained } from "./drained.js";

export interface SnapshotOutcome {
  repo: string;
  /** "created": a new archive; "unchanged": the refs equal the latest snapshot's. */
  outcome: "created" | "unchanged";
  snapshot: Snapshot;
  seconds: number;
}

export interface SnapshotOptions {
  actor: string;
  onProgress?: ProgressListener;
  /** How long the repo's lease lasts unrenewed (default LEASE_MS); a crashed run frees it after this. */
  leaseMs?: number;
  /** Set by snapshotRepo: renews the lease, or rejects if it was lost. */
  confirmLease?: () => Promise<void>;
  /** The repository's wiki, when it has one; a wiki the host does not have (404) is no wiki. */
  wiki?: GitRemote;
  /** Build on the latest snapshot when this policy allows; false or absent: always full. */
  incremental?: IncrementalPolicy | false;
  /** Aborting stops the snapshot and commits nothing (a function about to hit its time limit). */
  signal?: AbortSignal;
  /** Where the repository's GitHub metadata comes from; absent: git data only. */
  metadata?: SnapshotMetadataSource;
  /** Store a new full snapshot even when nothing seems changed (the weekly reconciliation). */
  full?: boolean;
  /** LFS objects of the new blobs' pointers are stored unless this is false; `retry` tunes the downloads. */
  lfs?: false | { retry?: RetryPolicy };
  /**
   * Store the git objects as a shared layer (kind "layered", core/layers/) when the deps have a
   * LayerIndex; absent or false, or without one: chains as before.
   */
  layers?: boolean;
}

/**
 * Whether to look for LFS pointers in the new pack: finding them indexes the whole pack a second
 * time (about what a restore costs), so only for a repository that uses LFS as far as its host can
 * tell, or whose chain already holds LFS objects, or when the host cannot tell.
 */
async function scanForLfs(
  remote: GitRemote,
  options: SnapshotOptions,
  latest: Snapshot | undefined,
  parent: Snapshot | undefined,
): Promise<boolean> {
  if (options.lfs === false) return false;
  if (latest?.lfs || parent?.lfs) return true;
  return (await remote.usesLfs?.()) !== false;
}

export function sameRefs(a: RefMap, b: RefMap): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * Snapshots `repo` from `remote`, or, with no remote, its `options.metadata` alone (an
 * organization's own snapshot: no refs, no bundle, the same archive, keys, lease and index).
 */
export async function snapshotRepo(
  deps: Deps,
  repo: string,
  remote: GitRemote | undefined,
  options: SnapshotOptions,
): Promise<SnapshotOutcome> {
  assertRepoName(repo);
  if (!remote && !options.metadata) throw new Error(`a snapshot of ${repo} needs a git remote or metadata`);
  const started = deps.clock.now();
  const id = newSnapshotId(started);
  const lease = await holdLease(deps.index, repo, leaseHolder(id), {
    ...(options.leaseMs ? { ttlMs: options.leaseMs } : {}),
    ...(options.signal ? { outer: options.signal } : {}),
  });
  // From here on the work stops on the caller's abort or on losing the lease, whichever comes first.
  options = { ...options, signal: lease.signal, confirmLease: () => lease.confirm() };
  let failed = false;
  try {
    // A forgotten repository is not backed up again (nor confirmed: its snapshots are shredded).
    const keySet = await deps.keyRecords?.keySet(await lineageKeyOf(deps.index, repo));
    if (keySet?.shredded) throw shreddedError(keySet, `a new snapshot of ${repo}`);
    const latest = await deps.index.latest(repo);
    const wikiListed = options.wiki ? await listWiki(options.wiki) : undefined;
    const isUnchanged = (refs: RemoteRefs) =>
      latest !== undefined &&
      sameRefs(latest.refs, refs.refs) &&
      latest.head === refs.head &&
      sameRefs(latest.wikiRefs ?? {}, wikiListed?.refs ?? {}) &&
      latest.wikiHead === wikiListed?.head;
    options.onProgress?.({ repo, phase: "listing", bytes: 0 });
    const layerIndex = options.layers && remote ? deps.layers : undefined;
    // A layered snapshot whose T-snap meets a moved generation (a prune or a merge in between)
    // plans and fetches once more; a second conflict is reported.
    for (let attempt = 1; ; attempt++) {
      const plan = layerIndex
        ? await planLayered({ index: deps.index, layers: layerIndex }, repo)
        : undefined;
      try {
        const parent = plan
          ? undefined
          : await chooseParent(deps.index, latest, started, options.incremental ?? false);
        // Metadata changes move no ref: ask (conditional requests, free of rate limit) before deciding.
        const metadataChanged = options.metadata
          ? options.full ||
            (await metadataChangedSince(options.metadata, repo, latest, parent, options.signal))
          : false;
        const have = plan ? plan.have : parent ? await chainTips(deps.index, parent) : undefined;
        // With no git data the refs are none, as for a repository with no refs yet.
        const fetched: FetchedPack = remote
          ? await fetchPack(remote, {
              skip: (refs) => isUnchanged(refs) && !metadataChanged && !options.full,
              ...(have?.length ? { have } : {}),
            })
          : { refs: { refs: {} } };
        if (latest && isUnchanged(fetched.refs) && !metadataChanged && !options.full) {
          fetched.pack?.destroy();
          await deps.index.confirm(repo, latest.id, started.toISOString());
          await deps.audit.record({
            action: "snapshot.unchanged",
            repo,
            snapshotId: latest.id,
            actor: options.actor,
            outcome: "success",
          });
          const confirmed = (await deps.index.get(repo, latest.id)) ?? latest;
          return { repo, outcome: "unchanged", snapshot: confirmed, seconds: elapsed(deps, started) };
        }
        // The wiki is small and stored whole in every archive; fetched only once a new archive is due.
        const wiki = options.wiki && wikiListed ? await fetchPack(options.wiki) : undefined;
        const snapshot = await writeSnapshot(
          deps,
          {
            repo,
            // A retry writes a new archive: its key, like every key, is written once.
            id: attempt === 1 ? id : newSnapshotId(started),
            takenAt: started,
            fetched: fetched.refs,
            pack: fetched.pack,
            parent: Object.keys(fetched.refs.refs).length ? parent : undefined,
            ...(wiki?.pack ? { wiki } : {}),
            ...(latest ? { latest } : {}),
            ...(plan ? { layered: plan } : {}),
            ...(remote && (await scanForLfs(remote, options, latest, parent))
              ? { lfs: lfsSourceFor(remote, options.lfs === false ? undefined : options.lfs?.retry) }
              : {}),
          },
          options,
        );
        await deps.audit.record({
          action: "snapshot.created",
          repo,
          snapshotId: snapshot.id,
          actor: options.actor,
          outcome: "success",
          details: {
            bytes: snapshot.size,
            refs: Object.keys(snapshot.refs).length,
            objectKey: snapshot.objectKey,
          },
        });
        return { repo, outcome: "created", snapshot, seconds: elapsed(deps, started) };
      } catch (err) {
        if (!(plan && attempt === 1 && err instanceof ConflictError)) throw err;
      }
    }
  } catch (err) {
    // The first error is the one reported: a failure to record it, or to release the lease (the
    // same full disk, often), is attached to it.
    await deps.audit
      .record({
        action: "snapshot.failed",
        repo,
        actor: options.actor,
        outcome: "failure",
        details: { error: (err as Error).message },
      })
      .catch((auditErr: unknown) => attachCleanupError(err, "recording the failure", auditErr));
    failed = true;
    await lease.release().catch((releaseErr: unknown) => attachCleanupError(err, "releaseLease", releaseErr));
    throw err;
  } finally {
    if (!failed) await lease.release();
  }
}

interface SnapshotInput {
  repo: string;
  id: string;
  takenAt: Date;
  fetched: RemoteRefs;
  pack?: Readable;
  /** Set for an incremental snapshot: the pack holds only what this one lacks. */
  parent?: Snapshot;
  /** The wiki's refs and whole pack, when the repository has a wiki. */
  wiki?: FetchedPack;
  /** Where the LFS objects of the pack's pointers come from; absent: none are stored. */
  lfs?: LfsObjectSource;
  /** The latest snapshot: a full one copies the LFS objects its chain holds rather than downloading them. */
  latest?: Snapshot;
  /** A layered snapshot: the pack goes into a new layer, committed with the plan's layers (T-snap). */
  layered?: LayeredPlan;
}

async function writeSnapshot(deps: Deps, input: SnapshotInput, options: SnapshotOptions): Promise<Snapshot> {
  const { repo, id, takenAt, fetched, parent, wiki, layered } = input;
  const kind = layered ? "layered" : parent ? "incremental" : "full";
  // An incremental bundle names the commits its parent's refs lead to as prerequisites.
  const prerequisites = parent ? prerequisitesOf(parent, fetched) : [];
  const peeling = peelingOf(fetched);
  const dataKey = randomBytes(32);
  const lfs = emptyLfsSummary();
  const lfsReused = { objects: 0, bytes: 0 };
  let layerBytes = 0;
  let scan: LfsScan | undefined;
  let written: ReturnType<typeof writeArchive> | undefined;
  let layer: Layer | undefined;
  try {
    // The pack is indexed on the side as it streams, to find its LFS pointers once it has ended.
    if (input.pack && input.lfs) scan = await LfsScan.start();
    // Layered: the pack, and the LFS objects of its pointers, go into a new layer first (put before
    // record); the snapshot's own archive holds the rest. An empty pack makes no layer.
    if (layered && input.pack) {
      const scanning = scan;
      const source = input.lfs;
      layer = await writeLayer(deps, layered.lineage, input.pack, 0, {
        actor: options.actor,
        ...(options.signal ? { signal: options.signal } : {}),
        onBytes: (n) => options.onProgress?.({ repo, phase: "fetching", bytes: (layerBytes += n) }),
        ...(scanning && source
          ? {
              tee: scanning.input,
              files: lfsArchiveFiles(() => scanning.pointers(), source, lfs, options.signal),
            }
          : {}),
      });
      // Complete now: the layer's archive ends with the LFS objects, the summary filled as they came.
      if (layer)
        layer = withUnavailableLfs(
          layer,
          lfs.unavailable.map((u) => u.oid),
        );
    }
    // With key records: the data key goes to the index, wrapped by the repository's key (format
    // 2). Without: wrapped by the KMS key or key file into the header (format 1).
    const sealed = deps.keyRecords
      ? await sealArchiveKey({ ...deps, keyRecords: deps.keyRecords }, repo, id, dataKey)
      : undefined;
    if (sealed?.createdKey) {
      await deps.audit.record({
        action: "key.repository-created",
        repo,
        snapshotId: id,
        actor: options.actor,
        outcome: "success",
        details: { keyId: sealed.createdKey },
      });
    }
    const wrapped = sealed ? undefined : await deps.keys.wrap(dataKey);
    const keyRef = wrapped?.keyRef ?? REPOSITORY_KEY_REF;
    const objectKey = archiveKey(repo, takenAt, id);
    let bundleBytes = 0;
    // The wiki goes first: its fetch is answered already, and it is small; the repository's pack
    // (its request also sent) follows. A repository with no refs has no bundle.
    const gitFiles = [
      ...(wiki ? [{ path: WIKI_PATH, open: () => asBundle(wiki.refs, wiki.pack!, [], WIKI_PATH) }] : []),
      ...(input.pack && !layered
        ? [
            {
              path: BUNDLE_PATH,
              open: () => asBundle(fetched, input.pack!, prerequisites, BUNDLE_PATH, scan?.input),
            },
          ]
        : []),
    ];
    // The LFS objects follow the bundle: its pack has to end before its pointers are known.
    const scanning = scan;
    const reuse = !parent && input.latest ? { deps, latest: input.latest } : undefined;
    const lfsFiles =
      scanning && input.lfs && !layered
        ? lfsArchiveFiles(() => scanning.pointers(), input.lfs, lfs, options.signal, reuse, lfsReused)
        : [];
    // Metadata follows the git data. An incremental snapshot's collection starts from its parent's
    // checkpoint (only what changed); a full one collects everything, self-contained.
    const collection = options.metadata?.collect(repo, {
      ...(parent?.metadataCheckpoint ? { checkpoint: readCheckpoint(parent.metadataCheckpoint) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const files = concatFiles(gitFiles, lfsFiles, collection?.files ?? []);
    const archive = (written = writeArchive({
      header: {
        aead: "AES256_GCM_HKDF_1MB",
        ...(wrapped
          ? { keyRef: wrapped.keyRef, wrappedKey: wrapped.wrapped.toString("base64") }
          : { keyRef: REPOSITORY_KEY_REF }),
        snapshotId: id,
        repo,
        createdAt: takenAt.toISOString(),
      },
      dataKey,
      manifest: {
        format: 1,
        snapshotId: id,
        repo,
        takenAt: takenAt.toISOString(),
        kind,
        ...(parent ? { parentId: parent.id } : {}),
        ...(layered ? { layers: layersOf(layer, layered) } : {}),
        refs: fetched.refs,
        head: fetched.head,
        ...peeling,
        prerequisites,
        ...(wiki
          ? { wikiRefs: wiki.refs.refs, ...(wiki.refs.head ? { wikiHead: wiki.refs.head } : {}) }
          : {}),
      },
      files,
      completeManifest: async () => ({
        ...(collection ? { metadata: { kinds: (await collection.summary).kinds } } : {}),
        ...(foundLfs(lfs) && !layered ? { lfs } : {}),
      }),
      onBytes: (n) => {
        bundleBytes += n;
        options.onProgress?.({ repo, phase: "fetching", bytes: bundleBytes });
      },
    }));
    const abort = () => {
      const reason: unknown = options.signal?.reason;
      archive.stream.destroy(
        reason instanceof BackupError
          ? reason
          : new DeadlineError(
              `snapshot of ${repo} stopped: ${String(reason ?? "aborted")}; nothing was committed`,
            ),
      );
    };
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    const [manifest, stored] = await writtenAndStored(
      archive.manifest,
      deps.store.put(objectKey, archive.stream, {
        metadata: { repo, snapshotId: id, keyRef },
      }),
    ).finally(() => options.signal?.removeEventListener("abort", abort));
    const snapshot: Snapshot = {
      id,
      repo,
      // Filed where its key record is (the same lineage, unless a rename raced the snapshot).
      ...(sealed && sealed.lineage !== repo ? { lineage: sealed.lineage } : {}),
      takenAt: takenAt.toISOString(),
      kind,
      ...(parent ? { parentId: parent.id } : {}),
      ...(layered ? { layers: layersOf(layer, layered) } : {}),
      refs: fetched.refs,
      ...(fetched.head ? { head: fetched.head } : {}),
      ...peeling,
      objectKey,
      size: stored.size,
      sha256: await archive.sha256,
      bundleBytes:
        (layer?.packBytes ?? 0) +
        manifest.entries.filter((e) => e.path.startsWith("git/")).reduce((sum, e) => sum + e.size, 0),
      keyRef,
      confirmedAt: takenAt.toISOString(),
      ...(wiki ? { wikiRefs: wiki.refs.refs, ...(wiki.refs.head ? { wikiHead: wiki.refs.head } : {}) } : {}),
      ...(collection ? metadataFields(await collection.summary) : {}),
      ...(foundLfs(lfs) ? { lfs: lfsRecord(lfs, lfsReused.objects) } : {}),
    };
    // Only a holder that still has the lease commits (a stalled one may have been overtaken).
    // If the commit fails the object stays: the commit may have landed anyway (a lost reply), and
    // an object with no record is an orphan that prune collects only after re-reading the index.
    await options.confirmLease?.();
    if (layered) {
      if (!deps.layers) throw new Error("a layered snapshot needs the deps' LayerIndex");
      const basedOn = layered.basedOn.map((s) => s.id);
      await deps.layers.commitLayered(snapshot, layer, basedOn, layered.generation);
    } else {
      await deps.index.commit(snapshot);
    }
    return snapshot;
  } catch (err) {
    // Sources not read to their end (the store failed, the lease was lost) are ended, so that no
    // git process stays blocked on a pipe nobody reads (and keeps this process from exiting).
    written?.stream.destroy(err as Error);
    input.pack?.destroy();
    input.wiki?.pack?.destroy();
    throw err;
  } finally {
    dataKey.fill(0);
    await scan?.dispose();
  }
}

/**
 * The bundle: its header, then the pack as it arrives, checked (header, trailer) on the way. `tee`
 * gets the pack's bytes too, at the pace it takes them; a tee that dies is left behind (its owner
 * reports why), never the bundle.
 */
function asBundle(
  refs: RemoteRefs,
  pack: Readable,
  prerequisites: string[],
  label = BUNDLE_PATH,
  tee?: Writable,
): Readable {
  const check = new BundleCheck(label, true);
  const source = Readable.from(
    (async function* () {
      yield bundleHeader(refs.refs, refs.head, prerequisites);
      for await (const chunk of pack as AsyncIterable<Buffer>) {
        if (tee && !tee.destroyed && !tee.write(chunk)) await drained(tee);
        yield chunk;
      }
      tee?.end();
    })(),
  );
  source.on("error", (err) => check.destroy(err));
  return source.pipe(check);
}

/** A layered snapshot's layers: its new one (if the pack had objects) first, then the plan's. */
function layersOf(layer: Layer | undefined, plan: LayeredPlan): string[] {
  return [...(layer ? [layer.id] : []), ...plan.layers.map((l) => l.id)];
}

function elapsed(deps: Deps, started: Date): number {
  return (deps.clock.now().getTime() - started.getTime()) / 1000;
}

/** The archive files of each source in turn, as they come. */
async function* concatFiles(
  ...sources: (Iterable<ArchiveFile> | AsyncIterable<ArchiveFile>)[]
): AsyncGenerator<ArchiveFile> {
  for (const files of sources) yield* files;
}

/** Whether the snapshot met any LFS pointer (only then do its manifest and record say so). */
function foundLfs(summary: LfsSummary): boolean {
  return summary.objects > 0 || summary.unavailable.length > 0;
}

/** The index's short form of an LFS summary. */
function lfsRecord(summary: LfsSummary, reused: number): LfsRecord {
  const listed = summary.unavailable.slice(0, LFS_UNAVAILABLE_LISTED);
  return {
    objects: summary.objects,
    bytes: summary.bytes,
    ...(reused ? { reused } : {}),
    unavailableCount: summary.unavailable.length,
    unavailable: Object.fromEntries(
      listed.map((u) => [u.oid, u.status ? `${u.status}: ${u.reason}` : u.reason]),
    ),
  };
}

/**
 * Whether the repository's metadata may have changed since the latest snapshot's collection: true
 * when any of its conditional requests answers other than 304, or when there is no collection to
 * compare with. A collection whose checkpoint was too large to index is compared only once a new
 * chain is due (no parent), so such a repository is not snapshotted on every sweep.
 */
async function metadataChangedSince(
  source: SnapshotMetadataSource,
  repo: string,
  latest: Snapshot | undefined,
  parent: Snapshot | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const checkpoint = latest?.metadataCheckpoint ? readCheckpoint(latest.metadataCheckpoint) : undefined;
  // A source with no checkpoint (an organization's, never in a chain) is read whole every time.
  if (!checkpoint || !source.changedSince) return !latest?.metadata || parent === undefined;
  return source.changedSince(repo, checkpoint, signal ? { signal } : {});
}

/** A stored checkpoint, or undefined when it does not parse (an older layout: collect in full). */
function readCheckpoint(text: string): MetadataCheckpoint | undefined {
  try {
    const parsed = metadataCheckpointSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The largest checkpoint kept in an index record (Firestore documents stop at 1 MiB). */
export const MAX_INDEXED_CHECKPOINT_BYTES = 256 * 1024;

/** The index fields of a collection: counts, unavailable kinds, and the checkpoint if it fits. */
function metadataFields(summary: CollectedSummary): Pick<Snapshot, "metadata" | "metadataCheckpoint"> {
  const checkpoint = summary.checkpoint ? JSON.stringify(summary.checkpoint) : undefined;
  return {
    metadata: {
      ...recordedOutcomes(summary.kinds),
      requests: summary.requests.total,
      notModified: summary.requests.notModified,
    },
    ...(checkpoint !== undefined && Buffer.byteLength(checkpoint) <= MAX_INDEXED_CHECKPOINT_BYTES
      ? { metadataCheckpoint: checkpoint }
      : {}),
  };
}

/** The wiki's refs, or undefined when there is no wiki (404) or it has no refs yet. */
async function listWiki(remote: GitRemote): Promise<RemoteRefs | undefined> {
  try {
    const refs = await lsRefs(remote);
    return Object.keys(refs.refs).length ? refs : undefined;
  } catch (err) {
    if (err instanceof RepositoryNotFoundError) return undefined;
    throw err;
  }
}
