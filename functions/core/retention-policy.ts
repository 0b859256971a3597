// The retention policy: which snapshots of a repository to keep, as config/retention-policy.yaml states it.
// Parsed once at the edge (zod); a policy that would keep nothing is refused, never read as "delete all".

import { z } from "zod";
import { UserInputError } from "./errors.js";
import { repoNameSchema } from "./ids.js";
import { parseDuration, type Duration } from "./retention-duration.js";
import type { Period } from "./retention-periods.js";

export { addDuration, parseDuration, type Duration } from "./retention-duration.js";

/** Every rule a policy may set, in the order messages list them. */
export const RETENTION_RULES = [
  "within",
  "last",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "keepLast",
  "keepHourly",
  "keepDaily",
  "keepWeekly",
  "keepMonthly",
  "keepYearly",
] as const;

/** The count rules (restic's --keep-hourly N and kin), each with the calendar period it counts. */
export const COUNT_RULES = ["keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"] as const;
export type CountRule = (typeof COUNT_RULES)[number];
export const COUNT_RULE_PERIOD: Readonly<Record<CountRule, Period>> = {
  keepHourly: "hourly",
  keepDaily: "daily",
  keepWeekly: "weekly",
  keepMonthly: "monthly",
  keepYearly: "yearly",
};

const RULE_LIST = RETENTION_RULES.join(", ");
const EMPTY_POLICY = `an empty policy would delete every snapshot; set at least one of ${RULE_LIST}`;

function describeValue(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the text ${JSON.stringify(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function durationField(example: string) {
  return z
    .string({
      error: (issue) =>
        typeof issue.input === "number"
          ? `expected a duration with a unit, as in "${example}", got the number ${issue.input}`
          : `expected a duration such as "${example}", got ${describeValue(issue.input)}`,
    })
    .transform((text, ctx): Duration => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    })
    .optional();
}

function countField(what: string) {
  const notACount = (issue: { input?: unknown }): string =>
    `expected a whole number of ${what} (1 or more), got ${describeValue(issue.input)}`;
  return z.int({ error: notACount }).min(1, { error: notACount }).optional();
}

/**
 * The policy as config and messages carry it. Each period rule is a window measured back from the
 * newest snapshot: inside it, the newest snapshot of each period is kept; each count rule keeps the
 * newest snapshot of each of the N newest periods that have one (see retention.ts).
 */
export const retentionPolicySchema = z
  .strictObject(
    {
      /** Keep every snapshot inside this window (point-in-time restore after pushes). */
      within: durationField("48h"),
      /** Keep the N newest snapshots, however old. */
      last: countField("snapshots"),
      /** restic's name for `last` (--keep-last): the same rule, read through lastRule(). */
      keepLast: countField("snapshots"),
      /** Keep the newest snapshot of each UTC day inside this window. */
      daily: durationField("30d"),
      /** Keep the newest snapshot of each ISO-8601 week inside this window. */
      weekly: durationField("90d"),
      /** Keep the newest snapshot of each month inside this window. */
      monthly: durationField("1y"),
      /** Keep the newest snapshot of each year inside this window. */
      yearly: durationField("7y"),
      /**
       * Count rules: the newest snapshot of each of the N newest hours (days, ISO weeks, months,
       * years) that have a snapshot, however old; a gap in backups does not use up the count.
       */
      keepHourly: countField("hours"),
      keepDaily: countField("days"),
      keepWeekly: countField("weeks"),
      keepMonthly: countField("months"),
      keepYearly: countField("years"),
      /** Legal hold: repositories ("owner/name") of which prune keeps every snapshot. */
      holdRepos: z.array(repoNameSchema).optional(),
    },
    {
      error: (issue) =>
        issue.code === "invalid_type"
          ? `expected a mapping of ${RULE_LIST}, got ${describeValue(issue.input)}`
          : undefined,
    },
  )
  .superRefine((policy, ctx) => {
    if (isEmptyPolicy(policy)) ctx.addIssue({ code: "custom", message: EMPTY_POLICY });
    if (policy.last !== undefined && policy.keepLast !== undefined) {
      const message = "last and keepLast are the same rule; set one of them";
      ctx.addIssue({ code: "custom", path: ["keepLast"], message });
    }
  });

/**
 * The keep-last rule under the name the policy gave it (`last`, or restic's `keepLast`), so reasons
 * quote the person's own word; the schema refuses both at once.
 */
export function lastRule(policy: RetentionPolicy): { name: "last" | "keepLast"; count: number } | undefined {
  if (policy.last !== undefined) return { name: "last", count: policy.last };
  if (policy.keepLast !== undefined) return { name: "keepLast", count: policy.keepLast };
  return undefined;
}

/** A parsed policy: durations already parsed, at least one rule set. */
export type RetentionPolicy = z.output<typeof retentionPolicySchema>;
/** A policy as written: durations as text ("30d"). */
export type RetentionPolicyInput = z.input<typeof retentionPolicySchema>;

export function isEmptyPolicy(policy: Partial<Record<(typeof RETENTION_RULES)[number], unknown>>): boolean {
  return RETENTION_RULES.every((rule) => policy[rule] === undefined);
}

/** Refuses a policy that keeps nothing; the planner calls it too, since a type allows `{}`. */
export function assertNonEmptyPolicy(policy: RetentionPolicy, source = "retention policy"): void {
  if (isEmptyPolicy(policy)) throw new UserInputError(`${source}: ${EMPTY_POLICY}`);
}

function formatIssue(source: string, issue: z.core.$ZodIssue): string[] {
  const at = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map(
      (key) => `${source}: ${[at, key].filter(Boolean).join(".")}: unknown key; expected one of ${RULE_LIST}`,
    );
  }
  return [at === "" ? `${source}: ${issue.message}` : `${source}: ${at}: ${issue.message}`];
}

/**
 * Parses a policy from plain data (e.g. parsed YAML or a message body). Throws UserInputError whose
 * message has one line per problem, each `<source>: <key>: <problem>`.
 */
export function parseRetentionPolicy(input: unknown, source = "retention policy"): RetentionPolicy {
  const result = retentionPolicySchema.safeParse(input);
  if (!result.success) {
    throw new UserInputError(result.error.issues.flatMap((issue) => formatIssue(source, issue)).join("\n"));
  }
  return result.data;
}

/** The promise: daily for 30 days, weekly for 90, monthly for a year, yearly for 7, all within 48h. */
export const DEFAULT_RETENTION_POLICY: RetentionPolicy = parseRetentionPolicy(
  { within: "48h", daily: "30d", weekly: "90d", monthly: "1y", yearly: "7y" },
  "default retention policy",
);
