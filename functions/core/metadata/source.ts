// The port: where a repository's GitHub metadata comes from, as archive files. The snapshot use case
// writes `files` into the archive beside the git data and records `summary` in the manifest and index.
import type { ArchiveFile } from "../archive/writer.js";
import type { MetadataCheckpoint } from "./checkpoint.js";
import type { MetadataKind } from "./kinds.js";
import type { KindOutcome } from "./outcome.js";

export interface CollectOptions {
  /**
   * The checkpoint of the last committed snapshot of this repository (its summary's checkpoint).
   * Absent: a full collection, self-contained (every kind whole, every release asset stored).
   * Present: an incremental one (see KindShape): unchanged kinds get no file, delta kinds only
   * what changed, and assets the checkpoint lists are not stored again.
   */
  checkpoint?: MetadataCheckpoint;
  /** Stops the collection: the files iteration rejects with the signal's reason (or DeadlineError). */
  signal?: AbortSignal;
}

/** A release asset stored by this collection. */
export interface StoredAsset {
  releaseId: number;
  assetId: number;
  name: string;
  /** Archive path (assetPath). */
  path: string;
  size: number;
  /** Hex SHA-256 of the bytes as stored. */
  sha256: string;
}

export interface MetadataSummary {
  /** Every kind, in METADATA_KINDS order. */
  kinds: Record<MetadataKind, KindOutcome>;
  assets: StoredAsset[];
  /** API requests made, and how many of them were answered 304 (those cost no rate limit). */
  requests: { total: number; notModified: number };
  /** For the next collection of this repository, once this one's snapshot is committed. */
  checkpoint: MetadataCheckpoint;
}

export interface MetadataCollection {
  /**
   * The archive files (kindPath, assetPath), in order, each opened when the archive reaches it
   * and streamed (an asset is never held whole). Pull them one at a time, reading each file's
   * stream to its end before asking for the next: later kinds depend on earlier ones.
   * Rejects with SourceError (RepositoryNotFoundError when GitHub has no such repository,
   * MetadataFormatError for an answer that is not the expected JSON, RateLimitedError, 5xx
   * after retries, 401) or DeadlineError; then nothing of the collection may be committed.
   * An error inside a file's stream is the same failure.
   */
  files: AsyncIterable<ArchiveFile>;
  /**
   * Resolves once `files` has been read to its end; rejects with the same error if the
   * collection failed or was abandoned. Safe to leave unawaited on failure (never unhandled).
   */
  summary: Promise<MetadataSummary>;
}

/** A repository's GitHub metadata: settings, issues, pull requests, releases and their assets, access. */
export interface MetadataSource {
  /**
   * Starts collecting `repo` ("owner/name"). Nothing is requested until `files` is iterated.
   * One collection per call; a collection is iterated once.
   */
  collect(repo: string, options?: CollectOptions): MetadataCollection;
  /**
   * Whether anything the checkpoint covers may have changed, with conditional requests only
   * (a 304 costs no rate limit): false when every request of the checkpoint answers 304. Any
   * other answer (200, 404, 410…) is true: the next collection will tell what. Stops at the first
   * change. Rejects like `files` for failures that are not an answer about the data (5xx after
   * retries, rate limit, unreachable, 401).
   */
  changedSince(
    repo: string,
    checkpoint: MetadataCheckpoint,
    options?: { signal?: AbortSignal },
  ): Promise<boolean>;
}

/**
 * What the snapshot path (core/snapshot.ts) takes of a metadata source: a repository's
 * (MetadataSource) or an organization's (org-snapshot.ts). Its collection's files go into the
 * archive, its summary into the manifest and the index.
 */
export interface SnapshotMetadataSource {
  collect(
    repo: string,
    options?: CollectOptions,
  ): { files: AsyncIterable<ArchiveFile>; summary: Promise<CollectedSummary> };
  /** Absent for a source that keeps no checkpoint (an organization's): see snapshot.ts. */
  changedSince?: MetadataSource["changedSince"];
}

/** The part of a collection's summary the snapshot path records. */
export interface CollectedSummary {
  kinds: Partial<Record<MetadataKind, KindOutcome>>;
  requests: { total: number; notModified: number };
  /** For the next collection; absent for a source that keeps none (each collection is whole). */
  checkpoint?: MetadataCheckpoint;
}
