// The cloud deployment's environment (set by infra/functions.tf), validated at start so a
// missing or malformed variable is named at once. Secret values are never echoed in errors.
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
  .transform((v) => ["true", "1", "yes"].includes(v));
const positiveInt = z.coerce.number().int().positive();

export const cloudEnvSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1, "required"),
  BACKUP_LOCATION: z
    .string()
    .regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}\/?$/, "expected gs://<archive bucket>"),
  RESTORE_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}$/, "expected a bucket name"),
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
  PRUNE_TOPIC: z.string().min(1).default("prune-requests"),
  VERIFY_BACKUPS: bool.default(true),
  VERIFY_LEVEL: z.enum(["quick", "deep"]).default("deep"),
  /** Pushes make incremental snapshots on top of the day's full one. */
  INCREMENTAL_SNAPSHOTS: bool.default(true),
  MAX_CHAIN: positiveInt.default(96),
  /** 2 GiB: a function's /tmp is memory, and a bigger pack takes longer than the time limit allows. */
  LARGE_REPO_BYTES: positiveInt.default(2 * 1024 ** 3),
  /** 540 s is the event-driven function limit; stop a minute earlier so nothing is cut mid-commit. */
  SNAPSHOT_DEADLINE_SECONDS: positiveInt.default(480),
  GITHUB_ORG: z.string().optional(),
  GITHUB_APP_ID: z.string().optional(),
  GITHUB_APP_PRIVATE_KEY: z.string().optional(),
  GITHUB_API_URL: z.url().optional(),
  GITHUB_GIT_URL: z.url().optional(),
});

export type CloudEnv = z.infer<typeof cloudEnvSchema>;
