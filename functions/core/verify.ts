// Verify use case: read the archive back end to end (every segment authenticated, manifest
// hashes, index SHA-256) and check the git data, quickly (pack checksum, refs) or deeply
// (unbundle into a scratch repository and `git fsck --full`). The verdict is recorded.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Deps, ProgressListener } from "./deps.js";
import { ArchiveCorruptError, KeyError, NotFoundError } from "./errors.js";
import { BundleCheck } from "./git/bundle.js";
import { diffRefs } from "./git/local-repo.js";
import { ArchiveContents, ContentsWatch, contentArchives } from "./content-check.js";
import type { DrillCheck } from "./ports.js";
import type { RefMap, Snapshot, Verification, VerifyLevel } from "./model.js";
import { readSnapshotArchive } from "./read-snapshot.js";
import { snapshotChain, unpackChain } from "./chain.js";
import { BUNDLE_PATH, WIKI_PATH } from "./archive/paths.js";
import { finishRepository, unpackBundle, unpackWiki } from "./unpack.js";
import { lfsOidOf } from "./lfs/paths.js";
import { checkLfsObject, storeLfsObject } from "./lfs/restore.js";
import { makeScratch } from "./scratch.js";
import { checkLayered, recordLayerVerdicts } from "./layers/verify.js";

export interface VerifyOutcome {
  snapshot: Snapshot;
  verification: Verification;
  bytes: number;
  seconds: number;
}

/** Errors that mean "this backup is bad", as opposed to "could not check it right now". */
function isVerdict(err: unknown): boolean {
  return (
    err instanceof ArchiveCorruptError ||
    err instanceof NotFoundError ||
    (err instanceof KeyError && err.permanent)
  );
}

async function checkQuick(bundle: Readable, expected: RefMap, label: string): Promise<void> {
  const check = new BundleCheck(label);
  await pipeline(bundle, check, async (packs: AsyncIterable<Buffer>) => {
    for await (const _ of packs); // the check hashes as bytes pass
  });
  const diff = diffRefs(expected, check.info.refs);
  if (diff) throw new ArchiveCorruptError(`${label} refs differ from the snapshot's: ${diff}`);
}

async function checkArchive(
  deps: Deps,
  snapshot: Snapshot,
  level: VerifyLevel,
  onProgress?: ProgressListener,
): Promise<{ bytes: number; warnings: string[] }> {
  if (snapshot.kind === "layered") {
    const checked = await checkLayered(deps, snapshot, level, onProgress);
    // Its own archive's metadata, attachments and wiki (the layers hold git objects and LFS only):
    // small, read once more.
    await checkContents(deps, snapshot);
    return checked;
  }
  // Per layer is for layered snapshots; a chain's snapshot is checked deeply instead.
  if (level === "layer") level = "deep";
  const scratch = level === "deep" ? await makeScratch("verify") : undefined;
  const repoDir = scratch && join(scratch, "repo.git");
  let bytes = 0;
  const warnings = new Set<string>();
  const note = (report: { warnings: string[] }) => report.warnings.forEach((w) => warnings.add(w));
  const contents = new ArchiveContents(snapshot);
  try {
    // Deep checks an incremental snapshot on top of its parents, as a restore would read it.
    if (repoDir) await unpackChain(deps, (await snapshotChain(deps.index, snapshot)).slice(0, -1), repoDir);
    const { manifest } = await readSnapshotArchive(
      deps,
      snapshot,
      async (path, body) => {
        if (path === WIKI_PATH) {
          const wikiDir = scratch && join(scratch, "wiki.git");
          if (wikiDir) note(await unpackWiki(wikiDir, body, snapshot, "full"));
          else await checkQuick(body, snapshot.wikiRefs ?? {}, WIKI_PATH);
          return;
        }
        const oid = lfsOidOf(path);
        if (oid) {
          // Every LFS object's SHA-256 is its oid; deep also lays it out as a restore would.
          const where = `the archive of ${snapshot.id}`;
          return repoDir ? storeLfsObject(repoDir, oid, body, where) : checkLfsObject(oid, body, where);
        }
        if (path !== BUNDLE_PATH) return void (await contents.take(path, body));
        await (repoDir
          ? unpackBundle(repoDir, body, snapshot)
          : checkQuick(body, snapshot.refs, BUNDLE_PATH));
      },
      (n) =>
        onProgress?.({
          repo: snapshot.repo,
          phase: "verifying",
          bytes: (bytes += n),
          totalBytes: snapshot.size,
        }),
    );
    contents.check(manifest);
    if (repoDir && Object.keys(snapshot.refs).length) note(await finishRepository(repoDir, snapshot, "full"));
    return { bytes, warnings: [...warnings].sort() };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Every archive a restore of `snapshot` reads, read for what the restore does not check
 * (content-check.ts): metadata item counts, attachments, LFS objects (each against its oid, then
 * counted and weighed), wiki and bundle presence, manifest refs, all against the manifests and
 * the index. A chain's archives each against their own record; a layered snapshot's own archive
 * (its layers are checked against their records as they are read). Git data is drained. A drill
 * makes the same checks from its restore's read instead (ContentsWatch as the restore's
 * observer). Rejects with ArchiveCorruptError naming each archive's difference; resolves with the
 * checks made and the bytes read.
 */
export async function checkContents(
  deps: Deps,
  snapshot: Snapshot,
): Promise<{ checks: DrillCheck[]; bytes: number }> {
  const archives = await contentArchives(deps, snapshot);
  const watch = new ContentsWatch();
  let bytes = 0;
  for (const archive of archives) {
    const read = await readSnapshotArchive(deps, archive, (path, body) => watch.file(archive, path, body));
    watch.archive(archive, read.manifest);
    bytes += read.bytes;
  }
  return { checks: watch.verdict(archives), bytes };
}

export async function verifySnapshot(
  deps: Deps,
  repo: string,
  id: string,
  options: { level: VerifyLevel; actor: string; onProgress?: ProgressListener },
): Promise<VerifyOutcome> {
  const snapshot = await deps.index.get(repo, id);
  if (!snapshot) throw new NotFoundError(`no snapshot ${id} of ${repo} in the index`);
  const started = deps.clock.now();
  let verification: Verification;
  let bytes = 0;
  try {
    const checked = await checkArchive(deps, snapshot, options.level, options.onProgress);
    bytes = checked.bytes;
    verification = { verdict: "ok", level: options.level, at: deps.clock.now().toISOString() };
    // Legacy quirks git only warns about: the backup is whole and restores; say what was seen.
    if (checked.warnings.length) verification.detail = `ok with warnings: ${checked.warnings.join(", ")}`;
  } catch (err) {
    if (!isVerdict(err)) throw err; // transient: no verdict, the caller retries
    verification = {
      verdict: "failed",
      level: options.level,
      at: deps.clock.now().toISOString(),
      detail: (err as Error).message,
    };
  }
  await deps.index.recordVerification(repo, id, verification);
  await recordLayerVerdicts(deps, snapshot, verification);
  await deps.audit.record({
    action: verification.verdict === "ok" ? "verify.passed" : "verify.failed",
    repo,
    snapshotId: id,
    actor: options.actor,
    outcome: verification.verdict === "ok" ? "success" : "failure",
    details: { level: options.level, ...(verification.detail ? { detail: verification.detail } : {}) },
  });
  const seconds = (deps.clock.now().getTime() - started.getTime()) / 1000;
  return { snapshot: { ...snapshot, verification }, verification, bytes, seconds };
}
