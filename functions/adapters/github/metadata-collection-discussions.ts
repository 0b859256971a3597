// Discussions and their comments (GraphQL) in a collection (metadata-collection.ts).
import type { ArchiveFile } from "../../core/archive/writer.js";
import { sortedUnique } from "../../core/metadata/order.js";
import { probeDiscussions, readDiscussionComments, readDiscussions } from "./metadata-discussions.js";
import { Unavailable } from "./metadata-http.js";
import type { CollectionState } from "./metadata-collection-state.js";
import { tap } from "./metadata-collection-lists.js";

async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/**
 * Discussions (GraphQL): none when the repository has them off, unchanged (same fingerprint), a
 * delta from the checkpoint's mark, or every one. A repository that answered 304 and had no
 * discussions to check keeps the chain's state of them.
 */
export async function* discussions(state: CollectionState): AsyncGenerator<ArchiveFile> {
  const kind = "discussions";
  const entry = state.checkpoint?.kinds.discussions;
  if (state.hasDiscussions === false) {
    // Off on most repositories: an empty file, not asked for and not reported as a gap.
    state.outcomes[kind] = { state: "full", items: 0 };
    yield state.kindFile(kind, []);
    return;
  }
  if (state.hasDiscussions === undefined && !entry) {
    state.outcomes[kind] = { state: "unchanged" };
    return;
  }
  const what = state.what(kind);
  let probe;
  try {
    probe = await probeDiscussions(state.api, what);
  } catch (err) {
    if (err instanceof Unavailable) return void state.unavailable(kind, err);
    throw err;
  }
  if (entry?.fingerprint === probe.fingerprint) {
    state.outcomes[kind] = { state: "unchanged" };
    state.next.kinds[kind] = entry;
    return;
  }
  const mark = probe.mark ?? entry?.mark;
  state.next.kinds[kind] = { requests: [], fingerprint: probe.fingerprint, ...(mark ? { mark } : {}) };
  const parents = state.discussionParents;
  const note = (line: { number: number; comments: number }) =>
    parents.push({ number: line.number, comments: line.comments });
  if (entry?.mark) {
    const lines = sortedUnique(kind, await toArray(readDiscussions(state.api, what, entry.mark)));
    lines.forEach(note);
    state.outcomes[kind] = { state: "delta", items: lines.length };
    yield state.kindFile(kind, lines);
    return;
  }
  const outcome = { state: "full" as const, items: 0 };
  state.outcomes[kind] = outcome;
  yield state.kindFile(kind, tap(readDiscussions(state.api, what), note), outcome);
}

/** Every comment and reply of the discussions in this collection's discussions file. */
export async function* discussionComments(state: CollectionState): AsyncGenerator<ArchiveFile> {
  const kind = "discussion-comments";
  const parent = state.outcomes.discussions;
  if (parent.state === "unavailable" || parent.state === "unchanged" || parent.state === "deferred") {
    state.outcomes[kind] = { ...parent };
    return;
  }
  state.assertPreviousRead(); // the parents are complete once their file was read
  const parents = [...state.discussionParents].sort((a, b) => a.number - b.number);
  const outcome = { state: parent.state, items: 0 };
  state.outcomes[kind] = outcome;
  yield state.kindFile(kind, readDiscussionComments(state.api, parents, state.what(kind)), outcome);
}
