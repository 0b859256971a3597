// The rows of the metadata lists `show` prints: the few fields of each line a listing needs, taken
// as the line is read, so a list of tens of thousands of issues holds only these.
import type { MetadataKind } from "./kinds.js";
import type { MetadataLine } from "./read.js";

export interface IssueRow {
  number: number;
  state: string;
  state_reason: string | null;
  title: string;
  /** The author's login; null for a deleted user. */
  user: string | null;
  comments: number;
  labels: string[];
  updated_at: string;
}

export interface PullRow {
  number: number;
  state: string;
  draft: boolean;
  merged_at: string | null;
  title: string;
  user: string | null;
  /** The branch it merges into. */
  base: string;
  /** The branch it merges from; "owner:branch" when that is another repository (a fork). */
  head: string;
  updated_at: string;
}

export interface ReleaseRow {
  id: number;
  tag_name: string;
  name: string | null;
  draft: boolean;
  prerelease: boolean;
  published_at: string | null;
  /** `stored`: the asset's bytes are in the chain (false for one still uploading when taken). */
  assets: { id: number; name: string; size: number; state: string; stored: boolean }[];
}

export interface LabelRow {
  name: string;
  color: string;
  description: string | null;
}

export interface MilestoneRow {
  number: number;
  title: string;
  state: string;
  open_issues: number;
  closed_issues: number;
  due_on: string | null;
}

export interface ListRows {
  issues: IssueRow;
  pulls: PullRow;
  releases: ReleaseRow;
  labels: LabelRow;
  milestones: MilestoneRow;
}

export type ListWhat = keyof ListRows;

interface List<T> {
  kind: MetadataKind;
  keep(line: MetadataLine): boolean;
  project(line: MetadataLine): T;
}

// The casts read lines our own collector wrote (docs/FORMAT.md "Files"), authenticated on the way.
const text = (v: unknown) => (typeof v === "string" ? v : null);
const num = (v: unknown) => (typeof v === "number" ? v : 0);
const all = () => true;

export function issueRow(l: MetadataLine): IssueRow {
  return {
    number: num(l.number),
    state: String(l.state),
    state_reason: text(l.state_reason),
    title: String(l.title),
    user: text(l.user),
    comments: num(l.comments),
    labels: Array.isArray(l.labels) ? l.labels.map(String) : [],
    updated_at: String(l.updated_at),
  };
}

interface Branch {
  label?: string;
  ref: string;
  repo: string | null;
}

export function pullRow(l: MetadataLine): PullRow {
  const head = l.head as Branch;
  const base = l.base as Branch;
  return {
    number: num(l.number),
    state: String(l.state),
    draft: l.draft === true,
    merged_at: text(l.merged_at),
    title: String(l.title),
    user: text(l.user),
    base: base.ref,
    head: head.repo === base.repo ? head.ref : (head.label ?? `${head.repo ?? "(deleted fork)"}:${head.ref}`),
    updated_at: String(l.updated_at),
  };
}

export function releaseRow(l: MetadataLine): ReleaseRow {
  const assets = (Array.isArray(l.assets) ? l.assets : []) as MetadataLine[];
  return {
    id: num(l.id),
    tag_name: String(l.tag_name),
    name: text(l.name),
    draft: l.draft === true,
    prerelease: l.prerelease === true,
    published_at: text(l.published_at),
    assets: assets.map((a) => ({
      id: num(a.id),
      name: String(a.name),
      size: num(a.size),
      state: String(a.state),
      stored: typeof a.path === "string",
    })),
  };
}

export const LISTS: { [W in ListWhat]: List<ListRows[W]> } = {
  // The issues API lists pull requests too; `show pulls` lists those.
  issues: { kind: "issues", keep: (l) => l.is_pull_request !== true, project: issueRow },
  pulls: { kind: "pulls", keep: all, project: pullRow },
  releases: { kind: "releases", keep: all, project: releaseRow },
  labels: {
    kind: "labels",
    keep: all,
    project: (l) => ({ name: String(l.name), color: String(l.color), description: text(l.description) }),
  },
  milestones: {
    kind: "milestones",
    keep: all,
    project: (l) => ({
      number: num(l.number),
      title: String(l.title),
      state: String(l.state),
      open_issues: num(l.open_issues),
      closed_issues: num(l.closed_issues),
      due_on: text(l.due_on),
    }),
  },
};
