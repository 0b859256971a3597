// Readers of a repository's discussions and their comment trees, through GraphQL (discussions have
// no REST API). Discussions page 100 at a time by cursor; a full read goes oldest first, a delta
// newest-updated first down to the checkpoint's mark. Comments are read afterwards, for several
// discussions per query (aliases), sized by each one's comment count to keep GraphQL's cost low.
import { createHash } from "node:crypto";
import { z } from "zod";
import { compareLines } from "../../core/metadata/order.js";
import { graphql } from "./metadata-graphql.js";
import type { RepoApi } from "./metadata-http.js";
import {
  commentNode,
  discussionCommentLine,
  discussionLine,
  pageInfo,
  type DiscussionCommentLine,
  type DiscussionLine,
} from "./metadata-lines-discussions.js";
import { parseOne } from "./metadata-parse.js";

const DISCUSSION_FIELDS = `fragment DiscussionFields on Discussion {
  number databaseId title body author { login } authorAssociation
  category { name slug isAnswerable }
  closed stateReason closedAt locked activeLockReason
  answer { databaseId } answerChosenAt answerChosenBy { login }
  labels(first: 100) { nodes { name } }
  upvoteCount reactionGroups { content reactors { totalCount } }
  comments { totalCount }
  createdAt updatedAt
}`;

const COMMENT_FIELDS = `fragment CommentFields on DiscussionComment {
  id databaseId author { login } authorAssociation body
  isAnswer isMinimized minimizedReason upvoteCount
  reactionGroups { content reactors { totalCount } }
  replyTo { databaseId }
  createdAt updatedAt deletedAt
}`;

export const DISCUSSIONS_QUERY = `query Discussions($owner: String!, $name: String!, $after: String, $orderBy: DiscussionOrder!) {
  repository(owner: $owner, name: $name) {
    discussions(first: 100, after: $after, orderBy: $orderBy) {
      pageInfo { hasNextPage endCursor }
      nodes { ...DiscussionFields }
    }
  }
}
${DISCUSSION_FIELDS}`;

/** The newest-updated discussions, slim: what the kind's fingerprint is made of. */
export const PROBE_QUERY = `query DiscussionsProbe($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    discussions(first: 20, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      nodes { number updatedAt comments { totalCount } }
    }
  }
}`;

export const REPLIES_QUERY = `query DiscussionReplies($id: ID!, $after: String) {
  node(id: $id) {
    ... on DiscussionComment {
      replies(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...CommentFields } }
    }
  }
}
${COMMENT_FIELDS}`;

/** Comments (each with its first 100 replies) of `size` discussions at once, aliased d0, d1… */
export function commentsQuery(size: number): string {
  const slots = Array.from({ length: size }, (_, i) => i);
  const variables = slots.map((i) => `$n${i}: Int!, $f${i}: Int!, $a${i}: String`).join(", ");
  const fields = slots.map(
    (i) => `    d${i}: discussion(number: $n${i}) {
      number
      comments(first: $f${i}, after: $a${i}) {
        pageInfo { hasNextPage endCursor }
        nodes { ...CommentFields replies(first: 100) { pageInfo { hasNextPage endCursor } nodes { ...CommentFields } } }
      }
    }`,
  );
  return `query DiscussionComments($owner: String!, $name: String!, ${variables}) {
  repository(owner: $owner, name: $name) {
${fields.join("\n")}
  }
}
${COMMENT_FIELDS}`;
}

const PAGE = 100;
/** Discussions per comments query, and the comments asked for in one (GraphQL's cost follows them). */
const BATCH_DISCUSSIONS = 10;
const BATCH_COMMENTS = 100;

/** `{ repository: … }`, the repository's part; a null repository (gone meanwhile) does not parse. */
const owned = <S extends z.ZodType>(inner: S) =>
  // The cast: zod cannot see through a generic object's fields; the schema checks the value.
  z.object({ repository: inner }).transform((d) => (d as { repository: z.output<S> }).repository);

const discussionsPage = owned(
  z.object({ discussions: z.object({ pageInfo, nodes: z.array(discussionLine) }) }),
);
const probeAnswer = owned(
  z.object({
    discussions: z.object({
      totalCount: z.number().int(),
      nodes: z.array(
        z.object({
          number: z.number().int(),
          updatedAt: z.string(),
          comments: z.object({ totalCount: z.number().int() }),
        }),
      ),
    }),
  }),
);
const replies = z.object({ pageInfo, nodes: z.array(commentNode) });
const commentWithReplies = commentNode.extend({ replies });
const commentsOfDiscussion = z
  .object({ number: z.number().int(), comments: z.object({ pageInfo, nodes: z.array(commentWithReplies) }) })
  .nullable();
const repliesAnswer = z.object({ node: z.object({ replies }).nullable() });

function parse<S extends z.ZodType>(data: unknown, schema: S, what: string): z.output<S> {
  return parseOne({ path: "/graphql", data }, schema, what);
}

function names(api: RepoApi): { owner: string; name: string } {
  const [owner = "", name = ""] = api.repo.split("/");
  return { owner, name };
}

export interface DiscussionsProbe {
  /** SHA-256 of the probe's answer: the same again means no discussion changed (see KindCheckpoint). */
  fingerprint: string;
  /** The newest `updatedAt`, when there is any discussion. */
  mark?: string;
}

/** One slim query: what the kind's checkpoint compares. Throws Unavailable when discussions cannot be read. */
export async function probeDiscussions(api: RepoApi, what: string): Promise<DiscussionsProbe> {
  const data = parse(await graphql(api, PROBE_QUERY, names(api), what), probeAnswer, what);
  const fingerprint = createHash("sha256").update(JSON.stringify(data.discussions)).digest("hex");
  const newest = data.discussions.nodes[0]?.updatedAt;
  return { fingerprint, ...(newest ? { mark: newest } : {}) };
}

/**
 * Discussions page by page: every one oldest first (`since` absent), or those updated at or after
 * `since`, newest first, stopping at the first page that reaches older ones.
 */
export async function* readDiscussions(
  api: RepoApi,
  what: string,
  since?: string,
): AsyncGenerator<DiscussionLine> {
  const orderBy = since
    ? { field: "UPDATED_AT", direction: "DESC" }
    : { field: "CREATED_AT", direction: "ASC" };
  let after: string | null = null;
  for (;;) {
    const variables: Record<string, unknown> = { ...names(api), after, orderBy };
    const page: z.output<typeof discussionsPage> = parse(
      await graphql(api, DISCUSSIONS_QUERY, variables, what),
      discussionsPage,
      what,
    );
    const { nodes, pageInfo: info } = page.discussions;
    const recent = since ? nodes.filter((d) => d.updated_at >= since) : nodes;
    yield* recent;
    if (recent.length < nodes.length || !info.hasNextPage || !info.endCursor) return;
    after = info.endCursor;
  }
}

/** A discussion whose comments to read, with how many top-level comments it listed. */
export interface DiscussionParent {
  number: number;
  comments: number;
}

/**
 * Every comment and reply of `parents`, in their order, each discussion's lines sorted by id. A
 * discussion deleted meanwhile is skipped. Throws Unavailable when comments cannot be read.
 */
export async function* readDiscussionComments(
  api: RepoApi,
  parents: readonly DiscussionParent[],
  what: string,
): AsyncGenerator<DiscussionCommentLine> {
  for (const batch of batches(parents)) {
    const found = await commentsOf(api, batch, what);
    for (const parent of batch) {
      const lines = found.get(parent.number);
      if (lines) yield* lines.sort((a, b) => compareLines("discussion-comments", a, b));
    }
  }
}

/** Consecutive discussions with comments, a few at a time, at most about BATCH_COMMENTS comments asked. */
function batches(parents: readonly DiscussionParent[]): DiscussionParent[][] {
  const out: DiscussionParent[][] = [];
  let current: DiscussionParent[] = [];
  let asked = 0;
  for (const parent of parents) {
    if (parent.comments <= 0) continue;
    const first = Math.min(parent.comments, PAGE);
    if (current.length > 0 && (current.length >= BATCH_DISCUSSIONS || asked + first > BATCH_COMMENTS)) {
      out.push(current);
      [current, asked] = [[], 0];
    }
    current.push(parent);
    asked += first;
  }
  if (current.length > 0) out.push(current);
  return out;
}

type Pending = { number: number; first: number; after: string | null };

/** The whole comment trees of one batch, by discussion number (absent: the discussion is gone). */
async function commentsOf(
  api: RepoApi,
  batch: readonly DiscussionParent[],
  what: string,
): Promise<Map<number, DiscussionCommentLine[]>> {
  const found = new Map<number, DiscussionCommentLine[]>();
  let pending: Pending[] = batch.map((p) => ({
    number: p.number,
    first: Math.min(p.comments, PAGE),
    after: null,
  }));
  while (pending.length > 0) {
    const variables: Record<string, unknown> = { ...names(api) };
    pending.forEach((p, i) =>
      Object.assign(variables, { [`n${i}`]: p.number, [`f${i}`]: p.first, [`a${i}`]: p.after }),
    );
    const answer = parse(
      await graphql(api, commentsQuery(pending.length), variables, what),
      owned(z.record(z.string(), commentsOfDiscussion)),
      what,
    );
    const more: Pending[] = [];
    for (const [i, p] of pending.entries()) {
      const discussion = answer[`d${i}`];
      if (!discussion) continue;
      const lines = found.get(p.number) ?? [];
      found.set(p.number, lines);
      for (const comment of discussion.comments.nodes) {
        lines.push(discussionCommentLine(p.number, comment));
        for (const reply of await allReplies(api, comment, what))
          lines.push(discussionCommentLine(p.number, reply));
      }
      const info = discussion.comments.pageInfo;
      if (info.hasNextPage && info.endCursor)
        more.push({ number: p.number, first: PAGE, after: info.endCursor });
    }
    pending = more;
  }
  return found;
}

/** A comment's replies: the first 100 came with it; the rest are paged from its node. */
async function allReplies(
  api: RepoApi,
  comment: z.output<typeof commentWithReplies>,
  what: string,
): Promise<z.output<typeof commentNode>[]> {
  const all = [...comment.replies.nodes];
  let info = comment.replies.pageInfo;
  while (info.hasNextPage && info.endCursor) {
    const answer = parse(
      await graphql(api, REPLIES_QUERY, { id: comment.id, after: info.endCursor }, what),
      repliesAnswer,
      what,
    );
    if (!answer.node) break; // the comment was deleted meanwhile
    all.push(...answer.node.replies.nodes);
    info = answer.node.replies.pageInfo;
  }
  return all;
}
