// The smallest archive a unit test writes with writeArchive: a header for a repository key, and
// the manifest of a full snapshot with no refs, whose identity is the header's.
import type { Manifest } from "../../functions/core/archive/manifest.js";

/** A header for a repository key. */
export const TEST_HEADER = {
  aead: "AES256_GCM_HKDF_1MB" as const,
  keyRef: "repository-key" as const,
  snapshotId: "20261202T000000000Z-00000001",
  repo: "o/r",
  createdAt: "2026-12-02T00:00:00.000Z",
};

/** A full snapshot's manifest with no refs, named and dated as `header`. */
export function emptyFullManifest(header: {
  snapshotId: string;
  repo: string;
  createdAt: string;
}): Omit<Manifest, "entries"> {
  return {
    format: 1,
    snapshotId: header.snapshotId,
    repo: header.repo,
    takenAt: header.createdAt,
    kind: "full",
    refs: {},
    prerequisites: [],
  };
}
