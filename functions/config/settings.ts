// The one configuration model of both modes: backup-config.yaml, retention-policy.yaml and
// schedule.yaml from one folder, then the product brief's environment variables on top. The CLI,
// the functions and the job all start here; every value remembers where it came from.
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UserInputError } from "../core/errors.js";
import { isRepoName } from "../core/ids.js";
import type { IncrementalPolicy } from "../core/chain.js";
import {
  DEFAULT_RETENTION_POLICY,
  parseDuration,
  parseRetentionPolicy,
  type RetentionPolicy,
} from "../core/retention-policy.js";
import { backupConfigSchema, type BackupConfig } from "./backup-config.js";
import { parseConfig, readYaml } from "./load.js";
import { loadPricing, type Pricing } from "./pricing.js";
import { parseCron, scheduleSchema, SCHEDULE_FILE, type Schedule } from "./schedule.js";

export const RETENTION_POLICY_FILE = "retention-policy.yaml";

/** Where one effective value came from. */
export type Origin = { from: "file"; file: string } | { from: "env"; name: string } | { from: "default" };

export interface Settings {
  /** The backup config file these settings were read from. */
  configFile: string;
  /** Relative paths in the config resolve against this folder (see projectDir). */
  baseDir: string;
  backup: BackupConfig;
  retention: RetentionPolicy;
  schedule: Schedule;
  /** The cost report's price table (pricing.yaml, or the built-in list prices). */
  pricing: Pricing;
  /** Where the prices came from: the file, or "built-in list prices". */
  pricingSource: string;
  /** "verify.afterBackup" -> where its value came from; one entry per leaf value. */
  origins: Map<string, Origin>;
}

/** The environment variables the product brief promises, and what each overrides. */
export const ENV_OVERRIDES = {
  BACKUP_LOCATION: "local.dataDir (a folder), or backend gcp for gs://…",
  VERIFY_BACKUPS: "verify.afterBackup",
  RETENTION_DAYS: "retention.daily",
  LEGAL_HOLD_REPOS: "retention.holdRepos (added to the file's)",
  BACKUP_SCHEDULE: "schedule.daily",
} as const;

/**
 * Relative paths resolve against the project folder: the parent of the `config/` folder holding
 * the file, or the file's own folder when it lives elsewhere.
 */
export function projectDir(configFile: string): string {
  const dir = dirname(resolve(configFile));
  return dir.endsWith("/config") ? dirname(dir) : dir;
}

/** Reads the three files (the backup config must exist; the others default) and applies `env`. */
export async function loadSettings(configFile: string, env: NodeJS.ProcessEnv): Promise<Settings> {
  const origins = new Map<string, Origin>();
  const dir = dirname(configFile);

  const backupText = await readText(configFile, true);
  const backup = parseConfig(backupConfigSchema, backupText!, configFile);
  record(origins, "", backup, readYaml(backupText!, configFile), configFile);

  const retentionFile = join(dir, RETENTION_POLICY_FILE);
  const retentionText = await readText(retentionFile, false);
  const retention =
    retentionText === undefined
      ? DEFAULT_RETENTION_POLICY
      : parseRetentionPolicy(readYaml(retentionText, retentionFile), retentionFile);
  record(
    origins,
    "retention",
    retention,
    retentionText && readYaml(retentionText, retentionFile),
    retentionFile,
  );

  const scheduleFile = join(dir, SCHEDULE_FILE);
  const scheduleText = await readText(scheduleFile, false);
  const schedule = parseConfig(scheduleSchema, scheduleText ?? "version: 1\n", scheduleFile);
  record(origins, "schedule", schedule, scheduleText && readYaml(scheduleText, scheduleFile), scheduleFile);

  const { pricing, source: pricingSource } = await loadPricing(configFile);
  const settings: Settings = {
    configFile,
    baseDir: projectDir(configFile),
    backup,
    retention,
    schedule,
    pricing,
    pricingSource,
    origins,
  };
  applyEnv(settings, env);
  return settings;
}

/** The incremental policy the settings ask for, in the shape the use cases take. */
export function incrementalPolicy(settings: Settings): IncrementalPolicy | false {
  const s = settings.backup.snapshots;
  return s.incremental ? { maxChain: s.maxChain, fullEveryMs: s.fullEveryHours * 3600 * 1000 } : false;
}

const TRUE = ["true", "1", "yes"];
const BOOLEAN = [...TRUE, "false", "0", "no"];

function applyEnv(settings: Settings, env: NodeJS.ProcessEnv): void {
  const set = (path: string, name: string) => settings.origins.set(path, { from: "env", name });
  const value = (name: keyof typeof ENV_OVERRIDES) => {
    const raw = env[name]?.trim();
    return raw ? raw : undefined;
  };

  const location = value("BACKUP_LOCATION");
  if (location?.startsWith("gs://")) {
    settings.backup.backend = "gcp";
    set("backend", "BACKUP_LOCATION");
  } else if (location) {
    settings.backup.local.dataDir = location;
    set("local.dataDir", "BACKUP_LOCATION");
  }

  const verify = value("VERIFY_BACKUPS")?.toLowerCase();
  if (verify !== undefined) {
    if (!BOOLEAN.includes(verify))
      throw new UserInputError(
        `VERIFY_BACKUPS=${JSON.stringify(env.VERIFY_BACKUPS)}: expected true or false`,
      );
    settings.backup.verify.afterBackup = TRUE.includes(verify);
    set("verify.afterBackup", "VERIFY_BACKUPS");
  }

  const days = value("RETENTION_DAYS");
  if (days !== undefined) {
    settings.retention = { ...settings.retention, daily: retentionDays(days) };
    set("retention.daily", "RETENTION_DAYS");
  }

  const holds = (env.LEGAL_HOLD_REPOS ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  if (holds.length) {
    const bad = holds.find((n) => !isRepoName(n));
    if (bad) throw new UserInputError(`LEGAL_HOLD_REPOS: ${JSON.stringify(bad)} is not "owner/name"`);
    const holdRepos = [...new Set([...(settings.retention.holdRepos ?? []), ...holds])];
    settings.retention = { ...settings.retention, holdRepos };
    set("retention.holdRepos", "LEGAL_HOLD_REPOS");
  }

  const daily = value("BACKUP_SCHEDULE");
  if (daily !== undefined) {
    const cron = parseCron(daily);
    if (!cron)
      throw new UserInputError(
        `BACKUP_SCHEDULE=${JSON.stringify(daily)}: expected a five-field cron in UTC, such as "0 0 * * *"`,
      );
    settings.schedule.daily = cron;
    set("schedule.daily", "BACKUP_SCHEDULE");
  }

  const names = new Set<string>();
  for (const source of settings.backup.sources) {
    if (names.has(source.name)) throw new UserInputError(`sources: "${source.name}" is listed twice`);
    names.add(source.name);
  }
}

/** RETENTION_DAYS: a whole number of days, 1 or more, as the daily window. */
function retentionDays(raw: string) {
  const problem = (cause?: unknown) =>
    new UserInputError(
      `RETENTION_DAYS=${JSON.stringify(raw)}: expected a whole number of days, 1 or more ` +
        `(how long the newest snapshot of each day is kept)`,
      { cause },
    );
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw problem();
  try {
    return parseDuration(`${Number(raw)}d`);
  } catch (err) {
    throw problem(err); // beyond the longest duration a policy accepts
  }
}

async function readText(file: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    throw new UserInputError(
      code === "ENOENT" ? `${file}: file not found` : `${file}: cannot read (${code})`,
      {
        cause: err,
      },
    );
  }
}

/** Records, for every leaf of `value`, whether the file wrote it or the default supplied it. */
function record(
  origins: Map<string, Origin>,
  prefix: string,
  value: unknown,
  raw: unknown,
  file: string,
  root = true,
): void {
  const isMapping = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
  if (isMapping(value) && Object.keys(value).length > 0 && !isDuration(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (root && key === "version") continue; // the file format's version, not a setting
      const path = prefix ? `${prefix}.${key}` : key;
      record(origins, path, child, isMapping(raw) ? raw[key] : undefined, file, false);
    }
    return;
  }
  origins.set(prefix, raw === undefined ? { from: "default" } : { from: "file", file });
}

/** A parsed duration ({ years, months, … }) is one value, not a section. */
function isDuration(value: Record<string, unknown>): boolean {
  return "text" in value && "ms" in value;
}

/** Where the retention policy came from, in words: the file (or the built-in promise) and overrides. */
export function retentionSource(settings: Settings): string {
  const origins = [...settings.origins].filter(([path]) => path.startsWith("retention."));
  const file = origins.find(([, o]) => o.from === "file")?.[1];
  const base = file?.from === "file" ? file.file : "built-in default policy";
  const env = origins
    .filter(([, o]) => o.from === "env")
    .map(([path, o]) => `${path.slice(10)} from ${(o as { name: string }).name}`);
  return [base, ...env].join(", ");
}
