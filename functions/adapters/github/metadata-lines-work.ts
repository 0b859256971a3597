// Line schemas of issues and pull requests with their comments, timeline events and reviews.
import { z } from "zod";
import {
  labelNames,
  login,
  logins,
  numberFromUrl,
  optionalText,
  reactions,
  slugs,
  timestamp,
} from "./metadata-lines-common.js";

const milestoneNumber = z
  .object({ number: z.number().int() })
  .nullable()
  .optional()
  .transform((m) => m?.number ?? null);

/** Every issue and pull request, as the issues API lists them (a pull request is an issue too). */
export const issueLine = z
  .object({
    id: z.number().int(),
    number: z.number().int(),
    title: z.string(),
    body: optionalText,
    user: login,
    state: z.string(),
    state_reason: z.string().nullable().optional(),
    locked: z.boolean(),
    active_lock_reason: z.string().nullable().optional(),
    labels: labelNames,
    assignees: logins.optional(),
    milestone: milestoneNumber,
    comments: z.number().int(),
    reactions,
    author_association: z.string().optional(),
    closed_by: login.optional(),
    created_at: timestamp,
    updated_at: timestamp,
    closed_at: timestamp.nullable(),
    pull_request: z.object({}).optional(),
  })
  .transform(({ pull_request, ...issue }) => ({ ...issue, is_pull_request: pull_request !== undefined }));

export const issueCommentLine = z
  .object({
    id: z.number().int(),
    issue_url: numberFromUrl,
    user: login,
    body: optionalText,
    author_association: z.string().optional(),
    reactions,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .transform(({ issue_url, ...comment }) => ({ issue_number: issue_url, ...comment }));

/** Timeline events kept elsewhere: comments and reviews have their own files, commits are git data. */
export const TIMELINE_ELSEWHERE = new Set(["commented", "reviewed", "committed", "line-commented"]);

const source = z
  .object({
    type: z.string(),
    issue: z
      .object({
        number: z.number().int(),
        title: z.string().optional(),
        repository: z.object({ full_name: z.string() }).optional(),
        pull_request: z.object({}).optional(),
      })
      .optional(),
  })
  .optional()
  .transform((s) =>
    s?.issue
      ? {
          type: s.type,
          repository: s.issue.repository?.full_name ?? null,
          number: s.issue.number,
          title: s.issue.title ?? null,
          is_pull_request: s.issue.pull_request !== undefined,
        }
      : undefined,
  );

/** One timeline event, made a line by the issue it belongs to (see issueEventLine). */
export const timelineEvent = z.object({
  id: z.number().int().optional(),
  event: z.string(),
  actor: login.optional(),
  created_at: timestamp.optional(),
  commit_id: z.string().nullable().optional(),
  label: z.object({ name: z.string() }).optional(),
  assignee: login.optional(),
  rename: z.object({ from: z.string(), to: z.string() }).optional(),
  lock_reason: z.string().nullable().optional(),
  milestone: z.object({ title: z.string() }).optional(),
  requested_reviewer: login.optional(),
  requested_team: z.object({ slug: z.string() }).optional(),
  dismissed_review: z
    .object({ review_id: z.number().int(), state: z.string(), dismissal_message: z.string().nullable() })
    .optional(),
  state_reason: z.string().nullable().optional(),
  source,
});

type TimelineEvent = z.infer<typeof timelineEvent>;

/**
 * An event as a line of issue-events. `key` identifies it within its issue: GitHub's event id, or,
 * for a cross-reference (which has none), what referred to it and when; an event read through
 * GraphQL whose id could not be had is keyed by its node id.
 */
export function issueEventLine(issueNumber: number, event: TimelineEvent, nodeId?: string) {
  const { id, label, milestone, requested_team, ...rest } = event;
  const key =
    id !== undefined
      ? String(id)
      : nodeId && event.event !== "cross-referenced"
        ? nodeId
        : `${event.event}:${event.source?.repository ?? ""}#${event.source?.number ?? ""}@${event.created_at ?? ""}`;
  return {
    issue_number: issueNumber,
    key,
    ...(id !== undefined ? { id } : {}),
    ...rest,
    ...(label ? { label: label.name } : {}),
    ...(milestone ? { milestone: milestone.title } : {}),
    ...(requested_team ? { requested_team: requested_team.slug } : {}),
  };
}

const branch = z.object({
  label: z.string().optional(),
  ref: z.string(),
  sha: z.string(),
  repo: z
    .object({ full_name: z.string() })
    .nullable()
    .optional()
    .transform((r) => r?.full_name ?? null),
});

export const pullLine = z.object({
  id: z.number().int(),
  number: z.number().int(),
  title: z.string(),
  body: optionalText,
  user: login,
  state: z.string(),
  draft: z.boolean().optional(),
  locked: z.boolean(),
  active_lock_reason: z.string().nullable().optional(),
  head: branch,
  base: branch,
  merged_at: timestamp.nullable(),
  merge_commit_sha: z.string().nullable(),
  requested_reviewers: logins.optional(),
  requested_teams: slugs.optional(),
  assignees: logins.optional(),
  labels: labelNames,
  milestone: milestoneNumber,
  author_association: z.string().optional(),
  auto_merge: z.object({ merge_method: z.string(), enabled_by: login.optional() }).nullable().optional(),
  created_at: timestamp,
  updated_at: timestamp,
  closed_at: timestamp.nullable(),
});

export const reviewItem = z.object({
  id: z.number().int(),
  user: login,
  body: optionalText,
  state: z.string(),
  commit_id: z.string().nullable(),
  submitted_at: timestamp.optional(),
  author_association: z.string().optional(),
});

export const reviewCommentLine = z
  .object({
    id: z.number().int(),
    pull_request_url: numberFromUrl,
    pull_request_review_id: z.number().int().nullable(),
    in_reply_to_id: z.number().int().optional(),
    user: login,
    body: z.string(),
    path: z.string(),
    line: z.number().int().nullable().optional(),
    original_line: z.number().int().nullable().optional(),
    start_line: z.number().int().nullable().optional(),
    original_start_line: z.number().int().nullable().optional(),
    side: z.string().nullable().optional(),
    start_side: z.string().nullable().optional(),
    position: z.number().int().nullable().optional(),
    original_position: z.number().int().nullable().optional(),
    subject_type: z.string().optional(),
    commit_id: z.string(),
    original_commit_id: z.string(),
    diff_hunk: z.string(),
    author_association: z.string().optional(),
    reactions,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .transform(({ pull_request_url, ...comment }) => ({ pull_number: pull_request_url, ...comment }));
