// Schema of config/backup-config.yaml: what to back up, where archives go, snapshots, verification
// and the cloud's limits. Each default is written here once; settings.ts applies the environment.
import { z } from "zod";
import { repoNameSchema } from "../core/ids.js";
import { credentialForm, credentialRefusal } from "../core/redact.js";

const repoName = repoNameSchema;

const gitUrl = z
  .string()
  .min(1)
  .superRefine((url, ctx) => {
    const refusal = credentialRefusal("url", url);
    if (refusal) ctx.addIssue({ code: "custom", message: refusal.replace(/^url: /, "") });
  })
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

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/**
 * A chat webhook (Slack-compatible). Its path is a secret (Slack's /services/T…/B…/…) and is
 * allowed; user info, a token in the query or a GitHub token are refused like any URL. https only,
 * http for this machine (tests).
 */
const webhookUrl = z
  .string()
  .min(1)
  .superRefine((url, ctx) => {
    const form = credentialForm(url);
    if (form) {
      ctx.addIssue({ code: "custom", message: `webhook URLs must not hold credentials (found ${form})` });
      return;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      ctx.addIssue({ code: "custom", message: "expected an https:// URL" });
      return;
    }
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && LOOPBACK.test(parsed.hostname)))
      ctx.addIssue({ code: "custom", message: `expected an https:// URL (host ${parsed.host})` });
  });

export const notificationsSchema = z.strictObject({
  /** Mail over SMTP; the password is SMTP_PASSWORD in the environment, never this file. */
  email: z
    .strictObject({
      to: z.array(z.email()).min(1),
      from: z.email(),
      smtp: z.strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(587),
        /** TLS from the first byte (465); false: STARTTLS when the server offers it. */
        secure: z.boolean().default(false),
        /** The SMTP login, when the server wants one (its password: SMTP_PASSWORD). */
        user: z.string().min(1).optional(),
      }),
    })
    .optional(),
  /** Slack-compatible webhooks: each gets {"text": ...} plus the alert's fields as JSON. */
  webhooks: z.array(z.strictObject({ url: webhookUrl })).default([]),
  /** The same problem of the same repository is sent again only after this many hours. */
  repeatAfterHours: z
    .number()
    .positive()
    .max(24 * 31)
    .default(6),
});

export const backupConfigSchema = z.strictObject({
  version: z.literal(1),
  backend: z.enum(["local", "gcp"]).default("local"),
  local: z
    .strictObject({
      /** Archives, index, key file and audit log live under this folder (relative to the config's project). */
      dataDir: z.string().min(1).default(".infinity-backup"),
    })
    .prefault({}),
  sources: z.array(sourceSchema).default([]),
  /**
   * GitHub: every repository of the App's installations (the cloud always; the CLI when this
   * section is present), with their metadata. Credentials never live here: GITHUB_APP_ID and
   * GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE) come from the environment.
   */
  github: z
    .strictObject({
      /** Only these accounts (orgs or users) of the installations; empty: every installation. */
      owners: z
        .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, "expected a GitHub login"))
        .default([]),
      /** Name globs (`*`, `?`): a glob with "/" matches "owner/name", one without matches the name. */
      include: z.array(z.string().min(1)).default([]),
      exclude: z.array(z.string().min(1)).default([]),
      /** Forks are backed up unless this is true. */
      excludeForks: z.boolean().default(false),
      /** GitHub Enterprise Server: the REST API root ("https://ghe.example.com/api/v3") and git host. */
      apiUrl: z.url().optional(),
      gitUrl: z.url().optional(),
    })
    .optional(),
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
      /**
       * Store git objects once, as shared pack layers (docs/ARCHITECTURE.md, "Shared pack layers"),
       * where the backend has a layer index; the incremental settings above then do not apply.
       */
      layers: z.boolean().default(false),
    })
    .prefault({}),
  verify: z
    .strictObject({
      afterBackup: z.boolean().default(true),
      level: z.enum(["quick", "deep"]).default("deep"),
    })
    .prefault({}),
  network: z
    .strictObject({
      /**
       * The oldest TLS every outbound connection accepts (GitHub, Cloud Storage, KMS, Firestore,
       * Pub/Sub). TLSv1.2 only for an older GitHub Enterprise Server that cannot speak 1.3.
       */
      minTlsVersion: z.enum(["TLSv1.3", "TLSv1.2"]).default("TLSv1.3"),
    })
    .prefault({}),
  /**
   * Capacity rules (core/capacity.ts): the storage quota in bytes (over 80 % warns, at 100 % fails),
   * the monthly cost budget, each also warned of when the cost report's projection passes it within
   * `warnDays`; and the net growth of stored bytes per day over the last `growthWindowDays`.
   */
  capacity: z
    .strictObject({
      budgetBytes: z.number().int().positive().optional(),
      /** In the pricing table's currency (config/pricing.yaml). */
      monthlyCostBudget: z.number().positive().optional(),
      growthBytesPerDay: z.number().int().positive().optional(),
      growthWindowDays: z.number().int().min(1).max(60).default(7),
      warnDays: z.number().int().min(1).max(365).default(30),
    })
    .prefault({}),
  /** Restore drills: how many repositories one restores (the largest and the longest undrilled among them). */
  drill: z
    .strictObject({
      sample: z.number().int().min(1).max(50).default(3),
    })
    .prefault({}),
  cloud: z
    .strictObject({
      /** 2 GiB: a function's /tmp is memory, and a bigger pack takes longer than its time limit. */
      largeRepoBytes: z
        .number()
        .int()
        .positive()
        .default(2 * 1024 ** 3),
      /** 540 s is the event-driven function limit; stop a minute early so nothing is cut mid-commit. */
      snapshotDeadlineSeconds: z.number().int().positive().max(3600).default(480),
      /**
       * A queued restore to GitHub (restoreOrgRepo) stops at a step boundary this long after it
       * started and hands the rest on (the journal continues); 540 s is that function's limit and
       * one step (a push, an asset upload) must still fit after it. Fractions allowed (tests).
       */
      restoreDeadlineSeconds: z.number().positive().max(3600).default(360),
      /**
       * A compaction of one repository's layers in the Cloud Run job (handed over by the scheduled
       * prune) starts no merge after this long, and hands the rest on to the job's next run, so a
       * big repository's merges do not hold the queue's snapshots for hours. One merge always runs.
       */
      compactDeadlineSeconds: z.number().positive().max(86_400).default(3600),
      /**
       * How fast a restore's code push is taken to go (bytes of archive a second: decrypt,
       * index-pack, push to GitHub), to send a push longer than a function's deadline straight to
       * the Cloud Run job. 20 MiB/s is a cautious guess; the bench measures it (bench/README.md).
       */
      restorePushBytesPerSecond: z
        .number()
        .positive()
        .default(20 * 1024 ** 2),
    })
    .prefault({}),
  /** Who is told when something needs a person (absent: nobody; `status` and the logs still say it). */
  notifications: notificationsSchema.optional(),
});

export type BackupConfig = z.infer<typeof backupConfigSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;

/** The incremental policy the config asks for, in the shape the use cases take. */
export function incrementalPolicy(config: BackupConfig): { maxChain: number; fullEveryMs: number } | false {
  const s = config.snapshots;
  return s.incremental ? { maxChain: s.maxChain, fullEveryMs: s.fullEveryHours * 3600 * 1000 } : false;
}
