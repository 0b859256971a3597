// What the use cases need from the outside world, in one bundle the wiring module assembles.
import type { AuditLog, BlobStore, Clock, KeyWrapper, SnapshotIndex } from "./ports.js";

export interface Deps {
  store: BlobStore;
  index: SnapshotIndex;
  keys: KeyWrapper;
  audit: AuditLog;
  clock: Clock;
}

/** Progress of long work, for bars and log lines: bytes so far, and a total when known. */
export interface Progress {
  repo: string;
  phase: "listing" | "fetching" | "verifying" | "restoring";
  bytes: number;
  totalBytes?: number;
}

export type ProgressListener = (progress: Progress) => void;
