// What the Cloud Function handlers need: the use cases' ports plus the publisher, the source host
// and deployment settings. Built by wiring.ts from the environment; tests build it on emulators.
import type { Deps } from "../core/deps.js";
import type { VerifyLevel } from "../core/model.js";
import type { BlobStore, GitRemote, Publisher, SourceHost } from "../core/ports.js";
import type { RetentionPolicy } from "../core/retention-policy.js";
import type { IncrementalPolicy } from "../core/chain.js";

export interface CloudSettings {
  /** Verify each new snapshot (VERIFY_BACKUPS), and how deeply. */
  verify: VerifyLevel | false;
  /** Repositories at least this big go to the snapshot job instead of the function. */
  largeRepoBytes: number;
  /** Stop a snapshot this long after the function started (before the platform kills it). */
  snapshotDeadlineMs: number;
  policy: RetentionPolicy;
  /** Incremental snapshots after a full one (INCREMENTAL_SNAPSHOTS), or always full. */
  incremental: IncrementalPolicy | false;
}

export interface CloudApp extends Deps {
  publisher: Publisher;
  sources: SourceHost;
  /** Where `restoreRepo` writes bundles (target kind "bucket"). */
  restoreStore: BlobStore;
  settings: CloudSettings;
  /** Creates an empty repository for a restore and gives push access to it. */
  createRepository?: (name: string, isPrivate: boolean) => Promise<GitRemote>;
}

export type AppProvider = () => Promise<CloudApp>;
