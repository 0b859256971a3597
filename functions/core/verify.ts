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
  if (snapshot.kind === "layered") return checkLayered(deps, snapshot, level, onProgress);
  // Per layer is for layered snapshots; a chain's snapshot is checked deeply instead.
  if (level === "layer") level = "deep";
  const scratch = level === "deep" ? await makeScratch("verify") : undefined;
  const repoDir = scratch && join(scratch, "repo.git");
  let sawBundle = false;
  let sawWiki = false;
  let lfsObjects = 0;
  let bytes = 0;
  const warnings = new Set<string>();
  const note = (report: { warnings: string[] }) => report.warnings.forEach((w) => warnings.add(w));
  try {
    // Deep checks an incremental snapshot on top of its parents, as a restore would read it.
    if (repoDir) await unpackChain(deps, (await snapshotChain(deps.index, snapshot)).slice(0, -1), repoDir);
    const { manifest } = await readSnapshotArchive(
      deps,
      snapshot,
      async (path, body) => {
        if (path === WIKI_PATH) {
          sawWiki = true;
          const wikiDir = scratch && join(scratch, "wiki.git");
          if (wikiDir) note(await unpackWiki(wikiDir, body, snapshot, "full"));
          else await checkQuick(body, snapshot.wikiRefs ?? {}, WIKI_PATH);
          return;
        }
        const oid = lfsOidOf(path);
        if (oid) {
          // Every LFS object's SHA-256 is its oid; deep also lays it out as a restore would.
          lfsObjects += 1;
          const where = `the archive of ${snapshot.id}`;
          return repoDir ? storeLfsObject(repoDir, oid, body, where) : checkLfsObject(oid, body, where);
        }
        if (path !== BUNDLE_PATH) return void body.resume();
        sawBundle = true;
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
    const diff = diffRefs(snapshot.refs, manifest.refs);
    if (diff) throw new ArchiveCorruptError(`manifest refs differ from the index: ${diff}`);
    const wikiDiff = diffRefs(snapshot.wikiRefs ?? {}, manifest.wikiRefs ?? {});
    if (wikiDiff) throw new ArchiveCorruptError(`manifest wiki refs differ from the index: ${wikiDiff}`);
    const hasWiki = Object.keys(snapshot.wikiRefs ?? {}).length > 0;
    if (hasWiki !== sawWiki)
      throw new ArchiveCorruptError(hasWiki ? `archive has no ${WIKI_PATH}` : `unexpected ${WIKI_PATH}`);
    const lfsListed = manifest.lfs?.objects ?? 0;
    if (lfsObjects !== lfsListed || lfsListed !== (snapshot.lfs?.objects ?? 0))
      throw new ArchiveCorruptError(
        `archive holds ${lfsObjects} LFS objects; its manifest says ${lfsListed}, the index ${snapshot.lfs?.objects ?? 0}`,
      );
    const hasRefs = Object.keys(snapshot.refs).length > 0;
    if (hasRefs !== sawBundle)
      throw new ArchiveCorruptError(hasRefs ? `archive has no ${BUNDLE_PATH}` : `unexpected ${BUNDLE_PATH}`);
    if (repoDir && hasRefs) note(await finishRepository(repoDir, snapshot, "full"));
    return { bytes, warnings: [...warnings].sort() };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
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
