// Line schemas of discussions and their comments and replies, read through GraphQL: each schema
// parses one GraphQL node and is its projection into an archive line, in the REST files' own
// vocabulary (snake_case, users as logins, reactions as counts), so a reader meets one style.
import { z } from "zod";

/** An author or actor kept as its login; a deleted account is null. */
const actor = z
  .object({ login: z.string() })
  .nullable()
  .transform((a) => a?.login ?? null);

/** GraphQL's reaction names, as the REST API names the same counts. */
const REACTION_NAMES: Readonly<Record<string, string>> = {
  THUMBS_UP: "+1",
  THUMBS_DOWN: "-1",
  LAUGH: "laugh",
  HOORAY: "hooray",
  CONFUSED: "confused",
  HEART: "heart",
  ROCKET: "rocket",
  EYES: "eyes",
};

/** Reaction groups as the REST API's reaction counts (who reacted is not kept). */
const reactionCounts = z
  .array(z.object({ content: z.string(), reactors: z.object({ totalCount: z.number().int() }) }))
  .transform((groups) => {
    const counts: Record<string, number> = { total_count: 0 };
    for (const name of Object.values(REACTION_NAMES)) counts[name] = 0;
    for (const { content, reactors } of groups) {
      const name = REACTION_NAMES[content];
      if (name) counts[name] = (counts[name] ?? 0) + reactors.totalCount;
      counts.total_count = (counts.total_count ?? 0) + reactors.totalCount;
    }
    return counts;
  });

export const pageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });

/** A discussion (fragment DiscussionFields) as a line of discussions.jsonl. */
export const discussionLine = z
  .object({
    number: z.number().int(),
    databaseId: z.number().int().nullable(),
    title: z.string(),
    body: z.string(),
    author: actor,
    authorAssociation: z.string(),
    category: z.object({ name: z.string(), slug: z.string(), isAnswerable: z.boolean() }),
    closed: z.boolean(),
    stateReason: z.string().nullable().optional(),
    closedAt: z.string().nullable(),
    locked: z.boolean(),
    activeLockReason: z.string().nullable(),
    answer: z.object({ databaseId: z.number().int().nullable() }).nullable(),
    answerChosenAt: z.string().nullable(),
    answerChosenBy: actor,
    labels: z
      .object({ nodes: z.array(z.object({ name: z.string() })) })
      .nullable()
      .transform((l) => (l?.nodes ?? []).map((n) => n.name)),
    upvoteCount: z.number().int(),
    reactionGroups: reactionCounts,
    comments: z.object({ totalCount: z.number().int() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .transform((d) => ({
    number: d.number,
    id: d.databaseId,
    title: d.title,
    body: d.body,
    user: d.author,
    author_association: d.authorAssociation,
    category: { name: d.category.name, slug: d.category.slug, is_answerable: d.category.isAnswerable },
    state: d.closed ? "closed" : "open",
    state_reason: d.stateReason ?? null,
    locked: d.locked,
    active_lock_reason: d.activeLockReason,
    answer_id: d.answer?.databaseId ?? null,
    answer_chosen_at: d.answerChosenAt,
    answer_chosen_by: d.answerChosenBy,
    labels: d.labels,
    upvote_count: d.upvoteCount,
    reactions: d.reactionGroups,
    comments: d.comments.totalCount,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    closed_at: d.closedAt,
  }));

export type DiscussionLine = z.output<typeof discussionLine>;

/** A comment or a reply (fragment CommentFields); `node` is its GraphQL id, for paging its replies. */
export const commentNode = z.object({
  id: z.string(),
  databaseId: z.number().int(),
  author: actor,
  authorAssociation: z.string(),
  body: z.string(),
  isAnswer: z.boolean(),
  isMinimized: z.boolean(),
  minimizedReason: z.string().nullable(),
  upvoteCount: z.number().int(),
  reactionGroups: reactionCounts,
  replyTo: z.object({ databaseId: z.number().int() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
});

type CommentNode = z.output<typeof commentNode>;

/** A comment or reply as a line of discussion-comments.jsonl; `reply_to` is null for a top-level comment. */
export function discussionCommentLine(discussionNumber: number, c: CommentNode) {
  return {
    discussion_number: discussionNumber,
    id: c.databaseId,
    reply_to: c.replyTo?.databaseId ?? null,
    user: c.author,
    author_association: c.authorAssociation,
    body: c.body,
    is_answer: c.isAnswer,
    is_minimized: c.isMinimized,
    minimized_reason: c.minimizedReason,
    upvote_count: c.upvoteCount,
    reactions: c.reactionGroups,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    deleted_at: c.deletedAt,
  };
}

export type DiscussionCommentLine = ReturnType<typeof discussionCommentLine>;
