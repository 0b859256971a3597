// The mapping of a restore to GitHub: old numbers and ids to new, built from the journal (so a
// resumed restore's mapping is whole) and written beside the restore as JSON.
import { Readable } from "node:stream";
import { restoreMappingKey } from "../object-keys.js";
import type { BlobStore } from "../ports.js";
import type { RestoreSteps } from "./steps.js";

export interface RestoreMapping {
  source: string;
  target: string;
  snapshotId: string;
  /** Issue and pull request numbers, old -> new (equal when numbers were kept). */
  issues: Record<string, number>;
  /** Pull request numbers that came back as pull requests (the others came back as issues). */
  pulls: number[];
  milestones: Record<string, number>;
  labels: string[];
  /**
   * Comment ids, old -> new, by kind ("comment", "review", "review-comment"). Comments that came in
   * with an imported issue have no entry: the import endpoint does not say their ids.
   */
  comments: Record<string, Record<string, number>>;
  releases: Record<string, number>;
  assets: Record<string, number>;
}

/** Where the mapping of a restore of `snapshotId` into `target` is kept in the mapping store. */
export const mappingKey = restoreMappingKey;

export function restoreMapping(
  steps: RestoreSteps,
  about: { source: string; target: string; snapshotId: string },
): RestoreMapping {
  const numbers = (prefix: string, field: string) =>
    Object.fromEntries(steps.resultsOf(prefix).map(([old, result]) => [old, Number(result[field])]));
  return {
    ...about,
    issues: numbers("issue:", "number"),
    pulls: steps
      .resultsOf("pull:")
      .filter(([, result]) => result.pull === true)
      .map(([old]) => Number(old))
      .sort((a, b) => a - b),
    milestones: numbers("milestone:", "number"),
    labels: steps.resultsOf("label:").map(([name]) => name),
    comments: {
      comment: numbers("comment:", "id"),
      review: numbers("review:", "id"),
      "review-comment": numbers("review-comment:", "id"),
    },
    releases: numbers("release:", "id"),
    assets: numbers("asset:", "id"),
  };
}

/** Writes the mapping; a resumed or repeated restore replaces its own earlier one. */
export async function writeMapping(store: BlobStore, key: string, mapping: RestoreMapping): Promise<void> {
  if (await store.stat(key)) await store.delete(key);
  await store.put(key, Readable.from([Buffer.from(JSON.stringify(mapping, null, 2) + "\n", "utf8")]), {
    metadata: { kind: "github-restore-mapping" },
  });
}
