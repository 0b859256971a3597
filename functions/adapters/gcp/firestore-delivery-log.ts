// The DeliveryLog in the cloud: deliveries/{id} documents with an `expiresAt` that Firestore's TTL
// policy (infra/firestore.tf) deletes after the window. A transaction decides "first", so of
// concurrent instances handling one redelivered event exactly one publishes.
import type { Firestore } from "@google-cloud/firestore";
import { Timestamp } from "@google-cloud/firestore";
import type { DeliveryLog } from "../../core/ports.js";
import { FirestorePaths } from "./firestore-paths.js";

export class FirestoreDeliveryLog implements DeliveryLog {
  private readonly firestore: Firestore;
  private readonly paths: FirestorePaths;

  /** `root`: a document path to keep the collection under (tests); default: top level. */
  constructor(options: { firestore: Firestore; root?: string }) {
    this.firestore = options.firestore;
    this.paths = new FirestorePaths(options.firestore, options.root);
  }

  async firstSeen(id: string, ttlMs: number, now: Date): Promise<boolean> {
    const ref = this.paths.delivery(id);
    const expiresAt = Timestamp.fromMillis(now.getTime() + ttlMs);
    return this.firestore.runTransaction(async (tx) => {
      const seen = await tx.get(ref);
      const until = seen.get("expiresAt") as Timestamp | undefined;
      // TTL deletion runs within a day of expiry, not at it: an expired document counts as absent.
      if (seen.exists && until && until.toMillis() > now.getTime()) return false;
      tx.set(ref, { id, expiresAt, firstSeenAt: Timestamp.fromDate(now) });
      return true;
    });
  }

  async forget(id: string): Promise<void> {
    await this.paths.delivery(id).delete();
  }
}
