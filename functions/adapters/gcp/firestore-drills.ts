// DrillRecords on Firestore: drills/{sha256 of repo, time and snapshot} holds every drill (the
// record as one JSON field, beside the fields queries use), lastDrills/{repoKey} the newest one of
// each repository, moved in the same transaction, so the status page and the drill's sample read
// one document per repository instead of every drill ever made.
import { createHash } from "node:crypto";
import type { CollectionReference, DocumentData, Firestore } from "@google-cloud/firestore";
import { drillInstant, storedDrillRecord } from "../../core/drill-record.js";
import type { DrillRecord, DrillRecords } from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import { repoKey } from "./firestore-paths.js";

/** Firestore's limit of writes in one batch. */
const BATCH = 500;

export class FirestoreDrillRecords implements DrillRecords {
  private readonly db: Firestore;
  private readonly drills: CollectionReference;
  private readonly last: CollectionReference;

  /** `root`: a document path to keep the collections under (tests); default: top level. */
  constructor(options: { firestore: Firestore; root?: string }) {
    this.db = options.firestore;
    const base = options.root ? this.db.doc(options.root) : this.db;
    this.drills = base.collection("drills");
    this.last = base.collection("lastDrills");
  }

  async recordDrill(record: DrillRecord): Promise<void> {
    const stored = storedDrillRecord(record);
    const id = createHash("sha256")
      .update(`${stored.repo}\0${stored.at}\0${stored.snapshotId}`)
      .digest("hex");
    const doc = toDoc(stored);
    const lastRef = this.last.doc(repoKey(stored.repo));
    try {
      await this.db.runTransaction(async (tx) => {
        const last = await tx.get(lastRef);
        const newer = !last.exists || !isAfter(fromDoc(last.data()!), stored);
        tx.set(this.drills.doc(id), doc);
        if (newer) tx.set(lastRef, doc);
      });
    } catch (err) {
      throw fromGrpc(err, `could not record the drill of ${stored.repo}`);
    }
  }

  async lastDrills(): Promise<DrillRecord[]> {
    const found = await this.read("read the last drills", () => this.last.get());
    return found.docs.map((d) => fromDoc(d.data()));
  }

  async drillsSince(since: string): Promise<DrillRecord[]> {
    const bound = drillInstant(since);
    const found = await this.read("read drills", () => this.drills.where("at", ">=", bound).get());
    return found.docs
      .map((d) => fromDoc(d.data()))
      .sort((a, b) => compare(a.at, b.at) || compare(a.repo, b.repo) || compare(a.snapshotId, b.snapshotId));
  }

  async forgetDrills(repo: string): Promise<number> {
    const found = await this.read(`read the drills of ${repo}`, () =>
      this.drills.where("repo", "==", repo).get(),
    );
    try {
      for (let i = 0; i < found.docs.length; i += BATCH) {
        const batch = this.db.batch();
        for (const d of found.docs.slice(i, i + BATCH)) batch.delete(d.ref);
        await batch.commit();
      }
      await this.last.doc(repoKey(repo)).delete();
    } catch (err) {
      throw fromGrpc(err, `could not forget the drills of ${repo}`);
    }
    return found.docs.length;
  }

  private async read<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw fromGrpc(err, `could not ${what}`);
    }
  }
}

function toDoc(record: DrillRecord): DocumentData {
  return { repo: record.repo, at: record.at, snapshotId: record.snapshotId, record: JSON.stringify(record) };
}

function fromDoc(doc: DocumentData): DrillRecord {
  return JSON.parse(doc["record"] as string) as DrillRecord;
}

/** Whether `a` is a later drill than `b` (time, then snapshot id, as SQLite orders them). */
function isAfter(a: DrillRecord, b: DrillRecord): boolean {
  return (compare(a.at, b.at) || compare(a.snapshotId, b.snapshotId)) > 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
