// Pull request reviews through GraphQL, 100 pull requests a query (metadata-batch.ts): each review
// becomes the line REST's review list makes, `id` being the review's databaseId.
import { GRAPHQL_BATCH, readBatched, type BatchedKind, type Node } from "./metadata-batch.js";
import type { Line } from "./metadata-delta.js";
import type { RepoApi } from "./metadata-http.js";
import { reviewItem } from "./metadata-lines-work.js";
import { parseOne } from "./metadata-parse.js";

const REVIEW_FIELDS = `fragment Reviews on PullRequestReviewConnection {
  pageInfo { hasNextPage endCursor }
  nodes { databaseId author { login } body state commit { oid } submittedAt authorAssociation }
}`;

export function reviewsQuery(parents: readonly { number: number }[]): string {
  const cursors = parents.map((_, i) => `$a${i}: String`).join(", ");
  const aliases = parents
    .map(
      (p, i) =>
        `t${i}: pullRequest(number: ${p.number}) { reviews(first: 100, after: $a${i}) { ...Reviews } }`,
    )
    .join("\n    ");
  return `query Reviews($owner: String!, $name: String!, ${cursors}) {\n  repository(owner: $owner, name: $name) {\n    ${aliases}\n  }\n}\n${REVIEW_FIELDS}`;
}

/** A GraphQL review as a line of pull-reviews. */
export function reviewLine(parent: number, node: Node, what: string): Line {
  const commit = node.commit as { oid?: string } | null | undefined;
  const review = {
    id: node.databaseId,
    user: node.author ?? null,
    body: node.body,
    state: node.state,
    commit_id: commit?.oid ?? null,
    ...(typeof node.submittedAt === "string" ? { submitted_at: node.submittedAt } : {}),
    ...(typeof node.authorAssociation === "string" ? { author_association: node.authorAssociation } : {}),
  };
  return { pull_number: parent, ...parseOne({ path: "/graphql", data: review }, reviewItem, what) };
}

const REVIEWS: BatchedKind = {
  kind: "pull-reviews",
  query: reviewsQuery,
  connection: (item) => item.reviews as ReturnType<BatchedKind["connection"]>,
  line: reviewLine,
};

/** The pull-reviews lines of every pull request, in order (see readBatched). */
export function readReviews(
  api: RepoApi,
  repoPath: string,
  parents: readonly number[],
  options: { batch?: number; window?: number } = {},
): AsyncGenerator<Line> {
  return readBatched(api, REVIEWS, repoPath, parents, { ...options, batch: options.batch ?? GRAPHQL_BATCH });
}
