// Restore use case: choose the snapshot (latest, by id, or newest at or before a time), decrypt
// and unbundle into a fresh bare repository with exactly its refs, then leave it at a path, push
// it to a git remote, or write the plain bundle out. Nothing half-made is left on failure.
import { link, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { Deps, ProgressListener } from "./deps.js";
import { ArchiveCorruptError, ConflictError, NotFoundError, UserInputError } from "./errors.js";
import { bundleOf, fsck, pushableRefs, pushRefs } from "./git/local-repo.js";
import type { Snapshot } from "./model.js";
import type { BlobStore, GitRemote } from "./ports.js";
import { readSnapshotArchive, type ArchiveObserver } from "./read-snapshot.js";
import { snapshotChain, unpackChain } from "./chain.js";
import { displayUrl } from "./git/transport.js";
import { shortRefName } from "./git/ref-names.js";
import { BUNDLE_PATH, WIKI_PATH } from "./archive/paths.js";
import { finishRepository, unpackWiki, wikiLocation } from "./unpack.js";
import { lfsOidOf } from "./lfs/paths.js";
import {
  copyLfsStore,
  copyToLocalRepository,
  folderSink,
  storeSink,
  type LfsSink,
  type LfsWritten,
} from "./lfs/sinks.js";
import type { LfsUploadOutcome } from "./lfs/upload.js";
import { makeScratch, partialPath, sweepScratch } from "./scratch.js";
import { writeNewFile } from "./new-file.js";

export type RestoreTarget =
  | { kind: "path"; path: string }
  | {
      kind: "push";
      remote: GitRemote;
      /** Runs on the restored repository once its refs are pushed (restore-github pushes pull request heads). */
      afterPush?: (repoDir: string) => Promise<void>;
    }
  | { kind: "bundle-file"; path: string }
  /** A plain git bundle written to a BlobStore (the restore bucket) under `key`. */
  | { kind: "bundle-store"; store: BlobStore; key: string };

export interface RestoreRequest {
  repo: string;
  /** A snapshot id; or `at` (ISO time: newest snapshot at or before it); or neither (latest). */
  snapshotId?: string;
  at?: string;
  target: RestoreTarget;
}

export interface RestoreOutcome {
  snapshot: Snapshot;
  target: string;
  refs: number;
  bytes: number;
  seconds: number;
  /** The wiki, when the snapshot has one: where it went, or why it could not go there. */
  wiki?: { refs: number; target?: string; error?: string };
  /** LFS objects sent to a pushed remote's LFS server before its refs, when the snapshot has any. */
  lfs?: LfsUploadOutcome;
  /**
   * Where the snapshot's LFS objects were written, when they go beside the target (a bundle's
   * `x.lfs/` folder or bucket prefix, a pushed repository on this machine), in git-lfs's layout.
   */
  lfsObjects?: LfsWritten;
  /** What HEAD pointed to, when the snapshot says, and whether the target has it so. */
  head?: HeadOutcome;
}

export interface HeadOutcome {
  /** "refs/heads/main"; may name no ref of the snapshot (an unborn HEAD: empty repository, deleted branch). */
  ref: string;
  /** True when the target's HEAD (or GitHub's default branch) is `ref`. */
  kept: boolean;
  /** Why not, and what to run to set it by hand. */
  note?: string;
}

export async function chooseSnapshot(
  deps: Pick<Deps, "index">,
  request: Pick<RestoreRequest, "repo" | "snapshotId" | "at">,
): Promise<Snapshot> {
  const { repo, snapshotId, at } = request;
  const snapshot = snapshotId
    ? await deps.index.get(repo, snapshotId)
    : at
      ? await deps.index.atOrBefore(repo, at)
      : await deps.index.latest(repo);
  if (snapshot) return snapshot;
  if (snapshotId) throw new NotFoundError(`no snapshot ${snapshotId} of ${repo}`);
  const oldest = (await deps.index.list(repo)).at(-1);
  if (!oldest)
    throw new NotFoundError(`no snapshots of ${repo} (is the name right? see \`infinity-backup list\`)`);
  throw new NotFoundError(
    `no snapshot of ${repo} at or before ${at}; the oldest is ${oldest.id} taken ${oldest.takenAt}`,
  );
}

/**
 * Moves a finished partial file to `path`, never over an existing file: a hard link fails if
 * `path` exists (two restores to one target: the second is refused, the first's file stays).
 */
async function publishFile(partial: string, path: string): Promise<void> {
  try {
    await link(partial, path);
  } catch {
    // EEXIST: refused here, as a conflict. A file system without hard links: check, then rename
    // (a race between the two is the only gap left there).
    await assertFree(path);
    await rename(partial, path);
    return;
  }
  await rm(partial, { force: true });
}

/**
 * Renames a finished folder to `path`. A rename replaces no folder that has anything in it: when
 * another restore to the same path finished first (both passed assertFree), this one is refused
 * as a conflict and theirs stays.
 */
async function moveInto(folder: string, path: string): Promise<void> {
  await rename(folder, path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
    throw new ConflictError(
      `restore target ${path} already exists; choose a new path (restore never overwrites)`,
      { cause: err },
    );
  });
}

async function assertFree(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing)
    throw new ConflictError(
      `restore target ${path} already exists; choose a new path (restore never overwrites)`,
    );
}

/** Decrypts the snapshot (and, for an incremental, its chain) into a new bare repository at `dir`. */
async function restoreInto(
  deps: Deps,
  snapshot: Snapshot,
  dir: string,
  onBytes: (n: number) => void,
  onWiki?: (body: Readable) => Promise<void>,
  observer?: ArchiveObserver,
): Promise<number> {
  // Connectivity is proven once, never by a second pass over the objects: a deep verification on
  // record ran `git fsck --full` on exactly these bytes (reading checks each archive's SHA-256
  // against the index); without one, index-pack follows every link as it indexes.
  const verified = snapshot.verification?.verdict === "ok" && snapshot.verification.level === "deep";
  if (snapshot.kind === "layered") {
    // The layers' joined pack is index-packed with its links checked (every object any object
    // names is in it) and setRefs proves each tip is in it: together the refs' whole history.
    // Layers holding an object twice are indexed unchecked, so then links are walked from the
    // refs, unless a deep or per-layer verification (connectivity by induction) is on record.
    // Loaded here, as uploadLfsObjects below: a restore that needs neither does not pay for them.
    const { finishLayeredRefs, unpackLayered } = await import("./layers/read.js");
    const { bytes, linked } = await unpackLayered(deps, snapshot, dir, onBytes, onWiki, observer);
    await finishLayeredRefs(dir, snapshot);
    const layerVerified = snapshot.verification?.verdict === "ok" && snapshot.verification.level === "layer";
    if (!linked && !verified && !layerVerified) await fsck(dir, "connectivity");
    return bytes;
  }
  const chain = await snapshotChain(deps.index, snapshot);
  const bytes = await unpackChain(deps, chain, dir, { onBytes, onWiki, checkLinks: !verified, observer });
  await finishRepository(dir, snapshot, "refs");
  return bytes;
}

/**
 * Hands the snapshot's plain git bundle to `consume`. A full snapshot's bundle streams straight
 * out of the archive; an incremental one is rebuilt whole (chain into a scratch repository, then
 * `git bundle create --all`), so the result never needs another bundle to be usable. The chain's
 * LFS objects go, checked, into `lfs` when it is given.
 */
async function withBundle(
  deps: Deps,
  snapshot: Snapshot,
  onBytes: (n: number) => void,
  consume: (bundle: Readable) => Promise<unknown>,
  consumeWiki: (bundle: Readable) => Promise<unknown>,
  lfs?: LfsSink,
  observer?: ArchiveObserver,
): Promise<number> {
  if (snapshot.kind === "full") {
    let consumed = false;
    const { bytes, manifest } = await readSnapshotArchive(
      deps,
      snapshot,
      async (name, body) => {
        if (name === WIKI_PATH) return void (await consumeWiki(body));
        const oid = lfsOidOf(name);
        if (oid && lfs) return lfs.put(oid, body, `the archive of ${snapshot.id}`);
        if (name !== BUNDLE_PATH) return observer ? observer.file(snapshot, name, body) : void body.resume();
        consumed = true;
        await consume(body);
      },
      onBytes,
    );
    if (!consumed)
      throw new ArchiveCorruptError(`archive has no ${BUNDLE_PATH} (the repository had no refs)`);
    observer?.archive(snapshot, manifest);
    return bytes;
  }
  const scratch = await makeScratch("bundle");
  try {
    const bytes = await restoreInto(
      deps,
      snapshot,
      join(scratch, "repo.git"),
      onBytes,
      async (wiki) => void (await consumeWiki(wiki)),
      observer,
    );
    await consume(bundleOf(join(scratch, "repo.git")));
    if (lfs) await copyLfsStore(join(scratch, "repo.git"), lfs);
    return bytes;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function writeBundleFile(
  deps: Deps,
  snapshot: Snapshot,
  path: string,
  onBytes: (n: number) => void,
  observer?: ArchiveObserver,
): Promise<{ bytes: number; lfs: LfsWritten }> {
  // Partial names are this run's own: a concurrent restore never removes them, a killed run's are
  // swept here by the next one (their pid is gone).
  await sweepScratch(dirname(resolve(path)));
  const partial = partialPath(path);
  const wikiPath = wikiBundleName(path);
  const wikiPartial = partialPath(wikiPath);
  const lfsPath = lfsFolderName(path);
  const lfsPartial = partialPath(lfsPath);
  let wrote = false;
  const lfs = folderSink(lfsPartial, lfsPath);
  try {
    if (snapshot.wikiRefs) await assertFree(wikiPath);
    const bytes = await withBundle(
      deps,
      snapshot,
      onBytes,
      (body) => writeNewFile(partial, body),
      (wiki) => ((wrote = true), writeNewFile(wikiPartial, wiki)),
      lfs,
      observer,
    );
    if (await stat(lfsPartial).catch(() => undefined)) {
      await assertFree(lfsPath);
      await rename(lfsPartial, lfsPath);
    }
    if (wrote) await publishFile(wikiPartial, wikiPath);
    await publishFile(partial, path);
    return { bytes, lfs: lfs.written };
  } catch (err) {
    await Promise.all([
      rm(partial, { force: true }),
      rm(wikiPartial, { force: true }),
      rm(lfsPartial, { recursive: true, force: true }),
    ]);
    throw err;
  }
}

/**
 * "x.bundle" -> "x.lfs": where a bundle target's LFS objects go, laid out as git-lfs keeps them
 * (`<aa>/<bb>/<oid>`), to copy into a clone's `.git/lfs/objects`.
 */
export function lfsFolderName(target: string): string {
  return target.replace(/(\.bundle)?$/, ".lfs");
}

/** "x.bundle" -> "x.wiki.bundle": where a bundle target's wiki goes. */
export function wikiBundleName(target: string): string {
  return target.replace(/(\.bundle)?$/, ".wiki.bundle");
}

/**
 * Streams the bundle into `store` (put is atomic: a failed read leaves no object), the wiki beside
 * it, and the chain's LFS objects under `x.lfs/<aa>/<bb>/<oid>`. A restore that fails part way
 * removes what it wrote.
 */
async function writeBundleToStore(
  deps: Deps,
  snapshot: Snapshot,
  store: BlobStore,
  key: string,
  onBytes: (n: number) => void,
  observer?: ArchiveObserver,
): Promise<{ bytes: number; lfs: LfsWritten }> {
  const lfsPrefix = lfsFolderName(key);
  if (await store.stat(key))
    throw new ConflictError(`restore target ${key} already exists (restore never overwrites)`);
  for await (const taken of store.list(`${lfsPrefix}/`))
    throw new ConflictError(`restore target ${key}: ${taken.key} already exists (restore never overwrites)`);
  const metadata = { repo: snapshot.repo, snapshotId: snapshot.id };
  const lfs = storeSink(store, lfsPrefix, metadata);
  const written: string[] = [];
  try {
    const bytes = await withBundle(
      deps,
      snapshot,
      onBytes,
      (body) => store.put(key, body, { metadata }).then(() => written.push(key)),
      (wiki) =>
        store.put(wikiBundleName(key), wiki, { metadata }).then(() => written.push(wikiBundleName(key))),
      lfs,
      observer,
    );
    return { bytes, lfs: lfs.written };
  } catch (err) {
    await Promise.all([...written, ...lfs.keys].map((k) => store.delete(k).catch(() => undefined)));
    throw err;
  }
}

export interface RestoreOptions {
  actor: string;
  onProgress?: ProgressListener;
  /**
   * Sees each archive the restore reads, as it reads it (its files the restore does not use, then
   * its manifest): a drill checks their contents without reading any archive a second time.
   */
  observer?: ArchiveObserver;
}

export async function restoreRepo(
  deps: Deps,
  request: RestoreRequest,
  options: RestoreOptions,
): Promise<RestoreOutcome> {
  const started = deps.clock.now();
  const snapshot = await chooseSnapshot(deps, request);
  let progressBytes = 0;
  const onBytes = (n: number) =>
    options.onProgress?.({
      repo: snapshot.repo,
      phase: "restoring",
      bytes: (progressBytes += n),
      totalBytes: snapshot.size,
    });
  const target = request.target;
  let where: string;
  let bytes: number;
  let wiki: RestoreOutcome["wiki"];
  let lfs: LfsUploadOutcome | undefined;
  let lfsObjects: LfsWritten | undefined;
  let head: HeadOutcome | undefined;
  try {
    if (target.kind === "bundle-store" || target.kind === "bundle-file") assertBundleable(snapshot);
    if (target.kind === "bundle-store") {
      where = target.key;
      ({ bytes, lfs: lfsObjects } = await writeBundleToStore(
        deps,
        snapshot,
        target.store,
        target.key,
        onBytes,
        options.observer,
      ));
    } else if (target.kind === "bundle-file") {
      where = resolve(target.path);
      await assertFree(where);
      ({ bytes, lfs: lfsObjects } = await writeBundleFile(deps, snapshot, where, onBytes, options.observer));
    } else {
      const finalPath = target.kind === "path" ? resolve(target.path) : undefined;
      const hasWiki = Object.keys(snapshot.wikiRefs ?? {}).length > 0;
      if (finalPath) {
        await assertFree(finalPath);
        if (hasWiki) await assertFree(wikiLocation(finalPath));
        await mkdir(dirname(finalPath), { recursive: true });
      }
      // Beside the target (a rename into place, same file system), hidden; else the temp folder.
      const scratch = finalPath
        ? await makeScratch("restore", dirname(finalPath), true)
        : await makeScratch("restore");
      try {
        const wikiDir = join(scratch, "wiki.git");
        bytes = await restoreInto(
          deps,
          snapshot,
          join(scratch, "repo.git"),
          onBytes,
          async (body) => void (await unpackWiki(wikiDir, body, snapshot, "connectivity")),
          options.observer,
        );
        if (target.kind === "push") {
          // LFS objects go first: a pointer pushed without its object checks out as a pointer.
          const http = /^https?:\/\//i.test(target.remote.url);
          if (http) {
            const { uploadLfsObjects } = await import("./lfs/upload.js");
            const uploaded = await uploadLfsObjects(join(scratch, "repo.git"), target.remote);
            if (uploaded.objects) lfs = uploaded;
          }
          await pushRefs(join(scratch, "repo.git"), target.remote, pushableRefs(snapshot.refs));
          // A repository on this machine gets them in its own store once the push shows it is one.
          if (!http) lfsObjects = await copyToLocalRepository(join(scratch, "repo.git"), target.remote.url);
          await target.afterPush?.(join(scratch, "repo.git"));
          if (hasWiki) wiki = await pushWiki(wikiDir, target.remote, snapshot);
          head = await pushHead(target.remote, snapshot);
        }
        if (finalPath) {
          if (hasWiki) {
            await moveInto(wikiDir, wikiLocation(finalPath));
            wiki = { refs: Object.keys(snapshot.wikiRefs!).length, target: wikiLocation(finalPath) };
          }
          await moveInto(join(scratch, "repo.git"), finalPath);
        }
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      where = target.kind === "push" ? displayUrl(target.remote.url) : finalPath!;
    }
    // A folder's HEAD is set exactly (finishRepository); a bundle says only which object HEAD is at.
    if (snapshot.head && target.kind !== "push")
      head =
        target.kind === "path" ? { ref: snapshot.head, kept: true } : bundleHead(snapshot, snapshot.head);
  } catch (err) {
    await deps.audit.record({
      action: "restore.failed",
      repo: snapshot.repo,
      snapshotId: snapshot.id,
      actor: options.actor,
      outcome: "failure",
      details: { error: (err as Error).message },
    });
    throw err;
  }
  const seconds = (deps.clock.now().getTime() - started.getTime()) / 1000;
  const refs = Object.keys(snapshot.refs).length;
  await deps.audit.record({
    action: "restore.completed",
    repo: snapshot.repo,
    snapshotId: snapshot.id,
    actor: options.actor,
    outcome: "success",
    details: {
      target: where,
      refs,
      bytes,
      seconds,
      ...(wiki ? { wiki } : {}),
      ...(head ? { head } : {}),
      ...(lfs ? { lfs } : {}),
      ...(lfsObjects?.objects ? { lfsObjects } : {}),
    },
  });
  return {
    snapshot,
    target: where,
    refs,
    bytes,
    seconds,
    ...(wiki ? { wiki } : {}),
    ...(head ? { head } : {}),
    ...(lfs ? { lfs } : {}),
    ...(lfsObjects?.objects ? { lfsObjects } : {}),
  };
}

/**
 * A git bundle needs at least one ref: a snapshot of an empty repository (or one whose refs are
 * all gone) is refused as a bundle target, before anything is read or written.
 */
function assertBundleable(snapshot: Snapshot): void {
  if (Object.keys(snapshot.refs).length) return;
  const head = snapshot.head ? `, HEAD -> ${shortRefName(snapshot.head)}` : "";
  throw new UserInputError(
    `snapshot ${snapshot.id} of ${snapshot.repo} has no refs (an empty repository${head}): a git bundle ` +
      `cannot hold it; restore it to a folder or a new repository instead`,
  );
}

/**
 * What a bundle keeps of HEAD: its `HEAD` line names a commit, and `git clone` takes a branch at
 * that commit (the default name first), so HEAD is kept only when no other branch is there too.
 */
function bundleHead(snapshot: Snapshot, ref: string): HeadOutcome {
  const oid = snapshot.refs[ref];
  const fix = `after cloning it, run \`git symbolic-ref HEAD ${ref}\``;
  if (oid === undefined)
    return {
      ref,
      kept: false,
      note: `HEAD pointed to ${shortRefName(ref)}, which had no commit (unborn); a bundle cannot say so: ${fix}`,
    };
  const sharing = Object.keys(snapshot.refs).filter(
    (name) => name !== ref && name.startsWith("refs/heads/") && snapshot.refs[name] === oid,
  );
  if (sharing.length === 0) return { ref, kept: true };
  return {
    ref,
    kept: false,
    note:
      `a bundle names only HEAD's commit, which ${shortRefName(sharing[0]!)}` +
      `${sharing.length > 1 ? ` and ${sharing.length - 1} more` : ""} also point to: ${fix}`,
  };
}

/**
 * After a push, the remote's HEAD: a plain git push cannot set it, a GitHub repository can
 * (its default branch), once the branch exists there.
 */
async function pushHead(remote: GitRemote, snapshot: Snapshot): Promise<HeadOutcome | undefined> {
  const ref = snapshot.head;
  if (!ref) return undefined;
  const short = shortRefName(ref);
  if (snapshot.refs[ref] === undefined)
    return {
      ref,
      kept: false,
      note: `HEAD pointed to ${short}, which had no commit (unborn); no branch of that name could be made the default`,
    };
  if (!ref.startsWith("refs/heads/"))
    return { ref, kept: false, note: `HEAD pointed to ${short}, not a branch; a default branch must be one` };
  if (!remote.setDefaultBranch)
    return {
      ref,
      kept: false,
      note: `a push cannot set the remote's HEAD: make ${short} its default branch`,
    };
  try {
    await remote.setDefaultBranch(ref.slice("refs/heads/".length));
    return { ref, kept: true };
  } catch (err) {
    return {
      ref,
      kept: false,
      note: `the default branch was not set to ${short}: ${(err as Error).message}`,
    };
  }
}

/**
 * Pushes the restored wiki beside the repository ("<repo>.wiki.git"). A wiki that cannot take the
 * push (GitHub creates a wiki's repository only once its first page exists) is reported, not
 * fatal: the code is restored either way.
 */
async function pushWiki(
  wikiDir: string,
  remote: GitRemote,
  snapshot: Snapshot,
): Promise<RestoreOutcome["wiki"]> {
  const wikiRemote = { ...remote, url: wikiLocation(remote.url) };
  const refs = Object.keys(snapshot.wikiRefs ?? {}).length;
  try {
    await pushRefs(wikiDir, wikiRemote, snapshot.wikiRefs ?? {});
    return { refs, target: displayUrl(wikiRemote.url) };
  } catch (err) {
    const where = displayUrl(wikiRemote.url);
    return { refs, target: where, error: `wiki not pushed to ${where}: ${(err as Error).message}` };
  }
}
