// Each repository's snapshot summaries, kept on its repos/{repoKey} document (field `summaries`,
// one JSON text, newest first) by every transaction that changes one of its snapshot documents,
// so that health reads one small document per repository instead of every snapshot document. A
// document without the field (written before it existed, or one whose summaries outgrew
// MAX_SUMMARIES_BYTES) is read from its snapshot documents instead, and given the field when they
// fit. Summaries an older version left behind (it committed or confirmed without them, during a
// rolling deploy) are found against the repository's backup attempt, which every version writes
// after its commit or confirmation, and rebuilt on read (RepoSummaries.read).
import {
  FieldValue,
  type DocumentData,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from "@google-cloud/firestore";
import { SUMMARY_FIELDS, SUMMARY_LEFT_OUT, type Snapshot, type SnapshotSummary } from "../../core/model.js";
import type { BackupAttempt } from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import type { FirestorePaths } from "./firestore-paths.js";
import { stamped } from "./firestore-warm-read.js";

/** The repo document's field that holds the summaries. */
export const SUMMARIES_FIELD = "summaries";

/**
 * The repo document's field naming the backup attempt (its atMs) its summaries were last rebuilt
 * against: an attempt the summaries disagree with is acted on once (a snapshot it created may
 * have been pruned since).
 */
export const CHECKED_FIELD = "summariesCheckedAtMs";

/** Queries a read keeps in flight: enough to hide the round trips, few enough for one instance. */
const READS_IN_FLIGHT = 32;

/**
 * Repo documents without summaries one read gives them (a transaction each): an index written
 * by an earlier version gets them over its first loads, each load still quick.
 */
export const REBUILDS_PER_READ = 100;

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
  if (!repoDoc?.exists) return stamped({ repo: repoKey, ...summariesField([toSummary(snapshot)]) });
  const kept = summariesOf(repoDoc);
  if (!kept) return stamped({ repo: repoKey });
  return stamped({
    repo: repoKey,
    ...summariesField([...kept.filter((s) => s.id !== snapshot.id), toSummary(snapshot)]),
  });
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
  return stamped(summariesField(next));
}

/** An attempt as attempts/{repoKey} holds it. */
export interface StoredAttempt {
  atMs: number;
  attempt: BackupAttempt;
}

/**
 * Whether the newest backup attempt says more than the summaries do: it created or confirmed a
 * snapshot they do not show (so it was not written by code that keeps them), and the summaries
 * were not already rebuilt against it. Every version writes the attempt after its commit or
 * confirmation (core/backup.ts), with the time the backup started; a confirmation by this
 * version sets confirmedAt to a time after that.
 */
export function behindAttempt(
  summaries: readonly SnapshotSummary[],
  stored: StoredAttempt | undefined,
  checkedAtMs: unknown,
): boolean {
  const attempt = stored?.attempt;
  if (!attempt?.snapshotId || attempt.outcome === "failed") return false;
  if (typeof checkedAtMs === "number" && checkedAtMs >= stored!.atMs) return false;
  const shown = summaries.find((s) => s.id === attempt.snapshotId);
  if (!shown) return true;
  return attempt.outcome === "unchanged" && Date.parse(shown.confirmedAt) < Date.parse(attempt.at);
}

/** A summary as the field mask reads it: no ref lists, no checkpoint. */
function fromSummaryDoc(data: DocumentData): SnapshotSummary {
  const { takenAtTime: _takenAtTime, ...fields } = data;
  return fields as SnapshotSummary;
}

/** Reads summaries from repo documents, and rebuilds those missing or left behind. */
export class RepoSummaries {
  private readonly parsedDocs = new WeakMap<DocumentSnapshot, SnapshotSummary[] | undefined>();

  constructor(
    private readonly db: Firestore,
    private readonly paths: FirestorePaths,
    private readonly rebuildsPerRead = REBUILDS_PER_READ,
  ) {}

  /**
   * The summaries of `repos` from their repo documents `docs`. Up to rebuildsPerRead documents
   * without summaries, or behind their repository's attempt (`attempts`, by document id), are
   * rebuilt from their snapshot documents in a transaction each; the rest of those without (an
   * index written by an earlier version, on its first loads) are read by one collection-group query
   * over every snapshot document, as before the summaries existed.
   */
  async read(
    docs: DocumentSnapshot[],
    repos: readonly string[],
    attempts: ReadonlyMap<string, StoredAttempt> = new Map(),
  ): Promise<SnapshotSummary[][]> {
    const byPath = new Map(docs.filter((d) => d.exists).map((d) => [d.ref.path, d]));
    const lists: SnapshotSummary[][] = repos.map(() => []);
    const missing: number[] = [];
    const behind: number[] = [];
    repos.forEach((repo, i) => {
      const doc = byPath.get(this.paths.repo(repo).path);
      if (!doc) return;
      const kept = this.parsed(doc);
      if (!kept) return void missing.push(i);
      lists[i] = kept;
      if (behindAttempt(kept, attempts.get(doc.id), doc.get(CHECKED_FIELD))) behind.push(i);
    });
    const rebuild = [...behind, ...missing].slice(0, this.rebuildsPerRead);
    const rest = missing.filter((i) => !rebuild.includes(i));
    const fromSnapshots = rest.length ? this.everySummary() : undefined;
    let next = 0;
    const reader = async () => {
      for (let k = next++; k < rebuild.length; k = next++) {
        const i = rebuild[k]!;
        const attempt = attempts.get(this.paths.repo(repos[i]!).id);
        lists[i] = await this.rebuild(repos[i]!, behind.includes(i) ? attempt?.atMs : undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, rebuild.length) }, reader));
    if (fromSnapshots) {
      const all = await fromSnapshots;
      for (const i of rest) lists[i] = all.get(this.paths.repo(repos[i]!).path) ?? [];
    }
    return lists;
  }

  /**
   * A document's summaries, parsed once per document read: a warm read (firestore-warm-read.ts)
   * hands back the same snapshot of every document unchanged since, and with a realistic history
   * (tens of summaries a repository) parsing them all again was most of a load's CPU. The list is
   * a copy; the summaries are shared, as every reader of them only reads.
   */
  private parsed(doc: DocumentSnapshot): SnapshotSummary[] | undefined {
    let kept = this.parsedDocs.get(doc);
    if (kept === undefined && !this.parsedDocs.has(doc)) {
      kept = summariesOf(doc);
      this.parsedDocs.set(doc, kept);
    }
    return kept && [...kept];
  }

  /** Every snapshot document of this root as summaries (a field mask), by repo document path, newest first. */
  private async everySummary(): Promise<Map<string, SnapshotSummary[]>> {
    const fields = [...SUMMARY_FIELDS, "takenAtTime"];
    let found;
    try {
      found = await this.db
        .collectionGroup("snapshots")
        .select(...fields)
        .get();
    } catch (err) {
      throw fromGrpc(err, "could not list every snapshot");
    }
    const byRepo = new Map<string, SnapshotSummary[]>();
    for (const doc of found.docs) {
      const at = doc.ref.parent.parent?.path ?? "";
      byRepo.set(at, [...(byRepo.get(at) ?? []), fromSummaryDoc(doc.data())]);
    }
    for (const list of byRepo.values()) list.sort(newestFirst);
    return byRepo;
  }

  /**
   * A repo's summaries from its snapshot documents, written onto its repo document in the same
   * transaction (so a snapshot committed, changed or removed meanwhile makes it read again): where
   * it keeps none, or, given `againstMs` (the attempt they were behind), in place of those it keeps.
   */
  private async rebuild(repo: string, againstMs?: number): Promise<SnapshotSummary[]> {
    const repoRef = this.paths.repo(repo);
    const fields = [...SUMMARY_FIELDS, "takenAtTime"];
    let summaries: SnapshotSummary[] = [];
    const work = async (tx: Transaction) => {
      const repoDoc = await tx.get(repoRef);
      const found = await tx.get(this.paths.snapshots(repo).select(...fields));
      summaries = found.docs.map((d) => fromSummaryDoc(d.data())).sort(newestFirst);
      const kept = summariesOf(repoDoc);
      if (!repoDoc.exists || (kept && againstMs === undefined)) {
        summaries = kept ?? [];
        return;
      }
      const checked = againstMs === undefined ? {} : { [CHECKED_FIELD]: againstMs };
      const fits = JSON.stringify(summaries).length <= MAX_SUMMARIES_BYTES;
      if (fits || againstMs !== undefined)
        tx.update(repoRef, stamped({ ...summariesField(summaries), ...checked }));
    };
    try {
      await this.db.runTransaction(work);
    } catch (err) {
      throw fromGrpc(err, `could not rebuild the snapshot summaries of ${repo}`);
    }
    return summaries;
  }
}
