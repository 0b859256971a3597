// A repository's discussions in GraphQL's shape, for the stand-in's POST /graphql: more than a page
// of them, an answered and locked question, a discussion with more than a page of comments, a
// comment with more than a page of replies, a deleted author, a minimized comment, labels and
// reactions. Every id and cursor is as GitHub would have it, so trimming is exercised too.
import { at } from "./github-metadata-fixture.js";
import type { RepoMetadata } from "./github-standin-metadata.js";

type ApiObject = Record<string, unknown>;

const author = (login: string | null) => (login === null ? null : { login, avatarUrl: "x", url: "x" });
const reactionGroups = (n: number) => [
  { content: "THUMBS_UP", reactors: { totalCount: n } },
  { content: "HEART", reactors: { totalCount: n % 2 } },
  { content: "EYES", reactors: { totalCount: 0 } },
];
const GENERAL = {
  id: "DIC_1",
  name: "General",
  slug: "general",
  emoji: ":speech_balloon:",
  isAnswerable: false,
};
const QA = { id: "DIC_2", name: "Q&A", slug: "q-a", emoji: ":pray:", isAnswerable: true };

export interface DiscussionsOptions {
  /** Discussions in all (numbers 1..n); default 130 (two pages of 100). */
  discussions?: number;
  /** Text put in the body of discussion 3 and of the first reply in it (attachment links, say). */
  extraBody?: string;
}

let nextComment = 0;

/** A comment or reply in GraphQL's shape; replies are attached by the caller. */
export function discussionComment(options: {
  databaseId: number;
  body: string;
  at: number;
  login?: string | null;
  replyTo?: ApiObject;
  isAnswer?: boolean;
  minimized?: boolean;
}): ApiObject {
  return {
    id: `DC_kwDO${options.databaseId}`,
    databaseId: options.databaseId,
    author: author(options.login === undefined ? "carol" : options.login),
    authorAssociation: "CONTRIBUTOR",
    body: options.body,
    bodyText: options.body,
    url: `https://github.com/x#discussioncomment-${options.databaseId}`,
    isAnswer: options.isAnswer ?? false,
    isMinimized: options.minimized ?? false,
    minimizedReason: options.minimized ? "spam" : null,
    upvoteCount: options.databaseId % 3,
    reactionGroups: reactionGroups(options.databaseId % 4),
    replyTo: options.replyTo ? { id: options.replyTo.id, databaseId: options.replyTo.databaseId } : null,
    replies: [],
    createdAt: at(options.at),
    updatedAt: at(options.at + 5),
    lastEditedAt: null,
    deletedAt: null,
  };
}

/** Fills `meta.discussions` and turns discussions on. */
export function fillDiscussions(meta: RepoMetadata, options: DiscussionsOptions = {}): void {
  meta.settings.has_discussions = true;
  const count = options.discussions ?? 130;
  for (let n = 1; n <= count; n++) {
    const comments: ApiObject[] = [];
    const topLevel = n === 1 ? 130 : n % 5 === 0 ? 0 : n % 3;
    for (let c = 0; c < topLevel; c++) {
      const id = 2_000_000 + ++nextComment;
      const comment = discussionComment({
        databaseId: id,
        body: `Comment ${c} on discussion ${n}`,
        at: 300_000 + n * 1000 + c,
        isAnswer: n === 1 && c === 2,
        minimized: n === 2 && c === 0,
        login: n === 2 && c === 1 ? null : "carol",
      });
      const replies = n === 1 && c === 0 ? 120 : c === 0 && n % 2 === 0 ? 2 : 0;
      comment.replies = Array.from({ length: replies }, (_, r) =>
        discussionComment({
          databaseId: 3_000_000 + ++nextComment,
          body: r === 0 && n === 3 && options.extraBody ? `A reply ${options.extraBody}` : `Reply ${r}`,
          at: 300_000 + n * 1000 + 500 + r,
          login: "dave",
          replyTo: comment,
        }),
      );
      comments.push(comment);
    }
    const answer = comments.find((c) => c.isAnswer);
    meta.discussions.push({
      id: `D_kwDO${n}`,
      number: n,
      databaseId: 5_000_000 + n,
      title: n === 1 ? "How do I restore?" : `Discussion ${n}`,
      body:
        n === 3 && options.extraBody
          ? `Body ${n} ${options.extraBody}`
          : `Body of discussion ${n}\nwith ünïcode ✓`,
      bodyText: "x",
      url: `https://github.com/x/discussions/${n}`,
      author: author(n === 2 ? null : n % 2 ? "alice" : "bob"),
      authorAssociation: "MEMBER",
      category: n % 4 === 1 ? QA : GENERAL,
      closed: n === 1,
      closedAt: n === 1 ? at(400_000) : null,
      stateReason: n === 1 ? "RESOLVED" : null,
      locked: n === 1,
      activeLockReason: n === 1 ? "RESOLVED" : null,
      isAnswered: answer !== undefined,
      answer: answer ? { id: answer.id, databaseId: answer.databaseId } : null,
      answerChosenAt: answer ? at(350_000) : null,
      answerChosenBy: answer ? author("alice") : null,
      labels: n % 3 === 0 ? [{ name: "bug", color: "f00", description: null }] : [],
      upvoteCount: n % 7,
      reactionGroups: reactionGroups(n % 5),
      comments,
      createdAt: at(250_000 + n * 10),
      updatedAt: at(300_000 + n * 1000 + 900),
      lastEditedAt: null,
    });
  }
}
