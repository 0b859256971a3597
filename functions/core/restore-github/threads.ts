// The conversation of an issue or pull request, as comments in the order they were written: its
// comments, and for a pull request its reviews (with a body or a verdict) and review comments,
// each with its provenance header (a review comment's file and line in it).
import type { CommentLine, ReviewCommentLine, ReviewLine } from "./lines.js";
import { reactionsNote, withProvenance } from "./provenance.js";

export interface ThreadComment {
  /** The journal key: "comment:<id>", "review:<id>", "review-comment:<id>". */
  key: string;
  /** The marker's kind and id (provenanceMarker). */
  kind: string;
  id: number;
  body: string;
  createdAt?: string;
}

export interface ThreadLines {
  comments: readonly CommentLine[];
  reviews: readonly ReviewLine[];
  reviewComments: readonly ReviewCommentLine[];
}

/** Every number's conversation, oldest first (same time: comments, reviews, review comments; then id). */
export function threadsByNumber(
  lines: ThreadLines,
  source: string,
  webUrl: string,
): Map<number, ThreadComment[]> {
  const threads = new Map<number, (ThreadComment & { order: number })[]>();
  const add = (number: number, comment: ThreadComment, order: number) => {
    const list = threads.get(number) ?? [];
    list.push({ ...comment, order });
    threads.set(number, list);
  };
  for (const c of lines.comments)
    add(
      c.issue_number,
      {
        key: `comment:${c.id}`,
        kind: "comment",
        id: c.id,
        createdAt: c.created_at ?? undefined,
        body: withProvenance(
          {
            kind: "comment",
            source,
            id: c.id,
            author: c.user,
            at: c.created_at,
            url: `${webUrl}/${source}/issues/${c.issue_number}#issuecomment-${c.id}`,
            notes: reactionsNote(c.reactions),
          },
          c.body,
        ),
      },
      0,
    );
  for (const r of lines.reviews) {
    // A bare "commented" review only holds its review comments, which come on their own.
    if (!r.body && r.state === "COMMENTED") continue;
    add(
      r.pull_number,
      {
        key: `review:${r.id}`,
        kind: "review",
        id: r.id,
        createdAt: r.submitted_at ?? undefined,
        body: withProvenance(
          {
            kind: "review",
            source,
            id: r.id,
            author: r.user,
            at: r.submitted_at,
            url: `${webUrl}/${source}/pull/${r.pull_number}#pullrequestreview-${r.id}`,
            notes: [`Review: ${r.state}`],
          },
          r.body,
        ),
      },
      1,
    );
  }
  for (const c of lines.reviewComments)
    add(
      c.pull_number,
      {
        key: `review-comment:${c.id}`,
        kind: "review-comment",
        id: c.id,
        createdAt: c.created_at ?? undefined,
        body: withProvenance(
          {
            kind: "review-comment",
            source,
            id: c.id,
            author: c.user,
            at: c.created_at,
            url: `${webUrl}/${source}/pull/${c.pull_number}#discussion_r${c.id}`,
            notes: [
              `Review comment on ${c.path ?? "the diff"}${c.line ? ` line ${c.line}` : ""}${
                c.in_reply_to_id ? `, in reply to review comment ${c.in_reply_to_id}` : ""
              }`,
              ...reactionsNote(c.reactions),
            ],
          },
          c.body,
        ),
      },
      2,
    );
  const sorted = new Map<number, ThreadComment[]>();
  for (const [number, list] of threads) {
    list.sort(
      (a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? "") || a.order - b.order || a.id - b.id,
    );
    sorted.set(
      number,
      list.map(({ order: _order, ...comment }) => comment),
    );
  }
  return sorted;
}
