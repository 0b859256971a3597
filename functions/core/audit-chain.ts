// The audit trail as a hash chain: each entry carries its sequence number, the hash of the entry
// before it and its own hash, so that an entry changed, removed, reordered or inserted anywhere
// breaks the chain at that entry and `audit verify` names it. The rule is the same for every
// store (a JSON Lines file locally, a Firestore collection in the cloud).
import { createHash } from "node:crypto";
import type { AuditEvent } from "./ports.js";

/** An audit event as stored: stamped, numbered and chained. */
export interface AuditEntry extends AuditEvent {
  /** ISO-8601 UTC of when it was recorded. */
  at: string;
  /** 1, 2, 3 ... in the order recorded; no gaps. */
  seq: number;
  /** `hash` of the entry before (GENESIS for the first, or the hash of the log's unchained prefix). */
  prev: string;
  /** SHA-256 (hex) of the entry's canonical JSON without `hash`. */
  hash: string;
}

/** Where the chain starts: the `prev` of entry 1 in a log that never held unchained entries. */
export const GENESIS = "0".repeat(64);

/** What the chain continues from: the last entry's number and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS };

/**
 * The next entry after `head`. The event becomes plain JSON first (a bigint as its digits, a cycle
 * in its details replaced by a marker), so that what is hashed is exactly what is stored.
 */
export function chainEntry(event: AuditEvent, at: Date, head: ChainHead): AuditEntry {
  const body = { ...toJson(event), at: at.toISOString(), seq: head.seq + 1, prev: head.hash };
  return { ...body, hash: entryHash(body) } as AuditEntry;
}

/** SHA-256 of the entry's canonical JSON (keys sorted at every depth), `hash` itself left out. */
export function entryHash(entry: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = entry;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

/** JSON with object keys sorted at every depth: one text for one value, whatever its key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(",")}}`;
}

/** The event as plain JSON data; details that cannot be serialized are replaced, never thrown. */
function toJson(event: AuditEvent): Record<string, unknown> {
  const replacer = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);
  try {
    return JSON.parse(JSON.stringify(event, replacer)) as Record<string, unknown>;
  } catch {
    // A cycle in details: the record of the action matters more than its details.
    return JSON.parse(JSON.stringify({ ...event, details: { unserializable: true } }, replacer)) as Record<
      string,
      unknown
    >;
  }
}

/** One stored line or document, before it is trusted: `position` names it in a report (line 12, audit/000000000012). */
export interface StoredEntry {
  position: string;
  /** Which chain it belongs to, where a store keeps several (one per repository in Firestore); one chain when absent. */
  chain?: string;
  /** The parsed value, or undefined when it was not JSON. */
  value: unknown;
  /** The stored text, for an unchained (legacy) entry's share of the prefix hash. */
  text?: string;
}

export interface ChainReport {
  ok: boolean;
  /** Chained entries checked. */
  entries: number;
  /** Chains checked (1 for a single log). */
  chains: number;
  /** Entries written before the log was chained (they are covered by the first chained entry's `prev`). */
  unchained: number;
  /** The last good entry (of the last chain read), what a new entry would continue from. */
  head: ChainHead;
  /** The first entry that breaks a chain, and how. */
  firstBad?: { position: string; seq?: number; reason: string };
}

/** One chain's state while it is checked. */
interface ChainState {
  head: ChainHead;
  chained: number;
  unchained: number;
  prefix: ReturnType<typeof createHash>;
}

/**
 * Checks a log, oldest first. Entries older than the chain (no `hash`, written before the trail
 * was chained) may only come first: the first chained entry's `prev` is the SHA-256 of their stored
 * lines, so they cannot be changed either.
 */
export async function verifyChain(entries: AsyncIterable<StoredEntry>): Promise<ChainReport> {
  const chains = new Map<string, ChainState>();
  let current: ChainState | undefined;
  const totals = () => {
    let entries = 0;
    let unchained = 0;
    for (const c of chains.values()) {
      entries += c.chained;
      unchained += c.unchained;
    }
    return { entries, unchained, chains: chains.size, head: current?.head ?? EMPTY_HEAD };
  };
  const bad = (position: string, reason: string, seq?: number): ChainReport => ({
    ok: false,
    ...totals(),
    firstBad: { position, reason, ...(seq === undefined ? {} : { seq }) },
  });
  for await (const stored of entries) {
    const name = stored.chain ?? "";
    current = chains.get(name);
    if (!current) {
      current = { head: EMPTY_HEAD, chained: 0, unchained: 0, prefix: createHash("sha256") };
      chains.set(name, current);
    }
    const state = current;
    const value = stored.value as Record<string, unknown> | undefined;
    if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) {
      return bad(stored.position, "not a JSON object");
    }
    if (value.hash === undefined && value.seq === undefined) {
      if (state.chained > 0)
        return bad(stored.position, "an unchained entry after the chain began (inserted?)");
      state.unchained += 1;
      state.prefix.update(`${stored.text ?? canonicalJson(value)}\n`);
      continue;
    }
    const seq = typeof value.seq === "number" ? value.seq : undefined;
    if (state.chained === 0 && state.unchained > 0) state.head = { seq: 0, hash: state.prefix.digest("hex") };
    if (seq !== state.head.seq + 1) {
      return bad(
        stored.position,
        `sequence ${String(value.seq)} where ${state.head.seq + 1} was due (removed or reordered?)`,
        seq,
      );
    }
    if (value.prev !== state.head.hash) {
      return bad(stored.position, "its prev is not the hash of the entry before (changed or removed?)", seq);
    }
    if (typeof value.hash !== "string" || entryHash(value) !== value.hash) {
      return bad(stored.position, "its content does not match its hash (changed?)", seq);
    }
    state.head = { seq, hash: value.hash };
    state.chained += 1;
  }
  return { ok: true, ...totals() };
}

/** The prefix hash a log's first chained entry continues from, given its unchained lines. */
export function unchainedPrefixHead(lines: readonly string[]): ChainHead {
  if (!lines.length) return EMPTY_HEAD;
  const prefix = createHash("sha256");
  for (const line of lines) prefix.update(`${line}\n`);
  return { seq: 0, hash: prefix.digest("hex") };
}

/** Which entries a reader asked for. */
export interface AuditFilter {
  repo?: string;
  /** ISO-8601: entries at or after it. */
  since?: string;
  /** An action ("restore.completed") or its family ("restore"). */
  action?: string;
}

export function matchesFilter(entry: AuditEntry, filter: AuditFilter): boolean {
  if (filter.repo !== undefined && entry.repo !== filter.repo) return false;
  if (filter.since !== undefined && entry.at < filter.since) return false;
  if (
    filter.action !== undefined &&
    entry.action !== filter.action &&
    !entry.action.startsWith(`${filter.action}.`)
  )
    return false;
  return true;
}

/** What a reader of the trail gets: the matching entries (oldest first) and the positions it could not read. */
export interface AuditSelection {
  entries: AuditEntry[];
  /** Positions whose stored value is not an audit entry (`audit verify` says more). */
  damaged: string[];
  /** Whether `limit` cut the list short (the newest matching entries are the ones kept). */
  truncated: boolean;
}

/**
 * The entries of `stored` that match `filter`: the one reading behind `infinity-backup audit` and
 * backupHealth's `?audit`. With `limit`, only the newest `limit` matches are kept, so memory stays
 * bounded however long the trail is.
 */
export async function selectAudit(
  stored: AsyncIterable<StoredEntry>,
  filter: AuditFilter,
  limit = Number.POSITIVE_INFINITY,
): Promise<AuditSelection> {
  const entries: AuditEntry[] = [];
  const damaged: string[] = [];
  let truncated = false;
  for await (const item of stored) {
    const entry = item.value as AuditEntry | undefined;
    if (!entry || typeof entry !== "object" || typeof entry.action !== "string") damaged.push(item.position);
    else if (matchesFilter(entry, filter)) {
      entries.push(entry);
      if (entries.length > limit) {
        entries.shift();
        truncated = true;
      }
    }
  }
  return { entries, damaged, truncated };
}

/**
 * Whether a stored value (parsed, not yet trusted) is an entry of one of `actions` recorded at or
 * after `since`: what AuditReader.entriesSince answers, on every backend.
 */
export function inWindow(value: unknown, actions: ReadonlySet<string>, since: string): value is AuditEntry {
  if (typeof value !== "object" || value === null) return false;
  const { action, at } = value as Partial<AuditEntry>;
  return typeof action === "string" && actions.has(action) && typeof at === "string" && at >= since;
}
