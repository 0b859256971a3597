// Where things live in a BlobStore, in one module: archives under repos/<owner>/<repo>/<date>/,
// shared pack layers under layers/<owner>/<repo>/, restore bundles under restores/. Prune lists by these prefixes; nothing else builds a key.
import { assertRepoName } from "./ids.js";

/**
 * The health check's probe objects (`health/probe-<random>`): outside ARCHIVES_PREFIX, so prune and
 * its orphan collection never list them as archives. Each probe is deleted by the check itself.
 */
export const HEALTH_PROBE_PREFIX = "health/";

/** Everything stored for every repository. */
export const ARCHIVES_PREFIX = "repos/";

/** `repos/<owner>/<repo>/<yyyy>/<mm>/<dd>/<snapshotId>.ibk` */
export function archiveKey(repo: string, takenAt: Date, id: string): string {
  const iso = takenAt.toISOString();
  return `${repoPrefix(repo)}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${id}.ibk`;
}

/** Every archive of one repository: `repos/<owner>/<repo>/`. */
export function repoPrefix(repo: string): string {
  return `${ARCHIVES_PREFIX}${assertRepoName(repo)}/`;
}

/** A restore's bundle in the restore bucket, when the request names no key. */
export function restoreBundleKey(repo: string, stamp: string): string {
  return `restores/${assertRepoName(repo)}/${stamp}.bundle`;
}

/** The old-to-new mapping of a restore to GitHub: `restores/github/<owner>/<name>/<snapshotId>.mapping.json`. */
export function restoreMappingKey(target: string, snapshotId: string): string {
  return `restores/github/${assertRepoName(target)}/${snapshotId}.mapping.json`;
}

/**
 * The own archive of an old snapshot folded into layers, beside its old one:
 * `…/<snapshotId>.folded-<foldId>.ibk` (a fold run's id, so a retry after a crash writes a new key).
 */
export function foldedArchiveKey(legacyKey: string, foldId: string): string {
  if (!legacyKey.endsWith(".ibk")) throw new Error(`${legacyKey} is not an archive key`);
  return `${legacyKey.slice(0, -".ibk".length)}.folded-${foldId}.ibk`;
}

/**
 * Shared pack layers, apart from the snapshot archives under ARCHIVES_PREFIX: the bucket's age rules
 * match `repos/` only (infra/storage.tf), so a layer changes class only by prune's choice.
 */
export const LAYERS_PREFIX = "layers/";

/** A shared pack layer of a lineage: `layers/<lineage>/<layerId>.ibk`. */
export function layerKey(lineage: string, id: string): string {
  return `${layerPrefix(lineage)}${id}.ibk`;
}

/** The layer's object ids, stored apart: `layers/<lineage>/<layerId>.oids.ibk`. */
export function layerOidsKey(lineage: string, id: string): string {
  return `${layerPrefix(lineage)}${id}.oids.ibk`;
}

/** Where a lineage's new layers go: `layers/<lineage>/`. */
function layerPrefix(lineage: string): string {
  return `${LAYERS_PREFIX}${assertRepoName(lineage)}/`;
}

/**
 * Every prefix a lineage's layer archives may be under: `layers/<lineage>/`, and
 * `repos/<lineage>/layers/` where layers were written before they had their own prefix (their
 * records hold those keys, so they stay readable where they are).
 */
export function layerPrefixes(lineage: string): string[] {
  return [layerPrefix(lineage), `${repoPrefix(lineage)}layers/`];
}

/** Whether `key` is a layer's archive or its oids (prune's orphan collection leaves them to layer garbage). */
export function isLayerKey(key: string): boolean {
  return /^(?:layers\/[^/]+\/[^/]+|repos\/[^/]+\/[^/]+\/layers)\/[^/]+\.ibk$/.test(key);
}
