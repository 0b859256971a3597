// Schema of config/schedule.yaml: every clock of the product (UTC cron). Terraform builds the Cloud
// Scheduler jobs from the same file; BACKUP_SCHEDULE (product brief) overrides the daily sweep.
import { z } from "zod";

/** Five fields, UTC: minute hour day-of-month month day-of-week (Cloud Scheduler's unix-cron). */
const cron = z
  .string()
  .trim()
  .refine(
    (text) => /^\S+( \S+){4}$/.test(text) && text.split(" ").every((f) => /^[0-9*/,\-A-Za-z]+$/.test(f)),
    'expected a five-field cron in UTC, such as "0 0 * * *"',
  );

export const scheduleSchema = z.strictObject({
  version: z.literal(1),
  /** The full sweep: every repository snapshotted or confirmed (the brief's 00:00 UTC). */
  daily: cron.default("0 0 * * *"),
  /** Snapshots the repositories whose refs changed: bounds the RPO when a webhook is lost. */
  rpoSweep: cron.default("*/15 * * * *"),
  /** Re-verifies every repository's latest snapshot. */
  verifySweep: cron.default("0 5 * * *"),
  /** Retention: expiries, storage classes, deletions, orphans. */
  prune: cron.default("0 3 * * *"),
  /** backupHealth is called on this clock, so stale repositories reach the alert. */
  healthCheck: cron.default("*/5 * * * *"),
  /** A full snapshot of every repository, metadata read whole (incremental reads miss some changes). */
  metadataReconcile: cron.default("0 2 * * 0"),
  /** Each organization's own snapshot: settings, members, teams, rulesets, Projects (v2). */
  orgSnapshot: cron.default("30 1 * * *"),
  /** restoreDrill: a sample restored into scratch, checked against the index, timed against the RTO. */
  restoreDrill: cron.default("30 6 * * *"),
  /** The Cloud Run job for repositories too large for a function. */
  snapshotJob: cron.default("*/15 * * * *"),
});

export type Schedule = z.infer<typeof scheduleSchema>;

export const SCHEDULE_FILE = "schedule.yaml";

/** Validates a cron given outside the file (BACKUP_SCHEDULE); the message names the variable. */
export function parseCron(text: string): string | undefined {
  const result = cron.safeParse(text);
  return result.success ? result.data : undefined;
}
