// What the use cases need from the outside world, in one bundle the wiring module assembles.
import type {
  AuditLog,
  BlobStore,
  Clock,
  ClassCheckpoints,
  DrillRecords,
  KeyRecords,
  KeyWrapper,
  LayerIndex,
  RedactionList,
  SnapshotIndex,
} from "./ports.js";

export interface Deps {
  store: BlobStore;
  index: SnapshotIndex;
  keys: KeyWrapper;
  /**
   * The index's key records (per-repository keys, archives' data keys). Given: new archives get
   * their data key wrapped by the repository's key (format 2). Absent: wrapped by `keys` directly
   * (format 1), as before per-repository keys; reading a format 2 archive then fails clearly.
   */
  keyRecords?: KeyRecords;
  /** The redaction list every read of metadata applies (core/metadata/redaction.ts). */
  redactions?: RedactionList;
  audit: AuditLog;
  clock: Clock;
  /** The layer records of layered snapshots; absent: a backend without layers (snapshots as chains). */
  layers?: LayerIndex;
  /** Restore drill results (core/drill.ts); absent: drills are in the audit trail only. */
  drills?: DrillRecords;
  /** Storage-class replays kept between processes (core/class-checkpoints.ts); absent: none kept. */
  classCheckpoints?: ClassCheckpoints;
}

/** Progress of long work, for bars and log lines: bytes so far, and a total when known. */
export interface Progress {
  repo: string;
  phase: "listing" | "fetching" | "verifying" | "restoring";
  bytes: number;
  totalBytes?: number;
}

export type ProgressListener = (progress: Progress) => void;
