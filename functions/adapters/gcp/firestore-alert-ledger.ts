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

  /**
   * One range query on `key` (Firestore's automatic single-field index): the keys that start with
   * `prefix` sort between it and `prefixEnd`, so a channel reads its own open incidents only, not
   * every channel's.
   */
  async openIncidents(prefix: string): Promise<Map<string, string>> {
    const end = prefixEnd(prefix);
    let query = this.incidents.where("key", ">=", prefix);
    if (end !== undefined) query = query.where("key", "<", end);
    const open = new Map<string, string>();
    for (const d of (await query.get()).docs) {
      const key = d.get("key") as unknown;
      const last = d.get("lastSent") as unknown;
      if (typeof key === "string" && key.startsWith(prefix) && typeof last === "string") open.set(key, last);
    }
    return open;
  }
}

/**
 * The least string above every string that starts with `prefix`: its last character plus one
 * (Firestore orders strings by their UTF-8 bytes, which is code point order). Undefined (no upper
 * bound; the caller filters) for an empty prefix, or when that would not be a whole character: the
 * prefix ends in a high surrogate, just below the surrogates, or at the end of a plane.
 */
function prefixEnd(prefix: string): string | undefined {
  if (!prefix) return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  if ((last >= 0xd7ff && last <= 0xdbff) || last === 0xdfff || last === 0xffff) return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
