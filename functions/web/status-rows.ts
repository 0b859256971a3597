// The status page's rows, packed small: 5,000 repositories as full JSON objects were 1.8 MB of
// HTML and took Chromium well over a second to be ready. Each row is an array of numbers and one
// name; times are whole seconds before the report; texts that repeat (verification, metadata
// kinds, problems, drill verdicts) are written once in `texts` and named by index, 0 being none.
// The page's script (status-script.ts) unpacks the rows it shows, and searches and filters on the
// name and state alone.
import type { RepoState, StatusRow, StatusView } from "../core/status-view.js";

export const STATES: readonly RepoState[] = ["healthy", "stale", "failing", "unverified", "gone"];

/**
 * One row: [repo, state (index in STATES), last snapshot, last seen unchanged (null when the same
 * as the snapshot), verification text, verified at, chain length, snapshots, stored bytes,
 * metadata text, held, problems text, last restore [at, seconds] or 0, last drill [verdict text,
 * at, seconds] or 0]. Times are seconds before `at`, null when there is none. Trailing zeros and
 * nulls are left off.
 */
export type PackedRow = (string | number | null | number[])[];

export interface PackedRows {
  states: readonly RepoState[];
  texts: string[];
  rows: PackedRow[];
}

export function packRows(view: Pick<StatusView, "at" | "rows">): PackedRows {
  const at = Date.parse(view.at);
  const texts = [""];
  const known = new Map<string, number>([["", 0]]);
  const text = (value: string): number => {
    let i = known.get(value);
    if (i === undefined) {
      i = texts.push(value) - 1;
      known.set(value, i);
    }
    return i;
  };
  const ago = (iso: string | undefined) => (iso ? Math.round((at - Date.parse(iso)) / 1000) : null);
  const rows = view.rows.map((r) => trim(packRow(r, text, ago)));
  return { states: STATES, texts, rows };
}

function packRow(
  r: StatusRow,
  text: (value: string) => number,
  ago: (iso: string | undefined) => number | null,
): PackedRow {
  const v = r.verification;
  const missing = Object.keys(r.metadataUnavailable);
  const metadata =
    (r.metadataKinds.length ? r.metadataKinds.join(", ") : "-") +
    (missing.length ? ` (unavailable: ${missing.join(", ")})` : "");
  const problems = [...r.problems, ...(r.note ? [r.note] : [])].join("; ");
  return [
    r.repo,
    STATES.indexOf(r.state),
    ago(r.lastSnapshot),
    r.lastConfirmed && r.lastConfirmed !== r.lastSnapshot ? ago(r.lastConfirmed) : null,
    v ? text(`${v.verdict} ${v.level}`) : 0,
    v ? ago(v.at) : null,
    r.chainLength,
    r.snapshots,
    r.storedBytes,
    text(metadata),
    r.held,
    text(problems),
    r.lastRestore ? [ago(r.lastRestore.at)!, Math.round(r.lastRestore.seconds)] : 0,
    r.lastDrill ? [text(r.lastDrill.verdict), ago(r.lastDrill.at)!, round1(r.lastDrill.seconds)] : 0,
  ];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function trim(row: PackedRow): PackedRow {
  let end = row.length;
  while (end > 2 && (row[end - 1] === 0 || row[end - 1] === null)) end--;
  return row.slice(0, end);
}
