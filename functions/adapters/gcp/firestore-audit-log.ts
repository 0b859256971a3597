// AuditLog in Firestore: one hash chain per repository (and one, "-", for events of no
// repository), so that concurrent functions contend only on their own repository's chain. Each
// entry is created in a transaction with its chain's head: a chain never forks, and an entry is
// never overwritten (create fails on an existing document). Every entry is also written to Cloud
// Logging (`mirror`), which a sink can route to a locked bucket.
import type { DocumentReference, Firestore } from "@google-cloud/firestore";
import { chainEntry, EMPTY_HEAD, type ChainHead, type StoredEntry } from "../../core/audit-chain.js";
import {
  systemClock,
  type AuditEvent,
  type AuditLog,
  type AuditReader,
  type Clock,
} from "../../core/ports.js";
import { FirestorePaths } from "./firestore-paths.js";

/** The chain of events that name no repository. */
export const ORG_CHAIN = "-";

/** How many entries one read of a chain fetches. */
const PAGE = 500;

export class FirestoreAuditLog implements AuditLog, AuditReader {
  private readonly db: Firestore;
  private readonly paths: FirestorePaths;
  private readonly clock: Clock;
  private readonly mirror: AuditLog | undefined;

  constructor(options: { firestore: Firestore; root?: string; clock?: Clock; mirror?: AuditLog }) {
    this.db = options.firestore;
    this.paths = new FirestorePaths(options.firestore, options.root);
    this.clock = options.clock ?? systemClock;
    this.mirror = options.mirror;
  }

  async record(event: AuditEvent): Promise<void> {
    const chain = event.repo ?? ORG_CHAIN;
    const head = this.paths.auditChains().doc(this.chainId(chain));
    const entries = this.paths.auditEntries(chain);
    await this.db.runTransaction(async (tx) => {
      const current = await tx.get(head);
      const at: ChainHead = current.exists ? (current.data() as ChainHead) : EMPTY_HEAD;
      const entry = chainEntry(event, this.clock.now(), at);
      // The entry as its JSON text (what was hashed, whatever Firestore does to numbers, nested
      // arrays or key order), beside the fields a query filters on.
      tx.create(entries.doc(seqId(entry.seq)), {
        json: JSON.stringify(entry),
        seq: entry.seq,
        at: entry.at,
        action: entry.action,
        outcome: entry.outcome,
      });
      tx.set(head, { chain, seq: entry.seq, hash: entry.hash });
    });
    await this.mirror?.record(event);
  }

  /** Every chain's entries, chain by chain, each oldest first. */
  async *stored(): AsyncIterable<StoredEntry> {
    const chains = await this.paths.auditChains().get();
    for (const chainDoc of chains.docs) {
      const chain = (chainDoc.data() as { chain: string }).chain;
      yield* this.chain(chain, chainDoc.ref);
    }
  }

  private async *chain(chain: string, head: DocumentReference): AsyncIterable<StoredEntry> {
    const entries = head.collection("entries");
    let after: string | undefined;
    for (;;) {
      let query = entries.orderBy("__name__").limit(PAGE);
      if (after !== undefined) query = query.startAfter(after);
      const page = await query.get();
      for (const doc of page.docs) {
        const position = `auditChains/${head.id}/entries/${doc.id}`;
        yield { chain, position, value: parse((doc.data() as { json?: unknown }).json) };
      }
      if (page.docs.length < PAGE) return;
      after = page.docs.at(-1)!.id;
    }
  }

  private chainId(chain: string): string {
    return this.paths.auditEntries(chain).parent!.id;
  }
}

/** 12 digits: document ids sort as numbers. */
function seqId(seq: number): string {
  return String(seq).padStart(12, "0");
}

function parse(json: unknown): unknown {
  if (typeof json !== "string") return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
