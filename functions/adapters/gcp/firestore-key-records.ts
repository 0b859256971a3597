// KeyRecords and the RedactionList on Firestore, beside the snapshot index: repositoryKeys/{repo}
// (the wrapped keys as one JSON field), repositoryKeys/{repo}/dataKeys/{snapshotId}, redactions/{login}.
import type { DocumentData, Firestore } from "@google-cloud/firestore";
import { UserInputError } from "../../core/errors.js";
import type {
  DataKeyRecord,
  KeyRecords,
  Redaction,
  RedactionList,
  RepositoryKeySet,
} from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import { FirestorePaths, repoKey as repoKeyOf } from "./firestore-paths.js";

export class FirestoreKeyRecords implements KeyRecords, RedactionList {
  private readonly db: Firestore;
  private readonly paths: FirestorePaths;

  /** `root`: as FirestoreSnapshotIndex's, so both live under the same document. */
  constructor(options: { firestore: Firestore; root?: string }) {
    this.db = options.firestore;
    this.paths = new FirestorePaths(this.db, options.root);
  }

  async keySet(repo: string): Promise<RepositoryKeySet | undefined> {
    const found = await this.read(`read the keys of ${repo}`, () => this.paths.keySet(repo).get());
    return found.exists ? fromSetDoc(found.data()!) : undefined;
  }

  async keySets(): Promise<RepositoryKeySet[]> {
    const found = await this.read("list repository keys", () => this.paths.repositoryKeys().get());
    return found.docs.map((d) => fromSetDoc(d.data()));
  }

  async updateKeySet(
    repo: string,
    change: (current: RepositoryKeySet | undefined) => RepositoryKeySet | undefined,
  ): Promise<RepositoryKeySet | undefined> {
    const ref = this.paths.keySet(repo);
    try {
      return await this.db.runTransaction(async (tx) => {
        const found = await tx.get(ref);
        const current = found.exists ? fromSetDoc(found.data()!) : undefined;
        const next = change(current);
        if (next === undefined) return current;
        if (next.repo !== repo) throw new UserInputError(`the keys of ${next.repo} stored as ${repo}'s`);
        tx.set(ref, { repo, set: JSON.stringify(next) });
        return next;
      });
    } catch (err) {
      throw fromGrpc(err, `could not update the keys of ${repo}`);
    }
  }

  async dataKey(repo: string, snapshotId: string): Promise<DataKeyRecord | undefined> {
    const found = await this.read(`read the data key of ${snapshotId}`, () =>
      this.paths.dataKey(repo, snapshotId).get(),
    );
    return found.exists ? fromDataKeyDoc(repo, found.id, found.data()!) : undefined;
  }

  async dataKeys(repo: string): Promise<DataKeyRecord[]> {
    const found = await this.read(`list the data keys of ${repo}`, () => this.paths.dataKeys(repo).get());
    return found.docs
      .map((d) => fromDataKeyDoc(repo, d.id, d.data()))
      .sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : a.snapshotId > b.snapshotId ? 1 : 0));
  }

  async putDataKey(record: DataKeyRecord): Promise<void> {
    const ref = this.paths.dataKey(record.repo, record.snapshotId);
    await this.read(`store the data key of ${record.snapshotId}`, () =>
      ref.set({ keyId: record.keyId, wrapped: record.wrapped }),
    );
  }

  async removeDataKey(repo: string, snapshotId: string): Promise<void> {
    await this.read(`remove the data key of ${snapshotId}`, () =>
      this.paths.dataKey(repo, snapshotId).delete(),
    );
  }

  async redactions(): Promise<Redaction[]> {
    const found = await this.read("read the redaction list", () => this.paths.redactions().get());
    return found.docs
      .map((d) => JSON.parse(String(d.get("record"))) as Redaction)
      .sort((a, b) => (a.login.toLowerCase() < b.login.toLowerCase() ? -1 : 1));
  }

  async putRedaction(redaction: Redaction): Promise<void> {
    const ref = this.paths.redactions().doc(repoKeyOf(redaction.login.toLowerCase()));
    await this.read("add to the redaction list", () => ref.set({ record: JSON.stringify(redaction) }));
  }

  async removeRedaction(login: string): Promise<void> {
    const ref = this.paths.redactions().doc(repoKeyOf(login.toLowerCase()));
    await this.read("remove from the redaction list", () => ref.delete());
  }

  private async read<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw fromGrpc(err, `could not ${what}`);
    }
  }
}

/** The set is one JSON string: its keys are a short list read and written whole. */
function fromSetDoc(data: DocumentData): RepositoryKeySet {
  return JSON.parse(String(data.set)) as RepositoryKeySet;
}

function fromDataKeyDoc(repo: string, snapshotId: string, data: DocumentData): DataKeyRecord {
  return { repo, snapshotId, keyId: String(data.keyId), wrapped: String(data.wrapped) };
}
