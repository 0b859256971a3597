// A whole collection kept between reads by a warm instance (backupHealth answers every page load
// from it): one full read, then only the documents changed since, until a full read is due again.
// On the emulated deployment a read of 5,000 repo documents takes most of a page load's second
// however little each holds (bench/README.md); the documents changed since the last load are few.
//
// Exact, not a time-to-live: every write of a repo or attempt document by this version stamps
// CHANGED_FIELD with the commit's own time (a server timestamp), and a query is a consistent
// snapshot at its read time, so `changedAt > the last read time` returns every document committed
// after the last read, and nothing the last read missed. A repo document deleted (its last
// snapshot removed) leaves a stamped marker in repoRemovals, read the same way. What this cannot
// see is a write by a version older than the stamp (a rolling deploy): a full read every
// FULL_READ_EVERY_MS bounds how long that goes unseen.
import {
  FieldValue,
  Timestamp,
  type CollectionReference,
  type DocumentData,
  type QueryDocumentSnapshot,
} from "@google-cloud/firestore";
import type { Clock } from "../../core/ports.js";

/** The field each write stamps with its commit time. */
export const CHANGED_FIELD = "changedAt";

/** A full read at least this often, whatever the stamps say (writes by older versions). */
export const FULL_READ_EVERY_MS = 5 * 60_000;

/** `data` stamped with the time its write commits (FieldValue: the server fills it in). */
export function stamped<T extends DocumentData>(data: T): T & { [CHANGED_FIELD]: FieldValue } {
  return { ...data, [CHANGED_FIELD]: FieldValue.serverTimestamp() };
}

function stampOf(doc: QueryDocumentSnapshot): number {
  const at: unknown = doc.get(CHANGED_FIELD);
  return at instanceof Timestamp ? at.toMillis() : -Infinity;
}

export class WarmCollection {
  private docs = new Map<string, QueryDocumentSnapshot>();
  /** Read times of the last reads of the collection and of its removals. */
  private readAt: Timestamp | undefined;
  private removalsReadAt: Timestamp | undefined;
  private fullReadMs = -Infinity;
  private inFlight: Promise<QueryDocumentSnapshot[]> | undefined;

  /**
   * `removals`: where deletions of this collection's documents leave a stamped marker of the same
   * id (none: its documents are never deleted).
   */
  constructor(
    private readonly collection: CollectionReference,
    private readonly removals: CollectionReference | undefined,
    private readonly clock: Clock,
    private readonly fullReadEveryMs = FULL_READ_EVERY_MS,
  ) {}

  /**
   * Every document of the collection as of this read. Calls made while a read is in flight share
   * it: only reports read through here (health), never a write deciding on what it reads.
   */
  read(): Promise<QueryDocumentSnapshot[]> {
    this.inFlight ??= this.refresh().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async refresh(): Promise<QueryDocumentSnapshot[]> {
    const now = this.clock.now().getTime();
    if (this.readAt === undefined || now - this.fullReadMs >= this.fullReadEveryMs) {
      await this.readWhole(now);
    } else {
      await this.readChanges(this.readAt);
    }
    return [...this.docs.values()];
  }

  private async readWhole(now: number): Promise<void> {
    const whole = await this.collection.get();
    this.docs = new Map(whole.docs.map((d) => [d.id, d]));
    // The whole read already reflects every removal committed up to its read time.
    this.readAt = this.removalsReadAt = whole.readTime;
    this.fullReadMs = now;
  }

  /** The documents (and removals) committed after the last reads of each. */
  private async readChanges(since: Timestamp): Promise<void> {
    const removalsSince = this.removalsReadAt;
    // "changedAt" is CHANGED_FIELD, spelled out for test/infra/firestore-indexes.test.ts.
    const [changed, removed] = await Promise.all([
      this.collection.where("changedAt", ">", since).get(),
      this.removals && removalsSince ? this.removals.where("changedAt", ">", removalsSince).get() : undefined,
    ]);
    for (const doc of changed.docs) this.docs.set(doc.id, doc);
    for (const marker of removed?.docs ?? []) {
      const kept = this.docs.get(marker.id);
      // A document written again after its removal stays (its stamp is the later one).
      if (kept && stampOf(kept) < stampOf(marker)) this.docs.delete(marker.id);
    }
    this.readAt = changed.readTime;
    if (removed) this.removalsReadAt = removed.readTime;
  }
}
