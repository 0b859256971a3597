// Schema of config/backup-config.yaml: what to back up, where archives go, and verification,
// with the environment overrides the product brief promises (BACKUP_LOCATION, VERIFY_BACKUPS).
import { z } from "zod";
import { UserInputError } from "../core/errors.js";
import { repoNameSchema } from "../core/ids.js";

const repoName = repoNameSchema;

const gitUrl = z
  .string()
  .min(1)
  .refine(
    (url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(url),
    "credentials must not be written in a URL; use a GitHub App or a credential header",
  )
  .refine(
    (url) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^(file|https?):\/\//i.test(url),
    "expected a path, file://, http:// or https:// URL",
  );

export const sourceSchema = z.strictObject({
  name: repoName,
  url: gitUrl,
  /** The repository's wiki, when it has one (backed up whole in every snapshot). */
  wiki: gitUrl.optional(),
  /** A demo repository that `infinity-backup demo` creates when it is missing. */
  demo: z.boolean().default(false),
});

export const backupConfigSchema = z.strictObject({
  version: z.literal(1),
  backend: z.enum(["local", "gcp"]).default("local"),
  local: z
    .strictObject({
      /** Archives, index, key file and audit log live under this folder (relative to the config's project). */
      dataDir: z.string().min(1).default(".infinity-backup"),
    })
    .default({ dataDir: ".infinity-backup" }),
  sources: z.array(sourceSchema).default([]),
  snapshots: z
    .strictObject({
      /** After the first full snapshot, store only what changed (a chain), within the limits below. */
      incremental: z.boolean().default(true),
      /** At most this many incrementals after a full snapshot. */
      maxChain: z.number().int().min(1).max(500).default(48),
      /** A full snapshot at least this often (20 h: each daily backup starts a new chain). */
      fullEveryHours: z
        .number()
        .positive()
        .max(24 * 31)
        .default(20),
    })
    .default({ incremental: true, maxChain: 48, fullEveryHours: 20 }),
  verify: z
    .strictObject({
      afterBackup: z.boolean().default(true),
      level: z.enum(["quick", "deep"]).default("deep"),
    })
    .default({ afterBackup: true, level: "deep" }),
});

export type BackupConfig = z.infer<typeof backupConfigSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;

/** Applies BACKUP_LOCATION and VERIFY_BACKUPS from the environment, rejecting bad values by name. */
export function applyEnvironment(config: BackupConfig, env: NodeJS.ProcessEnv): BackupConfig {
  const out = structuredClone(config);
  const location = env.BACKUP_LOCATION?.trim();
  if (location) {
    if (location.startsWith("gs://")) out.backend = "gcp";
    else out.local.dataDir = location;
  }
  const verify = env.VERIFY_BACKUPS?.trim().toLowerCase();
  if (verify) {
    if (!["true", "false", "1", "0", "yes", "no"].includes(verify)) {
      throw new UserInputError(`VERIFY_BACKUPS=${env.VERIFY_BACKUPS}: expected true or false`);
    }
    out.verify.afterBackup = ["true", "1", "yes"].includes(verify);
  }
  const names = new Set<string>();
  for (const source of out.sources) {
    if (names.has(source.name)) throw new UserInputError(`sources: "${source.name}" is listed twice`);
    names.add(source.name);
  }
  return out;
}

/** The incremental policy the config asks for, in the shape the use cases take. */
export function incrementalPolicy(config: BackupConfig): { maxChain: number; fullEveryMs: number } | false {
  const s = config.snapshots;
  return s.incremental ? { maxChain: s.maxChain, fullEveryMs: s.fullEveryHours * 3600 * 1000 } : false;
}
