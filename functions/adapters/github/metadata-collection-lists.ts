// The list kinds of a collection (metadata-collection.ts): whole kinds asked again by ETag, releases
// with their assets, delta kinds read since the checkpoint's mark, and the kinds read per issue or
// pull request (timelines, reviews), each within the rate budget.
import type { ArchiveFile } from "../../core/archive/writer.js";
import { PARENT_KIND, type RepoKind } from "../../core/metadata/kinds.js";
import { sortedUnique } from "../../core/metadata/order.js";
import { verifiedAsset } from "./metadata-assets.js";
import {
  DELTA_LISTS,
  newestUpdate,
  readAll,
  readSince,
  type DeltaKind,
  type Line,
  type PerParentKind,
} from "./metadata-delta.js";
import { Recorder, Unavailable, type Answer } from "./metadata-http.js";
import type { ReleaseLine } from "./metadata-lines-repo.js";
import { parseList } from "./metadata-parse.js";
import { readReviews } from "./metadata-reviews.js";
import { readTimelines } from "./metadata-timelines.js";
import { readWhole } from "./metadata-whole.js";
import type { CollectionState } from "./metadata-collection-state.js";

async function* concat<T>(first: readonly T[], rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield* first;
  yield* rest;
}

/** `items` as they come, `each` called on every one on its way. */
export async function* tap<T>(items: AsyncIterable<T>, each: (item: T) => void): AsyncGenerator<T> {
  for await (const item of items) {
    each(item);
    yield item;
  }
}

/** A delta kind's newest-first page, asked with the checkpoint's ETag (undefined: 304). */
export function probeDelta(state: CollectionState, kind: DeltaKind): Promise<Answer | undefined> {
  const spec = DELTA_LISTS[kind](state.repoPath);
  const entry = state.checkpoint?.kinds[kind];
  const etag = entry?.requests[0]?.path === spec.newest ? entry.requests[0].etag : undefined;
  return state.api.get(spec.newest, { ...(etag ? { etag } : {}), what: state.what(kind) });
}

/** A whole kind's lines, sorted; undefined when it is unchanged or unavailable (outcome set). */
async function wholeLines(state: CollectionState, kind: RepoKind): Promise<Line[] | undefined> {
  const entry = state.checkpoint?.kinds[kind];
  const unchanged =
    entry &&
    entry.requests.length > 0 &&
    (await (state.checks.get(kind) ?? state.api.unchanged(entry.requests, state.what(kind))));
  if (unchanged) {
    state.outcomes[kind] = { state: "unchanged" };
    state.next.kinds[kind] = entry;
    return undefined;
  }
  // A changed kind (its ETag moved) changed now; one read whole, when the repository last did.
  const changedAt = entry ? new Date().toISOString() : state.repoChangedAt;
  const cost = Math.max(1, entry?.requests.length ?? 1);
  if (!state.api.budget.allows("core", cost, changedAt)) return void state.defer(kind, entry);
  const record = new Recorder();
  let lines: Line[];
  try {
    lines = await readWhole(state.api, kind, state.repoPath, record);
  } catch (err) {
    if (err instanceof Unavailable) return state.unavailable(kind, err);
    throw err;
  }
  if (record.complete && record.requests.length > 0) state.next.kinds[kind] = { requests: record.requests };
  const sorted = sortedUnique(kind, lines);
  state.outcomes[kind] = { state: "full", items: sorted.length };
  return sorted;
}

export async function* whole(state: CollectionState, kind: RepoKind): AsyncGenerator<ArchiveFile> {
  const lines = await wholeLines(state, kind);
  if (lines) yield state.kindFile(kind, lines);
}

/** Releases, then each asset not yet in the chain, streamed from GitHub into the archive. */
export async function* releases(state: CollectionState): AsyncGenerator<ArchiveFile> {
  const known = state.checkpoint?.assets ?? {};
  const releases = (await wholeLines(state, "releases")) as ReleaseLine[] | undefined;
  const kept = state.outcomes.releases.state;
  if (kept === "unchanged" || kept === "deferred") Object.assign(state.next.assets, known);
  if (!releases) return;
  yield state.kindFile("releases", releases);
  for (const release of releases) {
    for (const asset of release.assets) {
      if (!asset.path) continue;
      const id = String(asset.id);
      if (known[id]) {
        state.next.assets[id] = known[id];
        continue;
      }
      const what = `release asset ${asset.id} of ${release.tag_name} in ${state.api.repo}`;
      state.assertPreviousRead();
      const body = await state.api.openAsset(`${state.repoPath}/releases/assets/${asset.id}`, what);
      if (!body) continue; // deleted since the release was listed
      state.unopened = body;
      const path = asset.path;
      yield state.file(path, () => {
        state.unopened = undefined;
        return verifiedAsset(body, asset, what, (sha256, size) => {
          state.next.assets[id] = sha256;
          state.assets.push({
            releaseId: release.id,
            assetId: asset.id,
            name: asset.name,
            path,
            size,
            sha256,
          });
        });
      });
    }
  }
}

export async function* delta(state: CollectionState, kind: DeltaKind): AsyncGenerator<ArchiveFile> {
  const spec = DELTA_LISTS[kind](state.repoPath);
  const entry = state.checkpoint?.kinds[kind];
  const what = state.what(kind);
  let probe;
  try {
    probe = await (state.probes.get(kind) ?? probeDelta(state, kind));
  } catch (err) {
    if (err instanceof Unavailable) return void state.unavailable(kind, err);
    throw err;
  }
  if (!probe) {
    state.outcomes[kind] = { state: "unchanged" };
    state.next.kinds[kind] = entry!;
    return;
  }
  // The mark is taken before reading: whatever changes while we read is at or after it.
  const newest = parseList(probe, spec.line, what) as Line[];
  const mark = newestUpdate(newest) ?? entry?.mark;
  if (!fitsBudget(state, kind, probe, newest, entry?.mark)) return void state.defer(kind, entry);
  if (probe.etag)
    state.next.kinds[kind] = {
      requests: [{ path: spec.newest, etag: probe.etag }],
      ...(mark ? { mark } : {}),
    };
  const parentOf = kind === "issues" || kind === "pulls" ? kind : undefined;
  if (entry?.mark) {
    const lines = sortedUnique(kind, await readSince(state.api, probe, spec, entry.mark, what));
    if (parentOf) state.parents[parentOf] = lines.map((line) => Number(line.number));
    state.outcomes[kind] = { state: "delta", items: lines.length };
    yield state.kindFile(kind, lines);
    return;
  }
  const outcome = { state: "full" as const, items: 0 };
  state.outcomes[kind] = outcome;
  const numbers: number[] = [];
  if (parentOf) state.parents[parentOf] = numbers;
  const lines = tap(readAll(state.api, spec, what), (line) => parentOf && numbers.push(Number(line.number)));
  yield state.kindFile(kind, lines, outcome);
}

export async function* perParent(state: CollectionState, kind: PerParentKind): AsyncGenerator<ArchiveFile> {
  const parent = state.outcomes[PARENT_KIND[kind] as "issues" | "pulls"];
  if (parent.state === "unavailable" || parent.state === "unchanged" || parent.state === "deferred") {
    state.outcomes[kind] = { ...parent };
    return;
  }
  state.assertPreviousRead(); // the parents' numbers are complete once their file was read
  const numbers = state.parents[PARENT_KIND[kind] as "issues" | "pulls"] ?? [];
  // Timelines and reviews through GraphQL, many issues or pull requests a query.
  const options = { batch: state.timelineBatch, window: state.window };
  const lines =
    kind === "issue-events"
      ? readTimelines(state.api, state.repoPath, numbers, options)
      : readReviews(state.api, state.repoPath, numbers, options);
  let first: IteratorResult<Line>;
  try {
    // The first lines are read before the file is opened: an unavailable kind has no file.
    first = await lines.next();
  } catch (err) {
    if (err instanceof Unavailable) return void state.unavailable(kind, err);
    throw err;
  }
  const outcome = { state: parent.state, items: 0 };
  state.outcomes[kind] = outcome;
  const rest: AsyncIterable<Line> = { [Symbol.asyncIterator]: () => lines };
  yield state.kindFile(kind, concat(first.done ? [] : [first.value], rest), outcome);
}

/**
 * Whether reading a delta kind, and the kind hung under it, fits the rate budget. The cost is
 * estimated from the newest-first probe: a full read takes the list's pages (its Link header
 * names the last) and a GraphQL query per 100 items (issues' timelines, pulls' reviews); a
 * delta, the changed items of the first page. The kind's newest update
 * is how recently it changed (see RateBudget).
 */
function fitsBudget(
  state: CollectionState,
  kind: DeltaKind,
  probe: Answer,
  newest: Line[],
  since: string | undefined,
): boolean {
  const changedAt = newestUpdate(newest);
  const changed = since ? newest.filter((line) => String(line.updated_at) >= since).length : undefined;
  const pages = changed === undefined ? (probe.lastPage ?? 1) : 1;
  const items = changed ?? pages * 100;
  const core = pages;
  const graphql = kind === "issues" || kind === "pulls" ? Math.ceil(items / 100) : 0;
  const budget = state.api.budget;
  return budget.allows("core", core, changedAt) && (!graphql || budget.allows("graphql", graphql, changedAt));
}
