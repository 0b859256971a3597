// The one place that chooses adapters: from the config and the environment to a set of ports.
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ConfigSourceHost } from "./adapters/local/config-sources.js";
import { FsBlobStore } from "./adapters/local/fs-blob-store.js";
import { JsonlAuditLog } from "./adapters/local/jsonl-audit-log.js";
import { KeyFileWrapper } from "./adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "./adapters/local/sqlite-index.js";
import { applyEnvironment, backupConfigSchema, type BackupConfig } from "./config/backup-config.js";
import { loadConfigFile } from "./config/load.js";
import type { Deps } from "./core/deps.js";
import { UserInputError } from "./core/errors.js";
import { systemClock, type Clock, type SourceHost } from "./core/ports.js";
import { DEFAULT_RETENTION_POLICY } from "./core/retention-policy.js";
import type { CloudApp } from "./handlers/cloud-app.js";
import { cloudEnvSchema } from "./config/cloud-env.js";
import { parseMessage } from "./core/messages.js";

export type { CloudApp };

export interface App extends Deps {
  config: BackupConfig;
  sources: SourceHost;
  /** Where local data lives (archives, index, key, audit log). */
  dataDir: string;
  close(): Promise<void>;
}

export const DEFAULT_CONFIG = "config/backup-config.yaml";

export async function loadBackupConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BackupConfig> {
  return applyEnvironment(await loadConfigFile(backupConfigSchema, file), env);
}

/** Paths in the config are relative to the project folder: the parent of config/. */
export function projectDir(configFile: string): string {
  const dir = dirname(resolve(configFile));
  return dir.endsWith("/config") ? dirname(dir) : dir;
}

export async function openApp(
  configFile: string,
  options: { clock?: Clock; env?: NodeJS.ProcessEnv } = {},
): Promise<App> {
  const config = await loadBackupConfig(configFile, options.env);
  const clock = options.clock ?? systemClock;
  const base = projectDir(configFile);
  if (config.backend !== "local") {
    throw new UserInputError(
      `${configFile}: backend "${config.backend}" runs as Cloud Functions (see docs/DEPLOY.md); the CLI works on the local backend`,
    );
  }
  const dataDir = resolve(base, config.local.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const index = new SqliteSnapshotIndex({ path: join(dataDir, "index.sqlite"), clock });
  try {
    // A new key only for an empty index: existing archives need the key they were made with.
    const hasSnapshots = (await index.repos()).length > 0;
    const keys = await KeyFileWrapper.open(join(dataDir, "keys.json"), { create: !hasSnapshots, clock });
    return {
      config,
      dataDir,
      clock,
      index,
      keys,
      store: new FsBlobStore({ root: join(dataDir, "archives"), clock }),
      audit: new JsonlAuditLog({ path: join(dataDir, "audit.jsonl"), clock }),
      sources: new ConfigSourceHost(config.sources, base),
      async close() {
        index.close();
      },
    };
  } catch (err) {
    index.close();
    throw err;
  }
}

/** SDK clients a test (or another runtime) may supply instead of the ones built from the env. */
export interface CloudOverrides {
  storage?: import("@google-cloud/storage").Storage;
  firestore?: import("@google-cloud/firestore").Firestore;
  kms?: import("@google-cloud/kms").KeyManagementServiceClient;
  pubsub?: import("@google-cloud/pubsub").PubSub;
  sources?: SourceHost;
  clock?: Clock;
}

/**
 * The cloud deployment's app, from its environment (set by infra/functions.tf). SDKs are loaded
 * here, lazily, so the CLI does not pay for them. Errors name the variable, never its value.
 */
export async function cloudAppFromEnv(
  env: NodeJS.ProcessEnv,
  overrides: CloudOverrides = {},
): Promise<CloudApp> {
  const e = parseMessage(cloudEnvSchema, env, "environment");
  const [{ Storage }, { Firestore }, { KeyManagementServiceClient }, { PubSub }] = await Promise.all([
    import("@google-cloud/storage"),
    import("@google-cloud/firestore"),
    import("@google-cloud/kms"),
    import("@google-cloud/pubsub"),
  ]);
  const [
    { GcsBlobStore },
    { FirestoreSnapshotIndex },
    { KmsKeyWrapper },
    { PubSubPublisher },
    { LogAuditLog },
  ] = await Promise.all([
    import("./adapters/gcp/gcs-blob-store.js"),
    import("./adapters/gcp/firestore-index.js"),
    import("./adapters/gcp/kms-key-wrapper.js"),
    import("./adapters/gcp/pubsub-publisher.js"),
    import("./adapters/gcp/log-audit.js"),
  ]);
  const clock = overrides.clock ?? systemClock;
  const storage = overrides.storage ?? new Storage({ projectId: e.GOOGLE_CLOUD_PROJECT });
  const firestore =
    overrides.firestore ??
    new Firestore({ projectId: e.GOOGLE_CLOUD_PROJECT, databaseId: e.FIRESTORE_DATABASE });
  const github = overrides.sources ? undefined : await githubSource(e, clock);
  const sources = overrides.sources ?? github!;
  const { applyRetentionEnv } = await import("./config/retention-env.js");
  return {
    clock,
    store: new GcsBlobStore({
      storage,
      bucket: e.BACKUP_LOCATION.slice("gs://".length).replace(/\/.*$/, ""),
      clock,
    }),
    restoreStore: new GcsBlobStore({ storage, bucket: e.RESTORE_BUCKET, clock }),
    index: new FirestoreSnapshotIndex({ firestore, clock }),
    keys: new KmsKeyWrapper({
      client: overrides.kms ?? new KeyManagementServiceClient(),
      keyName: e.KMS_KEY_NAME,
    }),
    publisher: new PubSubPublisher({
      pubsub: overrides.pubsub ?? new PubSub({ projectId: e.GOOGLE_CLOUD_PROJECT }),
      topicNames: {
        "snapshot-requests": e.SNAPSHOT_TOPIC,
        "verify-requests": e.VERIFY_TOPIC,
        "snapshot-large": e.LARGE_SNAPSHOT_TOPIC,
        "prune-requests": e.PRUNE_TOPIC,
      },
    }),
    audit: new LogAuditLog(),
    sources,
    settings: {
      verify: e.VERIFY_BACKUPS ? e.VERIFY_LEVEL : false,
      largeRepoBytes: e.LARGE_REPO_BYTES,
      snapshotDeadlineMs: e.SNAPSHOT_DEADLINE_SECONDS * 1000,
      policy: applyRetentionEnv(DEFAULT_RETENTION_POLICY, env),
      incremental: e.INCREMENTAL_SNAPSHOTS ? { maxChain: e.MAX_CHAIN, fullEveryMs: 20 * 3600 * 1000 } : false, // the daily sweep is always a full one
    },
    ...(github
      ? {
          createRepository: async (name: string, isPrivate: boolean) =>
            github.gitRemote(await github.createRepo(name, { private: isPrivate })),
        }
      : {}),
  };
}

async function githubSource(e: ReturnType<typeof cloudEnvSchema.parse>, clock: Clock) {
  const [{ App }, { Octokit }, { GitHubAppSource }] = await Promise.all([
    import("@octokit/app"),
    import("@octokit/core"),
    import("./adapters/github/app-source.js"),
  ]);
  if (!e.GITHUB_APP_ID || !e.GITHUB_APP_PRIVATE_KEY || !e.GITHUB_ORG) {
    throw new UserInputError(
      "GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_ORG must all be set to back up a GitHub organization",
    );
  }
  const app = new App({
    appId: e.GITHUB_APP_ID,
    privateKey: e.GITHUB_APP_PRIVATE_KEY,
    ...(e.GITHUB_API_URL ? { Octokit: Octokit.defaults({ baseUrl: e.GITHUB_API_URL }) } : {}),
  });
  return new GitHubAppSource({
    app,
    org: e.GITHUB_ORG,
    clock,
    ...(e.GITHUB_GIT_URL ? { gitBaseUrl: e.GITHUB_GIT_URL } : {}),
  });
}
