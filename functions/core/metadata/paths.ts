// Where GitHub metadata lives inside an archive: the one home of these path rules.
import type { MetadataKind } from "./kinds.js";

export const METADATA_DIR = "meta";

/** One JSON object per line, "\n"-terminated, UTF-8; see docs/FORMAT.md "Metadata (meta/)". */
export function kindPath(kind: MetadataKind): string {
  return `${METADATA_DIR}/${kind}.jsonl`;
}

/**
 * A release asset's bytes. Keyed by GitHub's numeric ids, never by the asset's name: names are
 * chosen by whoever uploaded them, and a path must stay a safe tar name on every system.
 */
export function assetPath(releaseId: number, assetId: number): string {
  return `${METADATA_DIR}/assets/${releaseId}/${assetId}`;
}

/**
 * An attachment's bytes, named by the hex SHA-256 of its content: the same file linked under two
 * URLs is stored once. `meta/attachments.jsonl` (kindPath("attachments")) maps URLs to these.
 */
export function attachmentPath(sha256: string): string {
  return `${METADATA_DIR}/attachments/${sha256}`;
}

/** Whether an archive path belongs to the metadata (a reader's check for unknown entries). */
export function isMetadataPath(path: string): boolean {
  return path.startsWith(`${METADATA_DIR}/`);
}
