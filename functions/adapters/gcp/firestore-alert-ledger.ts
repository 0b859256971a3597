// The incident memory of notifications in the cloud: alertIncidents/{sha256 of the key} documents
// holding the key and when it was last sent, one per open incident and channel. Every instance of
// every function shares it, and claim and release are transactions, so of two instances that see
// the same failure (a retried request, the health check on two instances) exactly one sends.
import { createHash } from "node:crypto";
import type { CollectionReference, Firestore } from "@google-cloud/firestore";
import type { AlertLedger } from "../../core/ports.js";

export class FirestoreAlertLedger implements AlertLedger {
  private readonly firestore: Firestore;
  private readonly incidents: CollectionReference;

  /** `root`: a document path to keep the collection under (tests); default: top level. */
  constructor(options: { firestore: Firestore; root?: string }) {
    this.firestore = options.firestore;
    this.incidents = options.root
      ? options.firestore.doc(options.root).collection("alertIncidents")
      : options.firestore.collection("alertIncidents");
  }

  /** A key holds a repository name and a channel's host: hashed into a safe document id. */
  private doc(key: string) {
    return this.incidents.doc(createHash("sha256").update(key).digest("hex"));
  }

  async claim(key: string, at: string, resendBefore: string): Promise<boolean> {
    const ref = this.doc(key);
    return this.firestore.runTransaction(async (tx) => {
      const open = await tx.get(ref);
      const last = open.get("lastSent") as string | undefined;
      if (open.exists && typeof last === "string" && last >= resendBefore) return false;
      tx.set(ref, { key, lastSent: at });
      return true;
    });
  }

  async release(key: string): Promise<string | undefined> {
    const ref = this.doc(key);
    return this.firestore.runTransaction(async (tx) => {
      const open = await tx.get(ref);
      const last = open.get("lastSent") as string | undefined;
      if (!open.exists || typeof last !== "string") return undefined;
      tx.delete(ref);
      return last;
    });
  }

  async record(key: string, at: string): Promise<void> {
    await this.doc(key).set({ key, lastSent: at });
  }

  /** Only open incidents are kept, so the collection is read whole (no query, no index). */
  async openKeys(prefix: string): Promise<string[]> {
    const all = await this.incidents.get();
    return all.docs
      .map((d) => d.get("key") as unknown)
      .filter((k): k is string => typeof k === "string" && k.startsWith(prefix));
  }
}
