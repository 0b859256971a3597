// Timelines of many issues and pull requests per GraphQL query: one alias per issue
// (`issueOrPullRequest(number:)`), its `timelineItems` filtered to the events an audit or a restore
// needs, 100 a page; a long timeline's further pages are read in later queries, batched the same
// way. Each event becomes the line REST's timeline would have made (issueEventLine). GraphQL
// refused (no permission, an older GitHub Enterprise Server that lacks an item type): the caller
// reads the REST timelines instead.
import { databaseIdOf } from "./metadata-node-id.js";
import { GRAPHQL_BATCH, readBatched, type BatchedKind } from "./metadata-batch.js";
import type { Line } from "./metadata-delta.js";
import type { RepoApi } from "./metadata-http.js";
import { issueEventLine, timelineEvent } from "./metadata-lines-work.js";
import { parseOne } from "./metadata-parse.js";

type Node = Record<string, unknown>;

/** Issues (or pull requests) per query: 100 aliases of 100 events (twice: issue or pull request). */
export const TIMELINE_BATCH = GRAPHQL_BATCH;

const WHO =
  "... on User { login } ... on Bot { login } ... on Mannequin { login } ... on Organization { login }";
const SUBJECT = "number title repository { nameWithOwner }";

/** Event types read, with the fields beyond `id actor { login } createdAt` each needs. */
const ISSUE_EVENTS: Record<string, string> = {
  AssignedEvent: `assignee { ${WHO} }`,
  ClosedEvent: "stateReason closer { ... on Commit { oid } }",
  CommentDeletedEvent: "",
  ConnectedEvent: "",
  ConvertedToDiscussionEvent: "",
  CrossReferencedEvent: `source { __typename ... on Issue { ${SUBJECT} } ... on PullRequest { ${SUBJECT} } }`,
  DemilestonedEvent: "milestoneTitle",
  DisconnectedEvent: "",
  LabeledEvent: "label { name }",
  LockedEvent: "lockReason",
  MarkedAsDuplicateEvent: "",
  MentionedEvent: "",
  MilestonedEvent: "milestoneTitle",
  ParentIssueAddedEvent: "",
  ParentIssueRemovedEvent: "",
  PinnedEvent: "",
  ReferencedEvent: "commit { oid }",
  RenamedTitleEvent: "previousTitle currentTitle",
  ReopenedEvent: "stateReason",
  SubIssueAddedEvent: "",
  SubIssueRemovedEvent: "",
  SubscribedEvent: "",
  TransferredEvent: "",
  UnassignedEvent: `assignee { ${WHO} }`,
  UnlabeledEvent: "label { name }",
  UnlockedEvent: "",
  UnmarkedAsDuplicateEvent: "",
  UnpinnedEvent: "",
  UnsubscribedEvent: "",
  UserBlockedEvent: "",
};

const PULL_EVENTS: Record<string, string> = {
  ...ISSUE_EVENTS,
  AddedToMergeQueueEvent: "",
  AutoMergeDisabledEvent: "",
  AutoMergeEnabledEvent: "",
  AutoRebaseEnabledEvent: "",
  AutoSquashEnabledEvent: "",
  BaseRefChangedEvent: "",
  BaseRefDeletedEvent: "",
  BaseRefForcePushedEvent: "",
  ConvertToDraftEvent: "",
  DeployedEvent: "",
  HeadRefDeletedEvent: "",
  HeadRefForcePushedEvent: "",
  HeadRefRestoredEvent: "",
  MergedEvent: "commit { oid }",
  ReadyForReviewEvent: "",
  RemovedFromMergeQueueEvent: "",
  ReviewDismissedEvent: "dismissalMessage previousReviewState review { databaseId }",
  ReviewRequestRemovedEvent: `requestedReviewer { ${WHO.replace(" ... on Organization { login }", "")} ... on Team { slug } }`,
  ReviewRequestedEvent: `requestedReviewer { ${WHO.replace(" ... on Organization { login }", "")} ... on Team { slug } }`,
};

/** The types whose GraphQL object has a `databaseId` (REST's id): no need to decode the node id. */
const WITH_DATABASE_ID = new Set([
  "CommentDeletedEvent",
  "MentionedEvent",
  "BaseRefChangedEvent",
  "DeployedEvent",
  "ReviewDismissedEvent",
]);

/** REST's name for an event type where it is not the type's name in snake case. */
const REST_NAMES: Record<string, string> = {
  CrossReferencedEvent: "cross-referenced",
  RenamedTitleEvent: "renamed",
};

const snake = (type: string) => type.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
const restName = (type: string) => REST_NAMES[type] ?? snake(type.replace(/Event$/, ""));
const itemType = (type: string) => snake(type).toUpperCase();

/** The selection of one connection's page: every kept event type's fields, as a fragment. */
function fragment(name: string, on: string, events: Record<string, string>): string {
  const types = Object.keys(events)
    .map(
      (t) =>
        `... on ${t} { id actor { login } createdAt${WITH_DATABASE_ID.has(t) ? " databaseId" : ""} ${events[t]} }`,
    )
    .join("\n    ");
  return `fragment ${name} on ${on} {\n  pageInfo { hasNextPage endCursor }\n  nodes {\n    __typename\n    ${types}\n  }\n}`;
}

const FRAGMENTS = [
  fragment("IssueEvents", "IssueTimelineItemsConnection", ISSUE_EVENTS),
  fragment("PullEvents", "PullRequestTimelineItemsConnection", PULL_EVENTS),
].join("\n");

/** The item types asked for, passed once as variables rather than in every alias. */
export const ITEM_TYPES = {
  issueTypes: Object.keys(ISSUE_EVENTS).map(itemType),
  pullTypes: Object.keys(PULL_EVENTS).map(itemType),
};

/** The query for `parents`, one alias `t<i>` each, with `$a<i>` the cursor to start after. */
export function timelinesQuery(parents: readonly { number: number }[]): string {
  const cursors = parents.map((_, i) => `$a${i}: String`).join(", ");
  const aliases = parents
    .map(
      (p, i) =>
        `t${i}: issueOrPullRequest(number: ${p.number}) { __typename ` +
        `... on Issue { issueItems: timelineItems(first: 100, after: $a${i}, itemTypes: $issueTypes) { ...IssueEvents } } ` +
        `... on PullRequest { pullItems: timelineItems(first: 100, after: $a${i}, itemTypes: $pullTypes) { ...PullEvents } } }`,
    )
    .join("\n    ");
  return (
    `query Timelines($owner: String!, $name: String!, $issueTypes: [IssueTimelineItemsItemType!], ` +
    `$pullTypes: [PullRequestTimelineItemsItemType!], ${cursors}) {\n  repository(owner: $owner, name: $name) {\n    ${aliases}\n  }\n}\n${FRAGMENTS}`
  );
}

const lockReasons: Record<string, string> = { OFF_TOPIC: "off-topic", TOO_HEATED: "too heated" };
const lower = (value: unknown) => (typeof value === "string" ? value.toLowerCase() : value);
const loginOf = (actor: unknown) => (actor && typeof actor === "object" ? actor : null);

/** A GraphQL timeline item as REST's timeline event object, before the line schema trims it. */
function restEvent(node: Node): Node {
  const type = String(node.__typename);
  const nodeId = typeof node.id === "string" ? node.id : "";
  const id =
    type === "CrossReferencedEvent"
      ? undefined
      : typeof node.databaseId === "number"
        ? node.databaseId
        : databaseIdOf(nodeId);
  const event: Node = {
    ...(id !== undefined ? { id } : {}),
    event: restName(type),
    actor: loginOf(node.actor),
    created_at: node.createdAt,
  };
  const commit = (node.closer ?? node.commit) as { oid?: string } | null | undefined;
  if (type === "ClosedEvent" || type === "MergedEvent" || type === "ReferencedEvent")
    event.commit_id = commit?.oid ?? null;
  if (node.stateReason) event.state_reason = lower(node.stateReason);
  if (node.label) event.label = node.label;
  if ("assignee" in node) event.assignee = loginOf(node.assignee);
  if (type === "RenamedTitleEvent") event.rename = { from: node.previousTitle, to: node.currentTitle };
  if (type === "LockedEvent")
    event.lock_reason = node.lockReason
      ? (lockReasons[String(node.lockReason)] ?? lower(node.lockReason))
      : null;
  if (typeof node.milestoneTitle === "string") event.milestone = { title: node.milestoneTitle };
  const reviewer = node.requestedReviewer as { login?: string; slug?: string } | null | undefined;
  if (reviewer?.slug) event.requested_team = { slug: reviewer.slug };
  else if (reviewer?.login) event.requested_reviewer = { login: reviewer.login };
  if (type === "ReviewDismissedEvent") {
    const review = node.review as { databaseId?: number } | null;
    if (review?.databaseId !== undefined)
      event.dismissed_review = {
        review_id: review.databaseId,
        state: lower(node.previousReviewState),
        dismissal_message: node.dismissalMessage ?? null,
      };
  }
  const source = node.source as (Node & { repository?: { nameWithOwner?: string } }) | undefined;
  if (source && typeof source.number === "number")
    event.source = {
      type: "issue",
      issue: {
        number: source.number,
        title: source.title,
        repository: { full_name: source.repository?.nameWithOwner },
        ...(source.__typename === "PullRequest" ? { pull_request: {} } : {}),
      },
    };
  return { ...event, node_id: nodeId };
}

/** One GraphQL timeline item as a line of issue-events (see docs/FORMAT.md). */
export function timelineLine(parent: number, node: Node, what: string): Line {
  const { node_id, ...event } = restEvent(node);
  const parsed = parseOne({ path: "/graphql", data: event }, timelineEvent, what);
  return issueEventLine(parent, parsed, String(node_id));
}

/** Timelines as a kind read in batches (metadata-batch.ts). */
export const TIMELINES: BatchedKind = {
  kind: "issue-events",
  query: timelinesQuery,
  variables: ITEM_TYPES,
  connection: (item) => (item.issueItems ?? item.pullItems) as ReturnType<BatchedKind["connection"]>,
  line: timelineLine,
};

/** The issue-events lines of every parent, in parent order (see readBatched). */
export function readTimelines(
  api: RepoApi,
  repoPath: string,
  parents: readonly number[],
  options: { batch?: number; window?: number } = {},
): AsyncGenerator<Line> {
  return readBatched(api, TIMELINES, repoPath, parents, options);
}
