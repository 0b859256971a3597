// SnapshotIndex on Firestore: a document per snapshot under its repo, commits and updates in
// transactions, newest-first queries on a Timestamp; leases live in firestore-lease.ts.
import {
  FieldPath,
  FieldValue,
  Timestamp,
  type DocumentData,
  type DocumentSnapshot,
  type Firestore,
  type Query,
  type QueryDocumentSnapshot,
} from "@google-cloud/firestore";
import { BackupError, ConflictError, NotFoundError, UserInputError } from "../../core/errors.js";
import { namesOf } from "../../core/lineage/registry.js";
import {
  type RepositoryRecord,
  type Snapshot,
  type SnapshotSummary,
  type Verification,
} from "../../core/model.js";
import { sameCommit } from "../../core/snapshot-identity.js";
import {
  systemClock,
  type BackupAttempt,
  type Clock,
  type Lease,
  type SnapshotIndex,
} from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import { acquireLease, leasesInForce, releaseLease } from "./firestore-lease.js";
import { FirestorePaths } from "./firestore-paths.js";
import { stamped, WarmCollection } from "./firestore-warm-read.js";
import {
  RepoSummaries,
  repoDocAfterCommit,
  summariesAfterChange,
  type StoredAttempt,
} from "./firestore-repo-summaries.js";

export { REBUILDS_PER_READ } from "./firestore-repo-summaries.js";

/** Up to this many, listMany reads repository documents by path instead of the whole collection. */
const FEW_REPOS = 300;

/** Firestore refuses documents over 1 MiB; refuse a little earlier, with a message that says why. */
const MAX_DOC_BYTES = 1_000_000;

/**
 * A snapshot as stored: its own fields, plus `takenAtTime` (a Timestamp, so queries compare
 * instants, not spellings of them). `refs` is one JSON string, not a map: a repo can have tens of
 * thousands of refs, and a map would give each its own index entry (at most 40,000 per document).
 * `peeled` (one entry per annotated tag) is a JSON string for the same reason.
 */
export type SnapshotDoc = Omit<Snapshot, "refs" | "peeled"> & {
  refs: string;
  peeled?: string;
  takenAtTime: Timestamp;
};

export class FirestoreSnapshotIndex implements SnapshotIndex {
  private readonly db: Firestore;
  private readonly paths: FirestorePaths;
  private readonly clock: Clock;

  private readonly summaries: RepoSummaries;
  /** The repo and attempt documents as health last read them, kept current by their stamps. */
  private readonly warmRepos: WarmCollection;
  private readonly warmAttempts: WarmCollection;

  /**
   * `root`: a document path to keep every collection under (tests, or two deployments in one
   * database). `rebuildsPerRead`: REBUILDS_PER_READ unless a test says fewer.
   */
  constructor(options: { firestore: Firestore; clock?: Clock; root?: string; rebuildsPerRead?: number }) {
    this.db = options.firestore;
    this.clock = options.clock ?? systemClock;
    this.paths = new FirestorePaths(this.db, options.root);
    this.summaries = new RepoSummaries(this.db, this.paths, options.rebuildsPerRead);
    this.warmRepos = new WarmCollection(this.paths.repos(), this.paths.repoRemovals(), this.clock);
    this.warmAttempts = new WarmCollection(this.paths.attempts(), undefined, this.clock);
  }

  async commit(snapshot: Snapshot): Promise<void> {
    if (!snapshot.repo || !snapshot.id) throw new UserInputError("a snapshot needs a repo and an id");
    const doc = toDoc(snapshot);
    const filed = snapshot.lineage ?? snapshot.repo;
    const ref = this.paths.snapshot(filed, snapshot.id);
    const repoRef = this.paths.repo(filed);
    await this.run(`commit snapshot ${snapshot.id} of ${snapshot.repo}`, (tx) =>
      // The repo document is read too, so a concurrent remove of the repo's last snapshot (which
      // deletes it) and this commit (which needs it) are serialized by Firestore.
      tx.getAll(ref, repoRef).then(([existing, repoDoc]) => {
        if (existing?.exists) {
          if (!sameCommit(fromDoc(existing.data()!), fromDoc(doc))) {
            throw new ConflictError(
              `snapshot ${snapshot.id} of ${snapshot.repo} is already committed with different content`,
            );
          }
          return; // the same record again: a retry, nothing to do
        }
        tx.create(ref, doc);
        tx.set(repoRef, repoDocAfterCommit(repoDoc, filed, snapshot), { merge: true });
      }),
    );
  }

  async get(repo: string, id: string): Promise<Snapshot | undefined> {
    const ref = this.paths.snapshot(repo, id);
    const found = await this.read(`get snapshot ${id} of ${repo}`, () => ref.get());
    return found.exists ? fromDoc(found.data()!) : undefined;
  }

  async latest(repo: string): Promise<Snapshot | undefined> {
    return (await this.query(`find the latest snapshot of ${repo}`, this.newestFirst(repo).limit(1)))[0];
  }

  async atOrBefore(repo: string, at: string): Promise<Snapshot | undefined> {
    const limit = instant(at, "at");
    const query = this.newestFirst(repo).where("takenAtTime", "<=", Timestamp.fromMillis(limit)).limit(1);
    return (await this.query(`find the snapshot of ${repo} at ${at}`, query))[0];
  }

  async list(repo: string): Promise<Snapshot[]> {
    return this.query(`list the snapshots of ${repo}`, this.newestFirst(repo));
  }

  /**
   * One read of every repo document, each carrying its snapshots' summaries, in list()'s order;
   * one without them is read from its snapshot documents (RepoSummaries.read).
   */
  async listMany(repos: readonly string[]): Promise<SnapshotSummary[][]> {
    if (repos.length === 0) return [];
    // A few repositories: their documents by path; many: the collection, in one read.
    const docs =
      repos.length <= FEW_REPOS
        ? await this.read("read repository documents", () =>
            this.db.getAll(...repos.map((repo) => this.paths.repo(repo))),
          )
        : (await this.read("list every repository's snapshot summaries", () => this.paths.repos().get()))
            .docs;
    return this.summaries.read(docs, repos);
  }

  /**
   * Every repo document: its name (repos()) and its summaries (listMany()), with the backup
   * attempts, against which summaries an older version left behind are found and rebuilt
   * (firestore-repo-summaries.ts). Both are warm reads (firestore-warm-read.ts): after the first,
   * only the documents changed since are read. Health's read, never one a write decides on.
   */
  async listAll(): Promise<Map<string, SnapshotSummary[]>> {
    const [docs, attempts] = await Promise.all([
      this.read("list every repository's snapshot summaries", () => this.warmRepos.read()),
      this.attemptDocs(),
    ]);
    const repos = docs.map((d) => String(d.get("repo"))).sort();
    const byId = new Map(attempts.map((d) => [d.id, d.data() as StoredAttempt]));
    const lists = await this.summaries.read(docs, repos, byId);
    return new Map(repos.map((repo, i) => [repo, lists[i]!]));
  }

  async repos(): Promise<string[]> {
    const found = await this.read("list the repos in the index", () =>
      this.paths.repos().select("repo").get(),
    );
    return found.docs.map((d) => String(d.get("repo"))).sort();
  }

  async confirm(repo: string, id: string, at: string): Promise<void> {
    const seen = instant(at, "at");
    const ref = this.paths.snapshot(repo, id);
    const repoRef = this.paths.repo(repo);
    await this.run(`confirm snapshot ${id} of ${repo}`, async (tx) => {
      const [found, repoDoc] = (await tx.getAll(ref, repoRef)) as [DocumentSnapshot, DocumentSnapshot];
      if (!found.exists) throw missing(repo, id);
      // Forward only: a late, replayed confirmation must not make the snapshot look staler.
      if (!(seen > Date.parse(String(found.get("confirmedAt"))))) return;
      tx.update(ref, { confirmedAt: at });
      const summaries = summariesAfterChange(repoDoc, id, (s) => ({ ...s, confirmedAt: at }));
      if (summaries) tx.update(repoRef, summaries);
    });
  }

  async recordVerification(repo: string, id: string, verification: Verification): Promise<void> {
    const recorded = plain(verification);
    await this.update(repo, id, "record the verification of", { verification: recorded }, (s) => ({
      ...s,
      verification: recorded,
    }));
  }

  async setHold(repo: string, id: string, hold: boolean): Promise<void> {
    await this.update(repo, id, "set the hold on", { hold: hold ? true : FieldValue.delete() }, (s) => {
      const { hold: _hold, ...rest } = s;
      return hold ? { ...rest, hold: true } : rest;
    });
  }

  async remove(repo: string, id: string): Promise<void> {
    const ref = this.paths.snapshot(repo, id);
    const repoRef = this.paths.repo(repo);
    await this.run(`remove snapshot ${id} of ${repo}`, async (tx) => {
      // Every read comes before any write, as Firestore transactions require.
      const [found, repoDoc] = await tx.getAll(ref, repoRef);
      if (!found?.exists) return;
      if (found.get("hold") === true) {
        throw new ConflictError(`snapshot ${id} of ${repo} is under legal hold and cannot be removed`);
      }
      const others = await tx.get(this.paths.snapshots(repo).select().limit(2));
      tx.delete(ref);
      // The repo document lists the repo in repos(); it goes with the repo's last snapshot.
      if (repoDoc?.exists && others.docs.every((d) => d.id === id)) {
        tx.delete(repoRef);
        tx.set(this.paths.repoRemovals().doc(repoRef.id), stamped({ repo: repoDoc.get("repo") as string }));
      } else {
        const summaries = summariesAfterChange(repoDoc, id, () => undefined);
        if (summaries) tx.update(repoRef, summaries);
      }
    });
  }

  async acquireLease(repo: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return acquireLease(this.db, this.paths, this.clock, { repo, holder, ttlMs });
  }

  async releaseLease(repo: string, holder: string): Promise<void> {
    return releaseLease(this.db, this.paths, { repo, holder });
  }

  async leases(): Promise<Lease[]> {
    return leasesInForce(this.db, this.paths, this.clock);
  }

  async recordAttempt(repo: string, attempt: BackupAttempt): Promise<void> {
    const at = instant(attempt.at, "at");
    const ref = this.paths.attempt(repo);
    await this.run(`record the backup attempt of ${repo}`, async (tx) => {
      const found = await tx.get(ref);
      // Deliveries arrive out of order: an older attempt never replaces a newer one.
      if (found.exists && Number(found.get("atMs")) > at) return;
      tx.set(ref, stamped({ repo, atMs: at, attempt: plain(attempt) }));
    });
  }

  async attempts(): Promise<Record<string, BackupAttempt>> {
    const found = await this.attemptDocs();
    return Object.fromEntries(found.map((d) => [String(d.get("repo")), d.get("attempt") as BackupAttempt]));
  }

  /** Reports only (health): warm, and shared with a read in flight (firestore-warm-read.ts). */
  private attemptDocs(): Promise<QueryDocumentSnapshot[]> {
    return this.read("list the backup attempts", () => this.warmAttempts.read());
  }

  async repositories(): Promise<RepositoryRecord[]> {
    const found = await this.read("list the repository registry", () => this.paths.repositories().get());
    return found.docs.map((d) => fromRegistryDoc(d.data()));
  }

  async repositoriesNamed(name: string): Promise<RepositoryRecord[]> {
    const query = this.paths.repositories().where("names", "array-contains", name);
    const found = await this.read(`find the repositories named ${name}`, () => query.get());
    return found.docs.map((d) => fromRegistryDoc(d.data())).sort((a, b) => a.id - b.id);
  }

  async updateRepository(
    id: number,
    change: (current: RepositoryRecord | undefined) => RepositoryRecord | undefined,
  ): Promise<RepositoryRecord | undefined> {
    if (!Number.isSafeInteger(id)) throw new UserInputError(`repository id ${id} is not an integer`);
    const ref = this.paths.repository(id);
    let stored: RepositoryRecord | undefined;
    await this.run(`update the registry record of repository ${id}`, async (tx) => {
      const found = await tx.get(ref);
      const current = found.exists ? fromRegistryDoc(found.data()!) : undefined;
      const next = change(current);
      stored = next ?? current;
      if (next === undefined) return;
      if (next.id !== id) throw new UserInputError(`repository record ${next.id} stored as ${id}`);
      // `names`: every name the record answers to, so one array-contains query finds it by any.
      tx.set(ref, { ...plain(next), names: namesOf(next) });
    });
    return stored;
  }

  /**
   * Newest first: takenAt, then id (the document id), both descending. A single-field ordering
   * plus the document id in the same direction is served by Firestore's automatic index.
   */
  private newestFirst(repo: string): Query {
    return this.paths.snapshots(repo).orderBy("takenAtTime", "desc").orderBy(FieldPath.documentId(), "desc");
  }

  /**
   * Updates fields of an existing snapshot and its summary on the repo document, in one
   * transaction; NotFoundError when there is none.
   */
  private async update(
    repo: string,
    id: string,
    what: string,
    fields: DocumentData,
    change: (summary: SnapshotSummary) => SnapshotSummary,
  ): Promise<void> {
    const ref = this.paths.snapshot(repo, id);
    const repoRef = this.paths.repo(repo);
    await this.run(`${what} snapshot ${id} of ${repo}`, async (tx) => {
      const [found, repoDoc] = (await tx.getAll(ref, repoRef)) as [DocumentSnapshot, DocumentSnapshot];
      if (!found.exists) throw missing(repo, id);
      tx.update(ref, fields);
      const summaries = summariesAfterChange(repoDoc, id, change);
      if (summaries) tx.update(repoRef, summaries);
    });
  }

  private async query(what: string, query: Query): Promise<Snapshot[]> {
    const found = await this.read(what, () => query.get());
    return found.docs.map((d) => fromDoc(d.data()));
  }

  private async read<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw fromGrpc(err, `could not ${what}`);
    }
  }

  /** One transaction; our own errors thrown inside end it unretried and come out as they are. */
  private async run(what: string, work: Parameters<Firestore["runTransaction"]>[0]): Promise<void> {
    try {
      await this.db.runTransaction(work);
    } catch (err) {
      throw fromGrpc(err, `could not ${what}`);
    }
  }
}

/** A snapshot as its document (commit's, and the layer index's T-snap's). */
export function toDoc(snapshot: Snapshot): SnapshotDoc {
  const takenAt = instant(snapshot.takenAt, "takenAt");
  const { refs, peeled, ...fields } = plain(snapshot);
  const doc: SnapshotDoc = {
    ...fields,
    refs: JSON.stringify(refs ?? {}),
    ...(peeled ? { peeled: JSON.stringify(peeled) } : {}),
    takenAtTime: Timestamp.fromMillis(takenAt),
  };
  const bytes = Buffer.byteLength(JSON.stringify(doc), "utf8");
  if (bytes > MAX_DOC_BYTES) {
    throw new BackupError(
      `snapshot ${snapshot.id} of ${snapshot.repo} does not fit in one index document: ` +
        `${Object.keys(refs ?? {}).length} refs make it ${bytes} bytes (Firestore's limit is 1 MiB)`,
      { permanent: true },
    );
  }
  return doc;
}

export function fromDoc(data: DocumentData): Snapshot {
  const { takenAtTime: _takenAtTime, refs, peeled, ...fields } = data as SnapshotDoc;
  return {
    ...fields,
    refs: JSON.parse(refs) as Snapshot["refs"],
    ...(peeled === undefined ? {} : { peeled: JSON.parse(peeled) as Snapshot["refs"] }),
  } as Snapshot;
}

function fromRegistryDoc(data: DocumentData): RepositoryRecord {
  const { names: _names, ...record } = data as RepositoryRecord & { names: string[] };
  return record;
}

/** A plain-JSON copy: Firestore refuses `undefined` fields unless the client was told to drop them. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function instant(value: string, field: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new UserInputError(`${field} ${JSON.stringify(value)} is not an ISO-8601 time`);
  return ms;
}

function missing(repo: string, id: string, cause?: unknown): NotFoundError {
  return new NotFoundError(
    `snapshot ${id} of ${repo} is not in the index`,
    cause === undefined ? {} : { cause },
  );
}
