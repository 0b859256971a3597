// The GitHub stand-in's timelines through GraphQL: `Repository.issueOrPullRequest(number:)` and its
// `timelineItems(first, after, itemTypes)`, served from the same REST-shaped events that
// GET /issues/{n}/timeline serves (RepoMetadata.timelines), turned into GitHub's GraphQL objects.
// Node ids are GitHub's two encodings (legacy base64 text for even event ids, MessagePack for odd),
// so a client has to read both. Item types are checked as GitHub's enums check them: a pull
// request's type asked of an issue is an error.
import { connection, GraphqlFailure, type FieldDef } from "./graphql-mini.js";
import type { RepoMetadata } from "./github-standin-metadata.js";

type ApiObject = Record<string, unknown>;
const S = (type: string): FieldDef => ({ type });

const ISSUE_TYPES = [
  "AddedToProjectEvent",
  "AssignedEvent",
  "ClosedEvent",
  "CommentDeletedEvent",
  "ConnectedEvent",
  "ConvertedNoteToIssueEvent",
  "ConvertedToDiscussionEvent",
  "CrossReferencedEvent",
  "DemilestonedEvent",
  "DisconnectedEvent",
  "IssueComment",
  "LabeledEvent",
  "LockedEvent",
  "MarkedAsDuplicateEvent",
  "MentionedEvent",
  "MilestonedEvent",
  "MovedColumnsInProjectEvent",
  "ParentIssueAddedEvent",
  "ParentIssueRemovedEvent",
  "PinnedEvent",
  "ReferencedEvent",
  "RemovedFromProjectEvent",
  "RenamedTitleEvent",
  "ReopenedEvent",
  "SubIssueAddedEvent",
  "SubIssueRemovedEvent",
  "SubscribedEvent",
  "TransferredEvent",
  "UnassignedEvent",
  "UnlabeledEvent",
  "UnlockedEvent",
  "UnmarkedAsDuplicateEvent",
  "UnpinnedEvent",
  "UnsubscribedEvent",
  "UserBlockedEvent",
];
const PULL_TYPES = [
  ...ISSUE_TYPES,
  "AddedToMergeQueueEvent",
  "AutoMergeDisabledEvent",
  "AutoMergeEnabledEvent",
  "AutoRebaseEnabledEvent",
  "AutoSquashEnabledEvent",
  "AutomaticBaseChangeFailedEvent",
  "AutomaticBaseChangeSucceededEvent",
  "BaseRefChangedEvent",
  "BaseRefDeletedEvent",
  "BaseRefForcePushedEvent",
  "ConvertToDraftEvent",
  "DeployedEvent",
  "DeploymentEnvironmentChangedEvent",
  "HeadRefDeletedEvent",
  "HeadRefForcePushedEvent",
  "HeadRefRestoredEvent",
  "MergedEvent",
  "PullRequestCommit",
  "PullRequestCommitCommentThread",
  "PullRequestReview",
  "PullRequestReviewThread",
  "PullRequestRevisionMarker",
  "ReadyForReviewEvent",
  "RemovedFromMergeQueueEvent",
  "ReviewDismissedEvent",
  "ReviewRequestRemovedEvent",
  "ReviewRequestedEvent",
].sort();

const snake = (type: string) => type.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
const itemTypeOf = (type: string) => snake(type).toUpperCase();

/** REST's event name -> GraphQL's type, where it is not the name in camel case plus "Event". */
const TYPE_OF_EVENT: Record<string, string> = {
  "cross-referenced": "CrossReferencedEvent",
  renamed: "RenamedTitleEvent",
  commented: "IssueComment",
  committed: "PullRequestCommit",
  reviewed: "PullRequestReview",
  "line-commented": "PullRequestReviewThread",
};
const typeOf = (event: string) =>
  TYPE_OF_EVENT[event] ?? event.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase()) + "Event";

/** Types with a `databaseId` field: their GraphQL object carries REST's id as it is. */
const WITH_DATABASE_ID = new Set([
  "CommentDeletedEvent",
  "MentionedEvent",
  "BaseRefChangedEvent",
  "DeployedEvent",
  "ReviewDismissedEvent",
]);

function msgpackInts(values: number[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x90 | values.length])];
  for (const v of values) {
    if (v <= 0x7f) parts.push(Buffer.from([v]));
    else if (v <= 0xffff) parts.push(Buffer.from([0xcd, v >> 8, v & 0xff]));
    else {
      const b = Buffer.alloc(5);
      b[0] = 0xce;
      b.writeUInt32BE(v, 1);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

/** GitHub's node id of an event: legacy text for even ids, the current MessagePack form for odd. */
export function eventNodeId(type: string, repoId: number, id: number): string {
  if (id % 2 === 0) return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
  const prefix = type.replace(/[a-z]/g, "");
  return `${prefix}_${msgpackInts([0, repoId, id]).toString("base64url")}`;
}

const login = (u: unknown) =>
  u && typeof u === "object" && "login" in u ? { __typename: "User", login: (u as ApiObject).login } : null;
const upper = (v: unknown) => (typeof v === "string" ? v.toUpperCase().replace(/[- ]/g, "_") : null);

/** A REST timeline event as GitHub's GraphQL timeline item. */
function graphqlItem(event: ApiObject, repoId: number, index: number): ApiObject {
  const type = typeOf(String(event.event));
  const id = typeof event.id === "number" ? event.id : 900_000_000 + index;
  const item: ApiObject = {
    __typename: type,
    id: eventNodeId(type, repoId, id),
    actor: login(event.actor ?? event.user),
    createdAt: event.created_at,
    ...(WITH_DATABASE_ID.has(type) ? { databaseId: event.id } : {}),
  };
  const label = event.label as ApiObject | undefined;
  if (label) item.label = { name: label.name };
  if ("assignee" in event) item.assignee = login(event.assignee);
  const rename = event.rename as { from: string; to: string } | undefined;
  if (rename) Object.assign(item, { previousTitle: rename.from, currentTitle: rename.to });
  if (type === "ClosedEvent")
    item.closer = event.commit_id ? { __typename: "Commit", oid: event.commit_id } : null;
  if (type === "MergedEvent" || type === "ReferencedEvent")
    item.commit = event.commit_id ? { oid: event.commit_id } : null;
  if ("state_reason" in event) item.stateReason = upper(event.state_reason);
  if (type === "LockedEvent") item.lockReason = upper(event.lock_reason);
  const milestone = event.milestone as ApiObject | undefined;
  if (milestone) item.milestoneTitle = milestone.title;
  if (event.requested_reviewer) item.requestedReviewer = login(event.requested_reviewer);
  const team = event.requested_team as ApiObject | undefined;
  if (team) item.requestedReviewer = { __typename: "Team", slug: team.slug };
  const dismissed = event.dismissed_review as ApiObject | undefined;
  if (dismissed)
    Object.assign(item, {
      review: { databaseId: dismissed.review_id },
      previousReviewState: upper(dismissed.state),
      dismissalMessage: dismissed.dismissal_message,
    });
  const source = (event.source as { issue?: ApiObject } | undefined)?.issue;
  if (source)
    item.source = {
      __typename: source.pull_request ? "PullRequest" : "Issue",
      number: source.number,
      title: source.title,
      repository: { nameWithOwner: (source.repository as ApiObject | undefined)?.full_name },
    };
  return item;
}

function timeline(subject: "Issue" | "PullRequest", allowed: readonly string[]): FieldDef {
  return {
    type: `${subject}TimelineItemsConnection`,
    args: {
      first: "Int",
      after: "String",
      last: "Int",
      before: "String",
      itemTypes: `[${subject}TimelineItemsItemType!]`,
    },
    resolve: (parent, args) => {
      const asked = (args.itemTypes as string[] | null) ?? allowed.map(itemTypeOf);
      const known = new Set(allowed.map(itemTypeOf));
      const wrong = asked.find((t) => !known.has(t));
      if (wrong)
        throw new GraphqlFailure([
          {
            message: `Argument 'itemTypes' on Field 'timelineItems' has an invalid value (${wrong}).`,
            extensions: { code: "argumentLiteralsIncompatible" },
          },
        ]);
      const events = parent.events as ApiObject[];
      const items = events
        .map((e, i) => graphqlItem(e, Number(parent.repoId), i))
        .filter((item) => asked.includes(itemTypeOf(String(item.__typename))));
      return connection(items, args, "timelineItems");
    },
  };
}

/** A REST review as GitHub's GraphQL PullRequestReview. */
function graphqlReview(review: ApiObject): ApiObject {
  return {
    databaseId: review.id,
    author: login(review.user),
    body: review.body ?? "",
    state: review.state,
    commit: review.commit_id ? { oid: review.commit_id } : null,
    submittedAt: review.submitted_at ?? null,
    authorAssociation: review.author_association ?? null,
  };
}

/** Repository.pullRequest over `meta`: its reviews from the same objects GET /pulls/{n}/reviews serves. */
export function pullRequest(): FieldDef {
  return {
    type: "PullRequest",
    args: { number: "Int!" },
    resolve: (repo, args) => {
      const meta = repo.meta as RepoMetadata;
      const pull = meta.pulls.find((p) => p.number === args.number);
      if (!pull)
        throw new GraphqlFailure([
          {
            type: "NOT_FOUND",
            message: `Could not resolve to a PullRequest with the number of ${String(args.number)}.`,
          },
        ]);
      return {
        __typename: "PullRequest",
        number: pull.number,
        repoId: repo.repoId,
        events: meta.timelines[Number(args.number)] ?? [],
        reviewList: (meta.reviews[Number(args.number)] ?? []).map(graphqlReview),
      };
    },
  };
}

/** Repository.issueOrPullRequest over `meta`, the repository's GitHub id in `repoId`. */
export function issueOrPullRequest(): FieldDef {
  return {
    type: "IssueOrPullRequest",
    args: { number: "Int!" },
    resolve: (repo, args) => {
      const meta = repo.meta as RepoMetadata;
      const issue = meta.issues.find((i) => i.number === args.number);
      if (!issue)
        throw new GraphqlFailure([
          {
            type: "NOT_FOUND",
            message: `Could not resolve to an issue or pull request with the number of ${String(args.number)}.`,
          },
        ]);
      return {
        __typename: issue.pull_request ? "PullRequest" : "Issue",
        number: issue.number,
        repoId: repo.repoId,
        events: meta.timelines[Number(args.number)] ?? [],
      };
    },
  };
}

const ACTOR = { login: S("String") };
const EVENT_FIELDS: Record<string, FieldDef> = {
  id: S("ID"),
  actor: S("Actor"),
  createdAt: S("DateTime"),
  databaseId: S("Int"),
  label: S("Label"),
  assignee: S("Assignee"),
  previousTitle: S("String"),
  currentTitle: S("String"),
  closer: S("Closer"),
  commit: S("Commit"),
  stateReason: S("IssueStateReason"),
  lockReason: S("LockReason"),
  milestoneTitle: S("String"),
  requestedReviewer: S("RequestedReviewer"),
  review: S("PullRequestReview"),
  previousReviewState: S("PullRequestReviewState"),
  dismissalMessage: S("String"),
  source: S("ReferencedSubject"),
};
const connectionType = (nodes: string) => ({
  totalCount: S("Int"),
  pageInfo: S("PageInfo"),
  nodes: S(`[${nodes}]`),
});
const subject = (type: "Issue" | "PullRequest", allowed: readonly string[]) => ({
  number: S("Int"),
  title: S("String"),
  repository: S("Repository"),
  timelineItems: timeline(type, allowed),
});

/** The types the timeline queries use, and the unions and interfaces among them. */
export const TIMELINE_TYPES: Record<string, Record<string, FieldDef>> = {
  ...Object.fromEntries(
    PULL_TYPES.map((t) => [
      t,
      t === "PullRequestReview"
        ? {
            ...EVENT_FIELDS,
            author: S("Actor"),
            body: S("String"),
            state: S("PullRequestReviewState"),
            submittedAt: S("DateTime"),
            authorAssociation: S("CommentAuthorAssociation"),
          }
        : EVENT_FIELDS,
    ]),
  ),
  Issue: subject("Issue", ISSUE_TYPES),
  PullRequest: {
    ...subject("PullRequest", PULL_TYPES),
    reviews: {
      type: "PullRequestReviewConnection",
      args: {
        first: "Int",
        after: "String",
        last: "Int",
        before: "String",
        states: "[PullRequestReviewState!]",
      },
      resolve: (pull, args) => connection((pull.reviewList as ApiObject[]) ?? [], args, "reviews"),
    },
  },
  PullRequestReviewConnection: {
    totalCount: S("Int"),
    pageInfo: S("PageInfo"),
    nodes: S("[PullRequestReview]"),
  },
  IssueOrPullRequest: {},
  ReferencedSubject: {},
  IssueTimelineItems: {},
  PullRequestTimelineItems: {},
  IssueTimelineItemsConnection: connectionType("IssueTimelineItems"),
  PullRequestTimelineItemsConnection: connectionType("PullRequestTimelineItems"),
  Assignee: {},
  RequestedReviewer: {},
  Closer: {},
  Commit: { oid: S("GitObjectID") },
  Mannequin: ACTOR,
  Organization: ACTOR,
  Team: { slug: S("String") },
  ProjectV2: { id: S("ID") },
};

export const TIMELINE_IMPLEMENTATIONS: Record<string, string[]> = {
  IssueOrPullRequest: ["Issue", "PullRequest"],
  ReferencedSubject: ["Issue", "PullRequest"],
  IssueTimelineItems: ISSUE_TYPES,
  PullRequestTimelineItems: PULL_TYPES,
  Assignee: ["Bot", "Mannequin", "Organization", "User"],
  RequestedReviewer: ["Bot", "Mannequin", "Team", "User"],
  Closer: ["Commit", "ProjectV2", "PullRequest"],
};
