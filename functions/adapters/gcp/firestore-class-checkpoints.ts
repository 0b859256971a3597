// ClassCheckpoints on Firestore: classCheckpoints/{repoKey} holds a repository's storage-class
// replay as one opaque text field, read by name (a fresh backupHealth instance reads only the
// repositories it cannot resume, in one batched read).
import type { CollectionReference, Firestore } from "@google-cloud/firestore";
import type { ClassCheckpoints } from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import { repoKey } from "./firestore-paths.js";

/** Firestore's limit of writes in one batch. */
const BATCH = 500;

export class FirestoreClassCheckpoints implements ClassCheckpoints {
  private readonly db: Firestore;
  private readonly docs: CollectionReference;

  /** `root`: a document path to keep the collection under (tests); default: top level. */
  constructor(options: { firestore: Firestore; root?: string }) {
    this.db = options.firestore;
    this.docs = (options.root ? this.db.doc(options.root) : this.db).collection("classCheckpoints");
  }

  async saveClassCheckpoints(entries: ReadonlyMap<string, string>): Promise<void> {
    const all = [...entries];
    try {
      for (let i = 0; i < all.length; i += BATCH) {
        const batch = this.db.batch();
        for (const [repo, checkpoint] of all.slice(i, i + BATCH))
          batch.set(this.docs.doc(repoKey(repo)), { repo, checkpoint });
        await batch.commit();
      }
    } catch (err) {
      throw fromGrpc(err, `could not keep ${entries.size} storage-class replays`);
    }
  }

  async classCheckpoints(keys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    try {
      for (let i = 0; i < keys.length; i += BATCH) {
        const docs = await this.db.getAll(...keys.slice(i, i + BATCH).map((k) => this.docs.doc(repoKey(k))));
        for (const doc of docs) {
          const data = doc.data();
          if (typeof data?.["repo"] === "string" && typeof data["checkpoint"] === "string")
            found.set(data["repo"], data["checkpoint"]);
        }
      }
    } catch (err) {
      throw fromGrpc(err, `could not read storage-class replays`);
    }
    return found;
  }

  async forgetClassCheckpoint(key: string): Promise<void> {
    try {
      await this.docs.doc(repoKey(key)).delete();
    } catch (err) {
      throw fromGrpc(err, `could not forget the storage-class replay of ${key}`);
    }
  }
}
