// What a snapshot holds of a repository's GitHub metadata, view by view, without restoring anything:
// the lists (issues, pull requests, releases…), the settings, each kind's state, and one issue or
// pull request with its whole conversation. Each view reads only the kinds it shows.
import type { Deps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import type { SnapshotKind } from "../model.js";
import { chooseSnapshot } from "../restore.js";
import { METADATA_KINDS, type MetadataKind } from "./kinds.js";
import { readMetadata, type KindState, type MetadataLine } from "./read.js";
import { LISTS, type ListRows, type ListWhat } from "./show-rows.js";

export type { IssueRow, LabelRow, MilestoneRow, PullRow, ReleaseRow } from "./show-rows.js";
export type { KindState, MetadataLine } from "./read.js";

export const SHOW_LISTS = Object.keys(LISTS) as ListWhat[];
export const SETTINGS_KINDS = ["repository", "branch-protections", "rulesets", "autolinks"] as const;

export type ShowWhat =
  | { what: ListWhat | "settings" | "kinds" }
  /** One issue or pull request by its number. */
  | { what: "issue" | "pull"; number: number };

export interface ShowRequest {
  repo: string;
  /** A snapshot id; or `at` (ISO time: newest snapshot at or before it); or neither (latest). */
  snapshotId?: string;
  at?: string;
  view: ShowWhat;
}

/** A kind's lines at the snapshot; `items` is empty unless `state` is present. */
export interface KindLines<T = MetadataLine> {
  state: KindState;
  items: T[];
}

type ListResult = { [W in ListWhat]: { what: W } & KindLines<ListRows[W]> }[ListWhat];

export type ShowView =
  | ListResult
  | { what: "settings"; settings: Record<(typeof SETTINGS_KINDS)[number], KindLines> }
  | { what: "kinds"; kinds: { kind: MetadataKind; state: KindState; items?: number }[] }
  | {
      what: "issue";
      issue: MetadataLine;
      comments: KindLines;
      events: KindLines;
    }
  | {
      what: "pull";
      pull: MetadataLine;
      /** The pull request as the issues list has it (labels, comment count), when issues are available. */
      issue?: MetadataLine;
      comments: KindLines;
      events: KindLines;
      reviews: KindLines;
      reviewComments: KindLines;
    };

export type ShowResult = ShowView & {
  repo: string;
  snapshot: { id: string; takenAt: string; kind: SnapshotKind };
  /** The snapshots replayed, oldest first (the snapshot last). */
  chain: string[];
};

/** The view of the chosen snapshot. Rejects with NotFoundError (no such snapshot, no metadata, no such issue). */
export async function showMetadata(
  deps: Pick<Deps, "store" | "keys" | "index" | "audit">,
  request: ShowRequest,
  options: { actor: string; onBytes?: (n: number) => void },
): Promise<ShowResult> {
  const snapshot = await chooseSnapshot(deps, request);
  const { view } = request;
  const purpose = "number" in view ? `show ${view.what} ${view.number}` : `show ${view.what}`;
  const read = <T>(query: Parameters<typeof readMetadata<T>>[2]) =>
    readMetadata<T>(deps, snapshot, query, { ...options, purpose });
  const at = (result: { chain: { id: string }[] }) => ({
    repo: snapshot.repo,
    snapshot: { id: snapshot.id, takenAt: snapshot.takenAt, kind: snapshot.kind },
    chain: result.chain.map((s) => s.id),
  });
  const linesOf = <T>(
    result: { kinds: Record<MetadataKind, KindState>; lines: Partial<Record<MetadataKind, T[]>> },
    kind: MetadataKind,
  ): KindLines<T> => ({ state: result.kinds[kind], items: result.lines[kind] ?? [] });

  if (view.what === "kinds") {
    const result = await read<null>({ kinds: METADATA_KINDS, project: () => null });
    const kinds = METADATA_KINDS.map((kind) => {
      const state = result.kinds[kind];
      return {
        kind,
        state,
        ...(state.state === "present" ? { items: result.lines[kind]?.length ?? 0 } : {}),
      };
    });
    return { ...at(result), what: "kinds", kinds };
  }
  if (view.what === "settings") {
    const result = await read<MetadataLine>({ kinds: SETTINGS_KINDS });
    const settings = Object.fromEntries(SETTINGS_KINDS.map((kind) => [kind, linesOf(result, kind)]));
    return {
      ...at(result),
      what: "settings",
      settings: settings as Record<(typeof SETTINGS_KINDS)[number], KindLines>,
    };
  }
  if (view.what === "issue" || view.what === "pull") {
    const number = view.number;
    const isPull = view.what === "pull";
    const kinds: MetadataKind[] = ["issues", "issue-comments", "issue-events"];
    if (isPull) kinds.push("pulls", "pull-reviews", "pull-review-comments");
    const result = await read<MetadataLine>({ kinds, keep: (_kind, line) => belongsTo(line, number) });
    const [issue] = result.lines.issues ?? [];
    const common = { comments: linesOf(result, "issue-comments"), events: linesOf(result, "issue-events") };
    const main = isPull ? "pulls" : "issues";
    const found = isPull ? result.lines.pulls?.[0] : issue;
    if (!found) throw notShown(result.kinds[main], isPull ? "pull request" : "issue", number, snapshot);
    if (!isPull) return { ...at(result), what: "issue", issue: found, ...common };
    return {
      ...at(result),
      what: "pull",
      pull: found,
      ...(issue ? { issue } : {}),
      ...common,
      reviews: linesOf(result, "pull-reviews"),
      reviewComments: linesOf(result, "pull-review-comments"),
    };
  }
  const list = LISTS[view.what];
  const result = await read({
    kinds: [list.kind],
    keep: (_kind, line) => list.keep(line),
    project: (_kind, line) => list.project(line),
  });
  return { ...at(result), what: view.what, ...linesOf(result, list.kind) } as ShowResult;
}

/** Whether a line of an issue's or pull request's kinds belongs to number `n`. */
function belongsTo(line: MetadataLine, n: number): boolean {
  return (line.number ?? line.issue_number ?? line.pull_number) === n;
}

function notShown(
  state: KindState,
  noun: string,
  number: number,
  snapshot: { id: string; repo: string; takenAt: string },
): NotFoundError {
  const where = `snapshot ${snapshot.id} of ${snapshot.repo} (taken ${snapshot.takenAt})`;
  if (state.state === "unavailable")
    return new NotFoundError(
      `${noun}s were unavailable when ${where} was taken: ${state.status ? `${state.status} ` : ""}${state.reason}`,
    );
  if (state.state === "not-collected") return new NotFoundError(`${where} holds no ${noun}s`);
  if (state.state === "deferred")
    return new NotFoundError(
      `${noun}s were deferred (${state.reason}) when ${where} was taken; a later snapshot reads them`,
    );
  return new NotFoundError(`no ${noun} #${number} in ${where}`);
}
