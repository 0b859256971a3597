// The schema of every message and request body that crosses a process boundary. Messages carry
// references (repo, snapshot id), never payloads, and each has a version so formats can evolve.
import { z } from "zod";
import { UserInputError } from "./errors.js";
import { repoNameSchema } from "./ids.js";
import type { Topic } from "./ports.js";

const repo = repoNameSchema;
const isoTime = z.iso.datetime({ offset: true });

export const snapshotRequestSchema = z.strictObject({
  v: z.literal(1),
  repo,
  /** Why: the daily sweep, a push webhook, the RPO sweep, or a person. */
  reason: z.enum(["schedule", "push", "event", "rpo-sweep", "reconcile", "manual"]),
  /** When the request was made; a snapshot taken after it satisfies it. */
  requestedAt: isoTime,
  /** For reason push or event (an issue, a comment, a release…): the webhook delivery id, for tracing. */
  deliveryId: z.string().max(200).optional(),
  /** Where to read the repository (no credentials), when the sender knows it. */
  url: z.string().max(2000).optional(),
  /** The wiki's git URL (no credentials), when the repository has a wiki. */
  wikiUrl: z.string().max(2000).optional(),
  /** Approximate size, to route repositories too big for a function to the snapshot job. */
  sizeBytes: z.number().int().nonnegative().optional(),
  /** The repository has GitHub metadata to back up (issues, pull requests, releases…). */
  metadata: z.boolean().optional(),
});

export const verifyRequestSchema = z.strictObject({
  v: z.literal(1),
  repo,
  snapshotId: z.string().min(1).max(200),
  /** "layer": a layered snapshot's new layers and their links (core/layers/verify.ts). */
  level: z.enum(["quick", "deep", "layer"]).default("deep"),
});

export const pruneRequestSchema = z.strictObject({
  v: z.literal(1),
  /** One repo, or every repo when absent. */
  repo: repo.optional(),
  dryRun: z.boolean().default(false),
});

export const sweepRequestSchema = z.strictObject({
  v: z.literal(1),
  /**
   * "reconcile": every repository gets a full snapshot, its metadata read whole. "org": each
   * organization gets its own snapshot ("<org>/@org": teams, rulesets, projects).
   */
  reason: z.enum(["schedule", "rpo-sweep", "verify-sweep", "reconcile", "org"]).default("schedule"),
});

const restoreTarget = z.discriminatedUnion("kind", [
  /**
   * A GitHub repository, restored whole: code, settings, issues, pull requests, comments, releases
   * (core/restore-github/). The same body again continues a restore that stopped.
   */
  z.strictObject({
    kind: z.literal("github"),
    name: repo,
    private: z.boolean().default(true),
    /** Into an existing repository, which must be empty (refused otherwise). */
    intoExistingEmpty: z.boolean().optional(),
  }),
  /** A plain git bundle written to the restore bucket. */
  z.strictObject({ kind: z.literal("bucket"), key: z.string().min(1).max(1024).optional() }),
]);

export const restoreRequestSchema = z
  .strictObject({
    v: z.literal(1).default(1),
    repo,
    snapshotId: z.string().min(1).max(200).optional(),
    at: isoTime.optional(),
    target: restoreTarget,
  })
  .refine((r) => !(r.snapshotId && r.at), { message: "give snapshotId or at, not both" });

/** restoreDrill's body (Scheduler or a person): a sample size, or the repositories to drill. */
export const drillRequestSchema = z
  .strictObject({
    v: z.literal(1).default(1),
    sample: z.number().int().min(1).max(50).optional(),
    repos: z.array(repo).min(1).max(50).optional(),
  })
  .refine((r) => !(r.sample && r.repos), { message: "give sample or repos, not both" });

/**
 * A drill of repositories too big for restoreDrill (their latest archive above
 * cloud.largeRepoBytes), handed to the Cloud Run job on snapshot-large as snapshots are.
 */
export const largeDrillRequestSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("drill"),
  repos: z.array(repo).min(1).max(50),
  requestedAt: isoTime,
});

/**
 * Compaction of one repository's layers, handed to the Cloud Run job (snapshot-large): by the
 * scheduled prune (which cannot decrypt), or by the job itself past its compaction deadline.
 */
export const largeCompactRequestSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("compact"),
  repo,
  requestedAt: isoTime,
  /** How many runs before this one stopped at their deadline and handed it on. */
  handoffs: z.number().int().min(0).default(0),
});

/** A deep verification of a snapshot too big to restore in verifySnapshot, handed to the job. */
export const largeVerifyRequestSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("verify"),
  repo,
  snapshotId: z.string().min(1).max(200),
  level: z.literal("deep"),
  requestedAt: isoTime,
});

export type SnapshotRequest = z.infer<typeof snapshotRequestSchema>;
export type VerifyRequest = z.infer<typeof verifyRequestSchema>;
export type PruneRequest = z.infer<typeof pruneRequestSchema>;
export type SweepRequest = z.infer<typeof sweepRequestSchema>;
/** forgetRepo's body: the repository, why, and its name typed back (core/keys/forget.ts). */
export const forgetRequestSchema = z.strictObject({
  v: z.literal(1).default(1),
  repo,
  reason: z.string().trim().min(1).max(1000),
  confirm: z.string().max(200),
});

/**
 * rotateKeys' body (core/keys/rotate.ts): with a repository, a new key for it; without, every
 * repository key rewrapped under the KMS key's current primary version.
 */
export const rotateKeysRequestSchema = z.strictObject({
  v: z.literal(1).default(1),
  repo: repo.optional(),
});

export type RestoreRequestBody = z.infer<typeof restoreRequestSchema>;

/** restoreOrg's body: every repository as of `at`, into `toOrg` and/or under `prefix` (core/restore-org.ts). */
export const restoreOrgRequestSchema = z
  .strictObject({
    v: z.literal(1).default(1),
    at: isoTime,
    toOrg: z.string().min(1).max(39).optional(),
    prefix: z.string().min(1).max(100).optional(),
    /** Only the repositories whose owner at T is this one. */
    from: z.string().min(1).max(39).optional(),
    /** Only these repositories (index keys, "owner/name"). */
    include: z.array(repo).min(1).max(10_000).optional(),
    dryRun: z.boolean().default(false),
    /** Each target created private (default); false: the original's visibility. */
    private: z.boolean().default(true),
  })
  .refine((r) => r.toOrg || r.prefix, {
    message: "give toOrg or prefix: a restore never writes over the repositories it was taken of",
  });

/** One repository of an organization's restore, as restoreOrg hands it on (topic restore-requests). */
export const githubRestoreMessageSchema = z.strictObject({
  v: z.literal(1),
  repo,
  snapshotId: z.string().min(1).max(200),
  /** "owner/name" to restore into. */
  target: repo,
  private: z.boolean().default(true),
  /** Who asked (the audit trail's actor of every run of this restore). */
  requestedBy: z.string().min(1).max(320),
  /** The organization restore's moment, for the logs. */
  at: isoTime.optional(),
  /** How many runs before this one stopped at their deadline and handed it on. */
  handoffs: z.number().int().min(0).default(0),
  /** Into an existing empty repository (restoreRepo's target.intoExistingEmpty). */
  intoExistingEmpty: z.boolean().optional(),
});

/**
 * A restore to GitHub handed to the Cloud Run job (snapshot-large): restoreRepo's past its deadline,
 * or any whose code push alone would outlast a function (core/restore-github/run.ts).
 */
export const largeRestoreRequestSchema = githubRestoreMessageSchema.extend({ kind: z.literal("restore") });

/**
 * What the snapshot job drains: snapshot requests, drills and restores to GitHub of large
 * repositories, compactions of layers, and deep verifications of large snapshots.
 */
export const largeWorkSchema = z.union([
  snapshotRequestSchema,
  largeDrillRequestSchema,
  largeRestoreRequestSchema,
  largeCompactRequestSchema,
  largeVerifyRequestSchema,
]);
export type LargeCompactRequest = z.infer<typeof largeCompactRequestSchema>;
export type LargeVerifyRequest = z.infer<typeof largeVerifyRequestSchema>;

export type RestoreOrgRequestBody = z.infer<typeof restoreOrgRequestSchema>;
export type GitHubRestoreMessage = z.infer<typeof githubRestoreMessageSchema>;

export const topicSchemas: Record<Topic, z.ZodType> = {
  "snapshot-requests": snapshotRequestSchema,
  "snapshot-large": largeWorkSchema,
  "verify-requests": verifyRequestSchema,
  "prune-requests": pruneRequestSchema,
  "restore-requests": githubRestoreMessageSchema,
};

/** Parses `data` with `schema`, or throws a UserInputError naming `what` and every bad field. */
export function parseMessage<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
  throw new UserInputError(`invalid ${what}: ${problems.join("; ")}`);
}
