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

export interface App extends Deps {
  config: BackupConfig;
  sources: SourceHost;
  /** Where local data lives (archives, index, key, audit log). */
  dataDir: string;
  close(): Promise<void>;
}

export const DEFAULT_CONFIG = "config/backup-config.yaml";

export async function loadBackupConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<BackupConfig> {
  return applyEnvironment(await loadConfigFile(backupConfigSchema, file), env);
}

/** Paths in the config are relative to the project folder: the parent of config/. */
export function projectDir(configFile: string): string {
  const dir = dirname(resolve(configFile));
  return dir.endsWith("/config") ? dirname(dir) : dir;
}

export async function openApp(configFile: string, options: { clock?: Clock; env?: NodeJS.ProcessEnv } = {}): Promise<App> {
  const config = await loadBackupConfig(configFile, options.env);
  const clock = options.clock ?? systemClock;
  const base = projectDir(configFile);
  if (config.backend !== "local") {
    throw new UserInputError(`${configFile}: backend "${config.backend}" runs as Cloud Functions (see docs/DEPLOY.md); the CLI works on the local backend`);
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
