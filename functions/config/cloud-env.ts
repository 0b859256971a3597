// The cloud deployment's environment (set per workload by infra/functions.tf and infra/run_job.tf),
// validated at start so a missing or malformed variable is named at once. Each workload reads only
// the variables of the parts it wires (WORKLOAD_ENV): a function that never touches GitHub starts
// without the App's key. Secret values are never echoed in errors.
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
  .transform((v) => ["true", "1", "yes"].includes(v));
const bucket = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}$/, "expected a bucket name");

/** Every variable any workload reads, with its rule and default. */
export const cloudEnvSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1, "required"),
  /** The archive bucket, as the product brief names it: gs://<bucket>. */
  BACKUP_LOCATION: z
    .string()
    .regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}\/?$/, "expected gs://<archive bucket>"),
  /**
   * The mode of the retention archives are written with: Unlocked (no account of ours may shorten
   * it) or Locked (nobody may, ever). infra/ sets it from var.archive_retention_mode.
   */
  ARCHIVE_RETENTION_MODE: z.enum(["Unlocked", "Locked"]).default("Unlocked"),
  RESTORE_BUCKET: bucket,
  KMS_KEY_NAME: z
    .string()
    .regex(
      /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/,
      "expected projects/…/locations/…/keyRings/…/cryptoKeys/…",
    ),
  FIRESTORE_DATABASE: z.string().min(1).default("(default)"),
  SNAPSHOT_TOPIC: z.string().min(1).default("snapshot-requests"),
  VERIFY_TOPIC: z.string().min(1).default("verify-requests"),
  LARGE_SNAPSHOT_TOPIC: z.string().min(1).default("snapshot-large"),
  /** One repository of an organization's restore each (restoreOrg's fan-out, restoreOrgRepo's input). */
  RESTORE_TOPIC: z.string().min(1).default("restore-requests"),
  /** The subscription the Cloud Run snapshot job drains. */
  LARGE_SNAPSHOT_SUBSCRIPTION: z.string().min(1, "required"),
  /** Overrides verify.afterBackup of backup-config.yaml (product brief). */
  VERIFY_BACKUPS: bool.optional(),
  /** Overrides the daily window of retention-policy.yaml (product brief); parsed by the config loader. */
  RETENTION_DAYS: z.string().optional(),
  /** Comma-separated "owner/name"s added to the policy's holdRepos; parsed by the config loader. */
  LEGAL_HOLD_REPOS: z.string().optional(),
  GITHUB_APP_ID: z.string().min(1, "required"),
  GITHUB_APP_PRIVATE_KEY: z.string().min(1, "required"),
  GITHUB_WEBHOOK_SECRET: z.string().min(1, "required"),
  /** The SMTP login's password (notifications.email.smtp.user), from Secret Manager. */
  SMTP_PASSWORD: z.string().min(1).optional(),
  /** The dead-letter subscriptions backupHealth counts, comma-separated. */
  DEAD_LETTER_SUBSCRIPTIONS: z
    .string()
    .regex(
      /^[A-Za-z][\w.~+%-]{2,254}(,[A-Za-z][\w.~+%-]{2,254})*$/,
      "expected subscription names, comma-separated",
    )
    .optional(),
  /** GitHub Enterprise Server: the REST API root and the git host root. Absent: github.com. */
  GITHUB_API_URL: z.url().optional(),
  GITHUB_GIT_URL: z.url().optional(),
  /**
   * The roles' members (comma-separated IAM members: user:, serviceAccount:, group:, domain:),
   * which the caller-checked functions compare a caller's verified ID token with. Empty: nobody.
   */
  ROLE_OPERATOR_MEMBERS: z.string().default(""),
  ROLE_RESTORER_MEMBERS: z.string().default(""),
  ROLE_AUDITOR_MEMBERS: z.string().default(""),
  ROLE_ADMIN_MEMBERS: z.string().default(""),
  /** Comma-separated audiences (the function's URLs) an ID token must be minted for. */
  AUTH_AUDIENCES: z.string().min(1, "required: the function URLs ID tokens are minted for"),
});

export type CloudEnv = z.infer<typeof cloudEnvSchema>;
export type CloudEnvName = keyof CloudEnv;

/** The parts a workload may wire, and the variables each part reads. */
export const PART_ENV = {
  project: ["GOOGLE_CLOUD_PROJECT"],
  archives: ["BACKUP_LOCATION", "ARCHIVE_RETENTION_MODE"],
  restoreBucket: ["RESTORE_BUCKET"],
  keys: ["KMS_KEY_NAME"],
  index: ["FIRESTORE_DATABASE"],
  publishSnapshots: ["SNAPSHOT_TOPIC"],
  publishVerify: ["VERIFY_TOPIC"],
  publishLarge: ["LARGE_SNAPSHOT_TOPIC"],
  publishRestores: ["RESTORE_TOPIC"],
  /** The journal of restores to GitHub, read without restoring (restoreOrg's report). */
  restoreJournal: ["FIRESTORE_DATABASE"],
  drainLarge: ["LARGE_SNAPSHOT_SUBSCRIPTION"],
  github: ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_API_URL", "GITHUB_GIT_URL"],
  webhookSecret: ["GITHUB_WEBHOOK_SECRET"],
  deliveries: ["FIRESTORE_DATABASE"],
  verifySetting: ["VERIFY_BACKUPS"],
  retentionSetting: ["RETENTION_DAYS", "LEGAL_HOLD_REPOS"],
  callers: [
    "ROLE_OPERATOR_MEMBERS",
    "ROLE_RESTORER_MEMBERS",
    "ROLE_AUDITOR_MEMBERS",
    "ROLE_ADMIN_MEMBERS",
    "AUTH_AUDIENCES",
  ],
  /** Sends the config's notifications, email included (its SMTP password). */
  notify: ["SMTP_PASSWORD"],
  deadLetters: ["DEAD_LETTER_SUBSCRIPTIONS"],
} as const satisfies Record<string, readonly CloudEnvName[]>;

export type Part = keyof typeof PART_ENV;

/** The eight functions and the Cloud Run job: what each one wires. */
export const WORKLOAD_PARTS = {
  // The settings overrides too: the sweep records the deployed configuration in the audit trail.
  sweep: [
    "project",
    "index",
    "publishSnapshots",
    "publishVerify",
    "github",
    "verifySetting",
    "retentionSetting",
  ],
  snapshotRepo: [
    "project",
    "archives",
    "keys",
    "index",
    "publishVerify",
    "publishLarge",
    "github",
    "verifySetting",
    "notify",
  ],
  // A deep verification too big for it goes to the job (snapshot-large).
  verifySnapshot: ["project", "archives", "keys", "index", "notify", "publishLarge"],
  // Compaction of layers needs decryption: it hands that to the job (snapshot-large).
  pruneSnapshots: ["project", "archives", "index", "retentionSetting", "publishLarge"],
  // A restore to GitHub past its deadline goes on in the job (snapshot-large).
  restoreRepo: ["project", "archives", "restoreBucket", "keys", "index", "github", "callers", "publishLarge"],
  backupHealth: ["project", "index", "retentionSetting", "notify", "deadLetters"],
  restoreDrill: ["project", "archives", "keys", "index", "publishLarge", "notify"],
  // Crypto-shredding needs only the index (key records, lease) and the caller check: no KMS, no bytes.
  forgetRepo: ["project", "index", "callers"],
  // Plans and fans out (one message per repository); reads the journals for its report. No GitHub, no KMS.
  restoreOrg: ["project", "index", "restoreJournal", "publishRestores", "callers"],
  // One repository of it, as restoreRepo restores to GitHub; hands itself on past its deadline.
  // ...and a code push too long for it goes to the job (snapshot-large).
  restoreOrgRepo: [
    "project",
    "archives",
    "restoreBucket",
    "keys",
    "index",
    "github",
    "publishRestores",
    "publishLarge",
  ],
  // Rewraps key records: the index and KMS (encrypt and decrypt), no archive bytes.
  rotateKeys: ["project", "index", "keys", "callers"],
  githubWebhook: ["project", "index", "publishSnapshots", "webhookSecret", "deliveries"],
  snapshotJob: [
    "project",
    "archives",
    "keys",
    "index",
    "publishVerify",
    "drainLarge",
    "github",
    "verifySetting",
    // drills of large repositories (restoreDrill hands them over) notify as restoreDrill does
    "notify",
    // restores to GitHub handed on by restoreRepo and restoreOrgRepo: the mapping's bucket, and
    // the rest handed on again near the job's own limit
    "restoreBucket",
    "publishLarge",
  ],
} as const satisfies Record<string, readonly Part[]>;

export type Workload = keyof typeof WORKLOAD_PARTS;

/** Variables that are secrets: mounted from Secret Manager, never plain environment. */
export const SECRET_ENV: readonly CloudEnvName[] = [
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_WEBHOOK_SECRET",
  "SMTP_PASSWORD",
];

/** Every variable a workload reads (secrets included). */
export function workloadEnv(workload: Workload): CloudEnvName[] {
  return [...new Set(WORKLOAD_PARTS[workload].flatMap((part) => PART_ENV[part]))];
}

/**
 * Variables a workload must be given: read, with no default and not optional. The deployment may
 * still set an optional one (VERIFY_BACKUPS), never one the workload does not read.
 */
export function requiredEnv(workload: Workload): CloudEnvName[] {
  return workloadEnv(workload).filter((name) => !cloudEnvSchema.shape[name].safeParse(undefined).success);
}
