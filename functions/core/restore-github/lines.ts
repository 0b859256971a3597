// The fields of a snapshot's metadata lines a restore to GitHub writes back, parsed as they stream
// out of the archive (docs/FORMAT.md "Metadata (meta/)"); everything else of a line is dropped.
import { z } from "zod";
import { ArchiveCorruptError } from "../errors.js";
import type { MetadataKind } from "../metadata/kinds.js";
import type { MetadataLine } from "../metadata/read.js";

const text = z.string().nullable().optional();
const who = z.string().nullable().optional();
const time = z.string().nullable().optional();
/** Reactions as the snapshot counts them ("+1": 2, heart: 1, total_count: 3). */
const reactions = z.record(z.string(), z.number()).optional();

const label = z.object({ name: z.string(), color: z.string().optional(), description: text });
const milestone = z.object({
  number: z.number().int(),
  title: z.string(),
  description: text,
  state: z.string(),
  due_on: time,
});
const issue = z.object({
  number: z.number().int(),
  title: z.string(),
  body: text,
  user: who,
  state: z.string(),
  state_reason: z.string().nullable().optional(),
  locked: z.boolean().optional(),
  active_lock_reason: z.string().nullable().optional(),
  labels: z.array(z.string()).default([]),
  assignees: z.array(z.string().nullable()).optional(),
  milestone: z.number().int().nullable().optional(),
  is_pull_request: z.boolean().default(false),
  reactions,
  created_at: time,
  updated_at: time,
  closed_at: time,
});
const comment = z.object({
  id: z.number().int(),
  issue_number: z.number().int(),
  user: who,
  body: text,
  reactions,
  created_at: time,
});
const branch = z.object({ ref: z.string(), sha: z.string(), repo: z.string().nullable().optional() });
const pull = z.object({
  number: z.number().int(),
  state: z.string(),
  draft: z.boolean().optional(),
  head: branch,
  base: branch,
  merged_at: time,
  merge_commit_sha: z.string().nullable().optional(),
});
const review = z.object({
  pull_number: z.number().int(),
  id: z.number().int(),
  user: who,
  body: text,
  state: z.string(),
  submitted_at: time,
});
const reviewComment = z.object({
  id: z.number().int(),
  pull_number: z.number().int(),
  user: who,
  body: text,
  path: z.string().optional(),
  line: z.number().int().nullable().optional(),
  in_reply_to_id: z.number().int().nullable().optional(),
  reactions,
  created_at: time,
});
const asset = z.object({
  id: z.number().int(),
  name: z.string(),
  label: text,
  content_type: z.string().optional(),
  size: z.number().int(),
  path: z.string().nullable().optional(),
});
const release = z.object({
  id: z.number().int(),
  tag_name: z.string(),
  target_commitish: z.string().optional(),
  name: text,
  body: text,
  draft: z.boolean(),
  prerelease: z.boolean(),
  author: who,
  created_at: time,
  published_at: time,
  assets: z.array(asset).default([]),
});
const discussion = z.object({ number: z.number().int() });

export const RESTORED_KINDS = [
  "labels",
  "milestones",
  "issues",
  "issue-comments",
  "pulls",
  "pull-reviews",
  "pull-review-comments",
  "releases",
  "discussions",
] as const satisfies readonly MetadataKind[];

export type RestoredKind = (typeof RESTORED_KINDS)[number];

const SCHEMAS = {
  labels: label,
  milestones: milestone,
  issues: issue,
  "issue-comments": comment,
  pulls: pull,
  "pull-reviews": review,
  "pull-review-comments": reviewComment,
  releases: release,
  discussions: discussion,
} satisfies Record<RestoredKind, z.ZodType>;

export type LabelLine = z.infer<typeof label>;
export type MilestoneLine = z.infer<typeof milestone>;
export type IssueLine = z.infer<typeof issue>;
export type CommentLine = z.infer<typeof comment>;
export type PullLine = z.infer<typeof pull>;
export type ReviewLine = z.infer<typeof review>;
export type ReviewCommentLine = z.infer<typeof reviewComment>;
export type ReleaseLine = z.infer<typeof release>;
export type AssetLine = z.infer<typeof asset>;

/** Parses one line of `kind` into the fields a restore uses; a line without them is a corrupt archive. */
export function restoredFields(kind: MetadataKind, line: MetadataLine): unknown {
  const schema = (SCHEMAS as Partial<Record<MetadataKind, z.ZodType>>)[kind];
  if (!schema) return line;
  const parsed = schema.safeParse(line);
  if (!parsed.success)
    throw new ArchiveCorruptError(
      `a line of meta/${kind}.jsonl lacks what a restore needs: ${parsed.error.issues
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    );
  return parsed.data;
}
