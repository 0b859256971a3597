// AuditLog in Firestore: one hash chain per repository (and one, "-", for events of no
// repository), so that concurrent functions contend only on their own repository's chain. Each
// entry is created in a transaction with its chain's head: a chain never forks, and an entry is
// never overwritten (create fails on an existing document). Every entry is also written to Cloud
// Logging (`mirror`), which a sink can route to a locked bucket.
import type { DocumentReference, Firestore } from "@google-cloud/firestore";
import {
  chainEntry,
  EMPTY_HEAD,
  inWindow,
  type AuditEntry,
  type ChainHead,
  type StoredEntry,
} from "../../core/audit-chain.js";
import {
  systemClock,
  type AuditEvent,
  type AuditLog,
  type AuditReader,
  type Clock,
  type ConfigTrail,
} from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import { FirestorePaths } from "./firestore-paths.js";

/** The chain of events that name no repository. */
export const ORG_CHAIN = "-";

/** How many entries one read of a chain fetches. */
const PAGE = 500;

/** Firestore's limit on the values of one `in` filter. */
const IN_VALUES = 30;

export class FirestoreAuditLog implements AuditLog, AuditReader, ConfigTrail {
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
      // merge: the head also remembers its newest configuration entry (configSeq, below).
      tx.set(head, { chain, seq: entry.seq, hash: entry.hash }, { merge: true });
    });
    await this.mirror?.record(event);
  }

  /**
   * Configuration entries name no repository: they go to the "-" chain, whose head keeps the
   * number of the newest one (configSeq), so finding it is one read in the same transaction.
   */
  async recordConfig(
    decide: (last: AuditEntry | undefined) => AuditEvent | undefined,
  ): Promise<AuditEntry | undefined> {
    const head = this.paths.auditChains().doc(this.chainId(ORG_CHAIN));
    const entries = this.paths.auditEntries(ORG_CHAIN);
    const recorded = await this.db.runTransaction(async (tx) => {
      const current = await tx.get(head);
      const state = current.exists ? (current.data() as ChainHead & { configSeq?: number }) : undefined;
      let last: AuditEntry | undefined;
      if (state?.configSeq !== undefined) {
        const doc = await tx.get(entries.doc(seqId(state.configSeq)));
        last = parse((doc.data() as { json?: unknown } | undefined)?.json) as AuditEntry | undefined;
      }
      const event = decide(last);
      if (!event || event.repo !== undefined) return undefined;
      const entry = chainEntry(
        event,
        this.clock.now(),
        state ? { seq: state.seq, hash: state.hash } : EMPTY_HEAD,
      );
      tx.create(entries.doc(seqId(entry.seq)), {
        json: JSON.stringify(entry),
        seq: entry.seq,
        at: entry.at,
        action: entry.action,
        outcome: entry.outcome,
      });
      tx.set(head, { chain: ORG_CHAIN, seq: entry.seq, hash: entry.hash, configSeq: entry.seq });
      return { entry, event };
    });
    if (recorded) await this.mirror?.record(recorded.event);
    return recorded?.entry;
  }

  /** Every chain's entries, chain by chain, each oldest first. */
  async *stored(): AsyncIterable<StoredEntry> {
    const chains = await this.paths.auditChains().get();
    for (const chainDoc of chains.docs) {
      const chain = (chainDoc.data() as { chain: string }).chain;
      yield* this.chain(chain, chainDoc.ref);
    }
  }

  /**
   * One collection-group query over every chain's entries (action in `actions`, at >= `since`;
   * the composite index on action and at is declared in infra/firestore.tf), the entry's text only.
   * Under a root, the entries of other roots the query also finds are left out.
   */
  async entriesSince(actions: readonly string[], since: string): Promise<AuditEntry[]> {
    const wanted = new Set(actions);
    const under = `${this.paths.auditChains().path}/`;
    const batches: string[][] = [];
    for (let i = 0; i < actions.length; i += IN_VALUES) batches.push(actions.slice(i, i + IN_VALUES));
    const pages = await Promise.all(
      batches.map((batch) =>
        this.db
          .collectionGroup("entries")
          .where("action", "in", batch)
          .where("at", ">=", since)
          .select("json")
          .get()
          .catch((err: unknown) =>
            Promise.reject(fromGrpc(err, "could not read the audit trail's recent entries")),
          ),
      ),
    );
    return pages.flatMap((page) =>
      page.docs
        .filter((doc) => doc.ref.path.startsWith(under))
        .map((doc) => parse(doc.get("json")))
        .filter((value) => inWindow(value, wanted, since)),
    ) as AuditEntry[];
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
