// The GitHub stand-in's POST /graphql: the part of GitHub's schema the discussions collection reads
// (repository, discussions and their comments and replies, node lookup), validated and run by
// graphql-mini over the discussions a test puts in a RepoMetadata (GraphQL-shaped objects: each
// discussion holds `comments`, each comment its `replies`). Answers as GitHub does: HTTP 200 with
// `data`, or with `errors` for a query it refuses, and GraphQL's rate-limit headers.
import {
  connection,
  execute,
  GraphqlFailure,
  type FieldDef,
  type GraphqlError,
  type Schema,
} from "./graphql-mini.js";
import type { RepoMetadata } from "./github-standin-metadata.js";
import {
  ORG_CONTENT_FIELDS,
  ORG_GRAPHQL_IMPLEMENTATIONS,
  ORG_GRAPHQL_TYPES,
  organizationField,
  type OrgMetadata,
} from "./github-standin-org.js";
import {
  issueOrPullRequest,
  pullRequest,
  TIMELINE_IMPLEMENTATIONS,
  TIMELINE_TYPES,
} from "./github-standin-timeline.js";

type ApiObject = Record<string, unknown>;

const S = (type: string): FieldDef => ({ type });
const page = { first: "Int", after: "String", last: "Int", before: "String" };
const paged = (type: string, field: string, items: (parent: ApiObject) => ApiObject[]): FieldDef => ({
  type,
  args: page,
  resolve: (parent, args) => connection(items(parent), args, field),
});

const ACTOR = { login: S("String"), avatarUrl: S("URI"), url: S("URI") };

const COMMENT_FIELDS: Record<string, FieldDef> = {
  id: S("ID"),
  databaseId: S("Int"),
  author: S("Actor"),
  authorAssociation: S("CommentAuthorAssociation"),
  body: S("String"),
  bodyText: S("String"),
  url: S("URI"),
  isAnswer: S("Boolean"),
  isMinimized: S("Boolean"),
  minimizedReason: S("String"),
  upvoteCount: S("Int"),
  reactionGroups: S("[ReactionGroup!]"),
  replyTo: S("DiscussionComment"),
  replies: paged("DiscussionCommentConnection", "replies", (c) => (c.replies as ApiObject[]) ?? []),
  createdAt: S("DateTime"),
  updatedAt: S("DateTime"),
  lastEditedAt: S("DateTime"),
  deletedAt: S("DateTime"),
};

export interface GraphqlContext {
  /** The repository `owner/name` names, when the caller's installation may read it; else undefined. */
  repository(
    owner: string,
    name: string,
  ): { nameWithOwner: string; databaseId: number; meta: RepoMetadata } | undefined;
  /** Every repository the caller may read (for node lookups). */
  readable(): { discussions: ApiObject[] }[];
  /** The organization `login` names, when it is the caller's installation's (github-standin-org.ts). */
  organization?(login: string): OrgMetadata | undefined;
}

function ordered(discussions: ApiObject[], orderBy: unknown): ApiObject[] {
  const order = (orderBy ?? { field: "UPDATED_AT", direction: "DESC" }) as {
    field?: string;
    direction?: string;
  };
  const key = order.field === "CREATED_AT" ? "createdAt" : "updatedAt";
  const sign = order.direction === "ASC" ? 1 : -1;
  return [...discussions].sort(
    (a, b) => sign * (String(a[key]).localeCompare(String(b[key])) || Number(a.number) - Number(b.number)),
  );
}

function schemaFor(ctx: GraphqlContext): Schema {
  return {
    maxPage: 100,
    maxNodes: 500_000,
    implementations: {
      Node: ["DiscussionComment", "Discussion"],
      Actor: ["User", "Bot", "Mannequin", "Organization"],
      ...TIMELINE_IMPLEMENTATIONS,
      ...ORG_GRAPHQL_IMPLEMENTATIONS,
    },
    types: {
      ...TIMELINE_TYPES,
      ...ORG_GRAPHQL_TYPES,
      Issue: { ...TIMELINE_TYPES.Issue, ...ORG_CONTENT_FIELDS },
      PullRequest: { ...TIMELINE_TYPES.PullRequest, ...ORG_CONTENT_FIELDS },
      Query: {
        organization: organizationField((login) => ctx.organization?.(login)),
        repository: {
          type: "Repository",
          args: { owner: "String!", name: "String!", followRenames: "Boolean" },
          resolve: (_root, args) => {
            const found = ctx.repository(String(args.owner), String(args.name));
            if (!found)
              throw new GraphqlFailure([
                {
                  type: "NOT_FOUND",
                  path: ["repository"],
                  message: `Could not resolve to a Repository with the name '${String(args.owner)}/${String(args.name)}'.`,
                },
              ]);
            return {
              nameWithOwner: found.nameWithOwner,
              discussions: found.meta.discussions,
              meta: found.meta,
              repoId: found.databaseId,
            };
          },
        },
        node: {
          type: "Node",
          args: { id: "ID!" },
          resolve: (_root, args) => {
            for (const repo of ctx.readable())
              for (const d of repo.discussions)
                for (const c of (d.comments as ApiObject[]) ?? [])
                  if (c.id === args.id) return { __typename: "DiscussionComment", ...c };
            return null;
          },
        },
      },
      Node: { id: S("ID") },
      Actor: ACTOR,
      User: ACTOR,
      Bot: ACTOR,
      Repository: {
        id: S("ID"),
        nameWithOwner: S("String"),
        hasDiscussionsEnabled: S("Boolean"),
        discussions: {
          type: "DiscussionConnection",
          args: {
            ...page,
            orderBy: "DiscussionOrder",
            categoryId: "ID",
            answered: "Boolean",
            states: "[DiscussionState!]",
          },
          resolve: (repo, args) =>
            connection(ordered(repo.discussions as ApiObject[], args.orderBy), args, "discussions"),
        },
        issueOrPullRequest: issueOrPullRequest(),
        pullRequest: pullRequest(),
        discussion: {
          type: "Discussion",
          args: { number: "Int!" },
          resolve: (repo, args) =>
            (repo.discussions as ApiObject[]).find((d) => d.number === args.number) ?? null,
        },
      },
      DiscussionConnection: { totalCount: S("Int"), pageInfo: S("PageInfo"), nodes: S("[Discussion]") },
      DiscussionCommentConnection: {
        totalCount: S("Int"),
        pageInfo: S("PageInfo"),
        nodes: S("[DiscussionComment]"),
      },
      LabelConnection: { totalCount: S("Int"), pageInfo: S("PageInfo"), nodes: S("[Label]") },
      PageInfo: {
        hasNextPage: S("Boolean"),
        endCursor: S("String"),
        hasPreviousPage: S("Boolean"),
        startCursor: S("String"),
      },
      Label: { name: S("String"), color: S("String"), description: S("String") },
      ReactionGroup: { content: S("ReactionContent"), reactors: S("ReactorConnection") },
      ReactorConnection: { totalCount: S("Int") },
      DiscussionCategory: {
        id: S("ID"),
        name: S("String"),
        slug: S("String"),
        emoji: S("String"),
        description: S("String"),
        isAnswerable: S("Boolean"),
      },
      Discussion: {
        id: S("ID"),
        number: S("Int"),
        databaseId: S("Int"),
        title: S("String"),
        body: S("String"),
        bodyText: S("String"),
        url: S("URI"),
        author: S("Actor"),
        authorAssociation: S("CommentAuthorAssociation"),
        category: S("DiscussionCategory"),
        closed: S("Boolean"),
        closedAt: S("DateTime"),
        stateReason: S("DiscussionStateReason"),
        locked: S("Boolean"),
        activeLockReason: S("LockReason"),
        isAnswered: S("Boolean"),
        answer: S("DiscussionComment"),
        answerChosenAt: S("DateTime"),
        answerChosenBy: S("Actor"),
        labels: paged("LabelConnection", "labels", (d) => (d.labels as ApiObject[]) ?? []),
        upvoteCount: S("Int"),
        reactionGroups: S("[ReactionGroup!]"),
        comments: paged("DiscussionCommentConnection", "comments", (d) => (d.comments as ApiObject[]) ?? []),
        createdAt: S("DateTime"),
        updatedAt: S("DateTime"),
        lastEditedAt: S("DateTime"),
      },
      DiscussionComment: COMMENT_FIELDS,
    },
  };
}

/** GitHub's answer to a GraphQL POST body, as HTTP 200 JSON (GitHub answers a refused query with 200 too). */
export function answerGraphql(
  body: Record<string, unknown>,
  ctx: GraphqlContext,
): { data?: unknown; errors?: unknown[] } {
  if (typeof body.query !== "string")
    return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  const variables = (body.variables ?? {}) as Record<string, unknown>;
  try {
    const partial: GraphqlError[] = [];
    const data = execute(schemaFor(ctx), body.query, variables, {}, partial);
    return partial.length > 0 ? { data, errors: partial } : { data };
  } catch (err) {
    if (err instanceof GraphqlFailure) {
      // Validation errors come alone; errors met while running come with what data there is.
      const ran = err.errors.some((e) => e.type !== undefined);
      return ran ? { data: null, errors: err.errors } : { errors: err.errors };
    }
    throw err;
  }
}
