// Each repository's snapshot summaries, kept on its repos/{repoKey} document (field `summaries`,
// one JSON text, newest first) by every transaction that changes one of its snapshot documents,
// so that health reads one small document per repository instead of every snapshot document. A
// document without the field (written before it existed, or one whose summaries outgrew
// MAX_SUMMARIES_BYTES) is read from its snapshot documents instead, and given the field when they fit.
import { FieldValue, type DocumentData, type DocumentSnapshot } from "@google-cloud/firestore";
import { SUMMARY_LEFT_OUT, type Snapshot, type SnapshotSummary } from "../../core/model.js";

/** The repo document's field that holds the summaries. */
export const SUMMARIES_FIELD = "summaries";

/**
 * Summaries larger than this are not kept on the document (Firestore's limit is 1 MiB a
 * document): such a repository (thousands of snapshots) is read from its snapshot documents.
 */
export const MAX_SUMMARIES_BYTES = 900_000;

/** A snapshot as listMany answers it: without the fields a summary leaves out. */
export function toSummary(snapshot: Snapshot | SnapshotSummary): SnapshotSummary {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(snapshot)) as Record<string, unknown>;
  for (const field of SUMMARY_LEFT_OUT) delete copy[field];
  return copy as SnapshotSummary;
}

/** Newest first: takenAt, then id, both descending (list()'s order). */
export function newestFirst(a: SnapshotSummary, b: SnapshotSummary): number {
  return Date.parse(b.takenAt) - Date.parse(a.takenAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The summaries a repo document keeps, or undefined when it keeps none (read the snapshots). */
export function summariesOf(
  repoDoc: DocumentSnapshot | DocumentData | undefined,
): SnapshotSummary[] | undefined {
  const data = repoDoc && "exists" in repoDoc ? (repoDoc.exists ? repoDoc.data() : undefined) : repoDoc;
  const text: unknown = data?.[SUMMARIES_FIELD];
  return typeof text === "string" ? (JSON.parse(text) as SnapshotSummary[]) : undefined;
}

/** The field to write for `summaries`: the JSON text, or a delete when it is too large to keep. */
export function summariesField(summaries: readonly SnapshotSummary[]): DocumentData {
  const text = JSON.stringify([...summaries].sort(newestFirst));
  return { [SUMMARIES_FIELD]: text.length > MAX_SUMMARIES_BYTES ? FieldValue.delete() : text };
}

/**
 * What a transaction that commits `snapshot` writes on its repo document (with `merge`): a new
 * document starts its summaries; one that keeps summaries gets this one added; one that keeps
 * none stays so (its reader rebuilds them from the snapshot documents, this one included).
 */
export function repoDocAfterCommit(
  repoDoc: DocumentSnapshot | undefined,
  repoKey: string,
  snapshot: Snapshot,
): DocumentData {
  if (!repoDoc?.exists) return { repo: repoKey, ...summariesField([toSummary(snapshot)]) };
  const kept = summariesOf(repoDoc);
  if (!kept) return { repo: repoKey };
  return {
    repo: repoKey,
    ...summariesField([...kept.filter((s) => s.id !== snapshot.id), toSummary(snapshot)]),
  };
}

/**
 * The update of a repo document after snapshot `id` changed (`change` applied to its summary), or
 * undefined when the document keeps no summaries (nothing to keep current).
 */
export function summariesAfterChange(
  repoDoc: DocumentSnapshot | undefined,
  id: string,
  change: (summary: SnapshotSummary) => SnapshotSummary | undefined,
): DocumentData | undefined {
  const kept = summariesOf(repoDoc);
  if (!kept) return undefined;
  const next = kept.flatMap((s) => (s.id === id ? (change(s) ?? []) : [s]));
  return summariesField(next);
}
