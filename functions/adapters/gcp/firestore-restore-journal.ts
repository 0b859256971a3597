// The RestoreJournal in the cloud: restores/{restore}/steps/{step} documents beside the index.
// Document ids are SHA-256s of the restore id and the step key (both may hold "/"), the key itself
// kept in the document. Steps of one restore are read in one query.
import { createHash } from "node:crypto";
import type { CollectionReference, DocumentReference, Firestore } from "@google-cloud/firestore";
import type { JournalEntry, RestoreJournal } from "../../core/ports.js";

const idOf = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

export class FirestoreRestoreJournal implements RestoreJournal {
  private readonly base: Firestore | DocumentReference;

  /** `root`: a document path to keep the collection under (tests); default: top level. */
  constructor(private readonly options: { firestore: Firestore; root?: string }) {
    this.base = options.root ? options.firestore.doc(options.root) : options.firestore;
  }

  private steps(restoreId: string): CollectionReference {
    return this.base.collection("restores").doc(idOf(restoreId)).collection("steps");
  }

  async entries(restoreId: string): Promise<JournalEntry[]> {
    const docs = await this.steps(restoreId).get();
    return docs.docs.map((d) => {
      const data = d.data() as { key: string; state: "intent" | "done"; result?: string };
      return {
        key: data.key,
        state: data.state,
        ...(data.result === undefined ? {} : { result: JSON.parse(data.result) as Record<string, unknown> }),
      };
    });
  }

  async intend(restoreId: string, key: string): Promise<void> {
    const ref = this.steps(restoreId).doc(idOf(key));
    // create() fails on an existing document: an intent or a done step stays as it is.
    await ref.create({ restoreId, key, state: "intent" }).catch((err: { code?: number }) => {
      if (err.code !== 6) throw err; // 6: ALREADY_EXISTS
    });
  }

  async complete(restoreId: string, key: string, result: Record<string, unknown>): Promise<void> {
    // The result as a JSON string: Firestore would turn numeric-looking map keys and nested arrays
    // into its own types, and a journal must give back exactly what was put.
    await this.steps(restoreId)
      .doc(idOf(key))
      .set({ restoreId, key, state: "done", result: JSON.stringify(result) });
  }
}
