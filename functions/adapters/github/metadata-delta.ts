// Readers of the kinds that grow with the repository's life (issues, pull requests, comments) and of
// the items hung under each issue or pull request (timeline events, reviews).
import type { z } from "zod";
import { compareLines } from "../../core/metadata/order.js";
import { PER_PAGE, Unavailable, type Answer, type RepoApi } from "./metadata-http.js";
import {
  TIMELINE_ELSEWHERE,
  issueCommentLine,
  issueEventLine,
  issueLine,
  pullLine,
  reviewCommentLine,
  reviewItem,
  timelineEvent,
} from "./metadata-lines-work.js";
import { parseList } from "./metadata-parse.js";

export type Line = Record<string, unknown> & { updated_at?: unknown };

export type DeltaKind = "issues" | "issue-comments" | "pulls" | "pull-review-comments";
export type PerParentKind = "issue-events" | "pull-reviews";

export interface DeltaList {
  /**
   * Most recently updated first: its first page shows any change (its ETag is the kind's
   * validator), and an incremental read stops at the checkpoint's mark. No `since`: a `since` URL
   * differs every run, so its ETag could never match.
   */
  newest: string;
  /** Oldest first, by creation: a full read streams in the file's order, holding nothing. */
  oldest: string;
  line: z.ZodType;
}

const list = (path: string, line: z.ZodType, state = ""): DeltaList => ({
  newest: `${path}?${state}sort=updated&direction=desc&per_page=${PER_PAGE}`,
  oldest: `${path}?${state}sort=created&direction=asc&per_page=${PER_PAGE}`,
  line,
});

export const DELTA_LISTS: Record<DeltaKind, (repo: string) => DeltaList> = {
  issues: (r) => list(`${r}/issues`, issueLine, "state=all&"),
  "issue-comments": (r) => list(`${r}/issues/comments`, issueCommentLine),
  pulls: (r) => list(`${r}/pulls`, pullLine, "state=all&"),
  "pull-review-comments": (r) => list(`${r}/pulls/comments`, reviewCommentLine),
};

/** The newest `updated_at` of a page (ISO-8601 strings compare in time order). */
export function newestUpdate(lines: readonly Line[]): string | undefined {
  let newest: string | undefined;
  for (const line of lines) {
    const at = String(line.updated_at ?? "");
    if (at && (!newest || at > newest)) newest = at;
  }
  return newest;
}

/** The lines updated at or after `mark`, reading newest first from `first` until older ones begin. */
export async function readSince(
  api: RepoApi,
  first: Answer,
  spec: DeltaList,
  mark: string,
  what: string,
): Promise<Line[]> {
  const lines: Line[] = [];
  for (let page: Answer | undefined = first; page;) {
    const items = parseList(page, spec.line, what) as Line[];
    const recent = items.filter((line) => String(line.updated_at) >= mark);
    lines.push(...recent);
    if (recent.length < items.length || !page.next) break;
    page = await api.get(page.next, { what });
  }
  return lines;
}

/** Every line, oldest first, page by page. */
export async function* readAll(api: RepoApi, spec: DeltaList, what: string): AsyncGenerator<Line> {
  for await (const page of api.pages(spec.oldest, what)) yield* parseList(page, spec.line, what) as Line[];
}

/** One parent's lines of a per-parent kind, in the file's order. Throws Unavailable. */
export async function readChildren(
  api: RepoApi,
  kind: PerParentKind,
  repoPath: string,
  parent: number,
): Promise<Line[]> {
  const what = `reading ${kind} of ${api.repo}#${parent}`;
  const lines: Line[] = [];
  if (kind === "issue-events") {
    for await (const page of api.pages(`${repoPath}/issues/${parent}/timeline?per_page=${PER_PAGE}`, what)) {
      for (const event of parseList(page, timelineEvent, what))
        if (!TIMELINE_ELSEWHERE.has(event.event)) lines.push(issueEventLine(parent, event));
    }
  } else {
    for await (const page of api.pages(`${repoPath}/pulls/${parent}/reviews?per_page=${PER_PAGE}`, what)) {
      for (const review of parseList(page, reviewItem, what)) lines.push({ pull_number: parent, ...review });
    }
  }
  return lines.sort((a, b) => compareLines(kind, a, b));
}

/**
 * Lines of every parent in order, reading up to `window` parents ahead (they are independent
 * requests). A parent gone meanwhile (404, 410) is skipped.
 */
export async function* readAllChildren(
  api: RepoApi,
  kind: PerParentKind,
  repoPath: string,
  parents: readonly number[],
  window = 4,
): AsyncGenerator<Line> {
  const ahead: Promise<Line[] | undefined>[] = [];
  const start = (parent: number) => {
    const lines = readChildren(api, kind, repoPath, parent).catch((err: unknown) => {
      if (err instanceof Unavailable && (err.status === 404 || err.status === 410)) return undefined;
      throw err;
    });
    lines.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
    ahead.push(lines);
  };
  let next = 0;
  while (next < parents.length && ahead.length < window) start(parents[next++]!);
  while (ahead.length > 0) {
    const lines = await ahead.shift()!;
    if (next < parents.length) start(parents[next++]!);
    if (lines) yield* lines;
  }
}

/**
 * Lines of every parent in order: the first parent read alone, so that a kind the repository
 * cannot provide throws Unavailable before any line; then readAllChildren for the rest.
 */
export async function* readEveryChild(
  api: RepoApi,
  kind: PerParentKind,
  repoPath: string,
  parents: readonly number[],
  window = 4,
): AsyncGenerator<Line> {
  if (parents.length === 0) return;
  yield* await readChildren(api, kind, repoPath, parents[0]!);
  yield* readAllChildren(api, kind, repoPath, parents.slice(1), window);
}
