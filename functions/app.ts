// What an entry point is handed: the ports wired for it, its settings, and the policies the use
// cases take, derived from the settings in one place. wiring.ts builds these; the CLI commands,
// the handlers and the job only read them.
import type { Settings } from "./config/settings.js";
import type { Authorizer } from "./handlers/authz.js";
import { incrementalPolicy } from "./config/settings.js";
import type { BackupDeps, BackupPolicy } from "./core/backup.js";
import type { Deps } from "./core/deps.js";
import type { HealthOptions } from "./core/health.js";
import type { GitHubRestorePorts } from "./core/restore-github/restore-to-github.js";
import type {
  AuditReader,
  BlobStore,
  ConfigTrail,
  DeadLetters,
  DeliveryLog,
  GitRemote,
  Notifier,
  Publisher,
  QueueDrain,
  RestoreJournal,
  SourceHost,
  WebhookReceiver,
} from "./core/ports.js";

/** The local mode (the CLI): everything on this machine. */
export interface LocalApp extends BackupDeps {
  settings: Settings;
  sources: SourceHost;
  /** Where local data lives (archives, index, key, audit log). */
  dataDir: string;
  /** The data folder was opened for reading only (writes are refused; see core/read-only.ts). */
  readOnly: boolean;
  /** The audit trail read back (`audit`, `audit verify`). */
  auditTrail: AuditReader;
  /** Tells a person what needs one (the config's notifications; sends nothing without them). */
  notifier: Notifier;
  /** Adds a new key to the key file and makes it primary (keys rotate); resolves with its keyRef. */
  rotateKeyFile(): Promise<string>;
  /** Restores to GitHub (restore --to-github): with a github section, the data folder writable. */
  githubRestore?: GitHubRestorePorts;
  close(): Promise<void>;
}

/**
 * One cloud workload (a function or the job). Only the parts its WORKLOAD_PARTS name are wired;
 * reading another is a programming error that names the part (see wiring.ts).
 */
export interface CloudApp extends BackupDeps {
  settings: Settings;
  sources: SourceHost;
  publisher: Publisher;
  /** Where restoreRepo writes bundles (target kind "bucket"). */
  restoreStore: BlobStore;
  webhooks: WebhookReceiver;
  /** Webhook deliveries already published (a redelivery is not published again). */
  deliveries: DeliveryLog;
  /** Creates an empty repository for a restore and gives push access to it. */
  createRepository(name: string, isPrivate: boolean): Promise<GitRemote>;
  /** Restores to GitHub (restoreRepo's github target): the writers, the journal, the mapping's bucket. */
  githubRestore: GitHubRestorePorts;
  /** The restores' journal alone, read for restoreOrg's report. */
  restoreJournal: RestoreJournal;
  /** The audit trail read back, where the workload keeps one (those with the index). */
  auditTrail?: AuditReader;
  /** Where the sweep records a change of the deployed configuration (workloads with the index). */
  configTrail?: ConfigTrail;
  /** Tells a person (the config's email and webhooks), one message per incident across instances. */
  notifier: Notifier;
  /** Drains the large-repository subscription (the snapshot job). */
  drainLarge: QueueDrain;
  /** The dead-letter subscriptions, counted by backupHealth (absent where not wired). */
  deadLetters?: DeadLetters;
  /** Checks a caller's ID token against the roles (functions with the "callers" part). */
  authorizer: Authorizer;
}

export type AppProvider = () => Promise<CloudApp>;

/** The backup policy of the settings: the same for the CLI, the functions and the job. */
export function backupPolicy(settings: Settings, verifyWhere: "inline" | "queue"): BackupPolicy {
  const verify = settings.backup.verify;
  return {
    incremental: incrementalPolicy(settings),
    layers: settings.backup.snapshots.layers,
    verify: verify.afterBackup ? { level: verify.level, where: verifyWhere } : false,
  };
}

/** The health report's options from the settings. */
export function healthOptions(
  settings: Settings,
  expected: readonly string[],
  extra: { projectedRepos?: number } = {},
): HealthOptions {
  return {
    expected,
    policy: settings.retention,
    prices: settings.pricing,
    pricingSource: settings.pricingSource,
    newObjectClass: newObjectClass(settings),
    ...extra,
  };
}

/** The class new archives are written in: "STANDARD" in a bucket, "LOCAL" in a folder. */
export function newObjectClass(settings: Settings): string {
  return settings.backup.backend === "local" ? "LOCAL" : "STANDARD";
}

export type { Deps };
