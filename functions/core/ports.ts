// The ports: every piece of the outside world the use cases talk to. Each method's contract is
// written here, and test/contract/ holds one suite per port that every adapter must pass.
// Errors: adapters raise our own errors (core/errors.ts), the SDK's kept as cause. One marked
// `permanent` (a refusal, a missing key, bad input) needs a person; any other is transient (a
// blip of the service, the network or the disk), and core/retrying-ports.ts tries again the calls
// that are safe to repeat. test/fault/ makes each port fail both ways.
import type { Readable } from "node:stream";
import type { AuditEntry, StoredEntry } from "./audit-chain.js";
import type { InventoryEvent } from "./lineage/events.js";
import type {
  Layer,
  LayerState,
  MetadataRecord,
  RepositoryRecord,
  Snapshot,
  SnapshotSummary,
  SourceRepo,
  Verification,
} from "./model.js";

export interface BlobInfo {
  key: string;
  size: number;
  /** ISO-8601 UTC of when the object was written. */
  createdAt: string;
  /** Storage class where the store has them ("STANDARD", "COLDLINE"); "LOCAL" for a folder. */
  storageClass?: string;
  /** The earliest time the store's own lifecycle may delete it (GCS customTime). */
  expiresAt?: string;
  /**
   * Until when the store refuses to delete or replace it, whoever asks (GCS object retention;
   * the folder store's sidecar). Absent: no retention.
   */
  retainUntil?: string;
  /** A legal hold is on it (GCS temporary hold): no delete until it is released. */
  held?: boolean;
  /** Caller-supplied string metadata, returned as given. */
  metadata: Record<string, string>;
}

export interface PutOptions {
  /** Stored with the object and returned by stat/list. Keys and values are plain strings. */
  metadata?: Record<string, string>;
  /** The object's retention from the start (ISO-8601): no delete or replace before it. */
  retainUntil?: string;
}

/** What setLifecycle changes; each field left out stays as it is. */
export interface LifecycleChange {
  /** Moves only forward: an earlier value than the current one is ignored. */
  expiresAt?: string;
  storageClass?: string;
  /** Retention: moves only forward, like expiresAt (no store may shorten it on request). */
  retainUntil?: string;
  /** Sets (true) or releases (false) the legal hold. */
  hold?: boolean;
}

/**
 * Where archives live. Keys are "/"-separated paths with no leading "/" and no "." or ".."
 * segments; an invalid key is rejected with UserInputError.
 */
export interface BlobStore {
  /**
   * Writes `body` under `key`, consuming it as a stream (never buffered whole).
   * Atomic: until put resolves, no reader sees the object under `key`; if `body` errors or the
   * process dies, nothing is left under `key` (a partial upload may linger elsewhere and is
   * cleaned by the store). Never overwrites: if `key` exists, rejects with ConflictError and
   * leaves the existing object untouched. Resolves with the stored object's info.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<BlobInfo>;
  /**
   * Opens the object for streaming reads. Rejects with NotFoundError if `key` does not exist.
   * Read errors after opening surface as errors on the returned stream.
   */
  get(key: string): Promise<Readable>;
  /** The object's info, or undefined if it does not exist. */
  stat(key: string): Promise<BlobInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order. Pages internally. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /**
   * Deletes the object. Deleting a missing key is not an error (idempotent under retries). An
   * object under retention or on hold is refused with RetainedError and stays as it was.
   */
  delete(key: string): Promise<void>;
  /**
   * Sets lifecycle attributes. `expiresAt` and `retainUntil` only ever move forward: an earlier
   * value than the current one is ignored (kept as is). Rejects with NotFoundError for a missing key.
   */
  setLifecycle(key: string, change: LifecycleChange): Promise<BlobInfo>;
}

/** A lease on one repo, so that two snapshots of the same repo never run at once. */
export interface Lease {
  repo: string;
  holder: string;
  /** ISO-8601 UTC; after this the lease may be taken by another holder. */
  expiresAt: string;
}

/**
 * The repository registry: each repository of a host with stable ids, by id (see core/lineage/).
 * The rules (what a rename or a deletion changes) live in core; an adapter stores.
 */
export interface RepositoryRegistry {
  /** Every record, in no particular order. */
  repositories(): Promise<RepositoryRecord[]>;
  /** The records that have `name` as their key, their current name or a former name. */
  repositoriesNamed(name: string): Promise<RepositoryRecord[]>;
  /**
   * Read-modify-write of the record of `id`, atomically: `change` gets the stored record (or
   * undefined) and returns the record to store, or undefined to leave it as is. `change` must be
   * pure: it may run more than once (Firestore retries a contended transaction). Resolves with the
   * record as stored afterwards. Rejects with UserInputError when the record's id is not `id`.
   */
  updateRepository(
    id: number,
    change: (current: RepositoryRecord | undefined) => RepositoryRecord | undefined,
  ): Promise<RepositoryRecord | undefined>;
}

/**
 * The index of committed snapshots. A snapshot exists once `commit` resolves; nothing else
 * (not an object in the BlobStore) makes it exist. An adapter files each snapshot under
 * `snapshot.lineage ?? snapshot.repo` and takes that key as `repo` in every method; names are
 * resolved to keys by core/lineage/lineage-index.ts, which wraps the adapter.
 */
export interface SnapshotIndex extends RepositoryRegistry {
  /**
   * Makes a snapshot visible, atomically. Rejects with ConflictError if a snapshot with the same
   * repo and id is already committed with different content; committing the identical record
   * again resolves (idempotent under retries).
   */
  commit(snapshot: Snapshot): Promise<void>;
  /** The snapshot, or undefined. */
  get(repo: string, id: string): Promise<Snapshot | undefined>;
  /** The newest snapshot of the repo by takenAt (then id), or undefined if it has none. */
  latest(repo: string): Promise<Snapshot | undefined>;
  /** The newest snapshot with takenAt <= `at` (ISO-8601), or undefined. */
  atOrBefore(repo: string, at: string): Promise<Snapshot | undefined>;
  /** All snapshots of the repo, newest first. */
  list(repo: string): Promise<Snapshot[]>;
  /**
   * list() of each of `repos` as summaries (no ref lists, no checkpoint), in the order given ([] for
   * a repo with none), in as few reads as the store allows: health asks for every repository at once.
   */
  listMany(repos: readonly string[]): Promise<SnapshotSummary[][]>;
  /** Every repo that has at least one snapshot, sorted. */
  repos(): Promise<string[]>;
  /**
   * repos() with listMany()'s answer for each, in as few reads as the store allows (the status
   * page's one read): repo -> its summaries, newest first, in repos()' order.
   */
  listAll(): Promise<Map<string, SnapshotSummary[]>>;
  /**
   * Records that the source was seen unchanged at `at`: confirmedAt moves forward, never back.
   * Rejects with NotFoundError for an unknown snapshot.
   */
  confirm(repo: string, id: string, at: string): Promise<void>;
  /** Records a verification verdict on the snapshot. NotFoundError for an unknown snapshot. */
  recordVerification(repo: string, id: string, verification: Verification): Promise<void>;
  /** Sets or clears the legal hold. NotFoundError for an unknown snapshot. */
  setHold(repo: string, id: string, hold: boolean): Promise<void>;
  /**
   * Removes the record. Removing a missing record is not an error. A held snapshot is refused
   * with ConflictError.
   */
  remove(repo: string, id: string): Promise<void>;
  /**
   * Takes the repo's lease for `ttlMs` if it is free, expired, or already held by `holder`
   * (which renews it). Resolves undefined, taking nothing, when another holder has it.
   */
  acquireLease(repo: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Gives the lease back if `holder` has it; otherwise does nothing. */
  releaseLease(repo: string, holder: string): Promise<void>;
  /** Leases in force now (not expired), by repo: what status shows as "running". */
  leases(): Promise<Lease[]>;
  /**
   * Records how the latest backup attempt of `repo` ended, replacing the one before; an attempt
   * older than the recorded one is ignored (deliveries arrive out of order). Works for a repo with
   * no snapshot yet: that is when a failure most needs to be seen.
   */
  recordAttempt(repo: string, attempt: BackupAttempt): Promise<void>;
  /** The latest attempt of every repo that has one, by repo name. */
  attempts(): Promise<Record<string, BackupAttempt>>;
}

/**
 * The layer records of layered snapshots (docs/ARCHITECTURE.md, "Shared pack layers"), filed by
 * lineage key. Every write is one transaction that first checks the lineage's generation equals
 * `expectGeneration` (else ConflictError, nothing written) and then increments it: a plan made from
 * an older read never lands. The rules (what to merge, what is garbage) live in core/layers/.
 */
export interface LayerIndex {
  /** The lineage's generation (0 before its first layer transaction). */
  layerState(lineage: string): Promise<LayerState>;
  /** Every layer record of the lineage, any state, oldest first. */
  layers(lineage: string): Promise<Layer[]>;
  getLayer(lineage: string, id: string): Promise<Layer | undefined>;
  /**
   * T-snap: commits `snapshot` (kind "layered", `layers` set) and, when given, its new live
   * `layer`, in one transaction. Also checks that every snapshot id in `basedOn` is still in the
   * index (their tips were the fetch's haves) and that every layer `snapshot.layers` names exists
   * and is live or retired (never dead); ConflictError naming what moved otherwise.
   */
  commitLayered(
    snapshot: Snapshot,
    layer: Layer | undefined,
    basedOn: string[],
    expectGeneration: number,
  ): Promise<void>;
  /**
   * T-merge: adds the live `merged` layer and sets each of `inputs` (which must all be live)
   * retired with `replacedBy` = [merged.id] and `stateAt` = merged.createdAt.
   */
  commitMerge(lineage: string, merged: Layer, inputs: string[], expectGeneration: number): Promise<void>;
  /** T-drop: sets each of `ids` (live or retired) dead at `at`. */
  markDead(lineage: string, ids: string[], at: string, expectGeneration: number): Promise<void>;
  /**
   * Records that a retired or dead layer's archives are deleted (idempotent; no generation check).
   * ConflictError for a live layer, NotFoundError for an unknown one.
   */
  markObjectDeleted(lineage: string, id: string): Promise<void>;
  /**
   * Removes a record whose archives are deleted and that no snapshot names, nor any other
   * record's `replacedBy` (a resolve goes through it); ConflictError otherwise. Idempotent.
   */
  forgetLayer(lineage: string, id: string): Promise<void>;
  /** Records a verification verdict on the layer. NotFoundError for an unknown layer. */
  recordLayerVerification(lineage: string, id: string, verification: Verification): Promise<void>;
  /**
   * T-fold (docs/ARCHITECTURE.md, "Old archives folded in"): in one transaction, adds the fold's
   * new live layer (if any) and one retired `legacy` record per old archive (which keeps the old
   * archive named until layer garbage deletes it after the grace period), and turns each folded
   * full or incremental snapshot record into a layered one, keeping every other field (hold,
   * confirmedAt) as the index has it and dropping `parentId` and `verification`. ConflictError
   * when the generation moved, a snapshot is gone or no longer reads the archive the fold was
   * made from, a named layer is dead or missing, or a snapshot left out builds on a folded one.
   * The same fold again after it landed is a no-op.
   */
  commitFold(lineage: string, fold: LegacyFold, expectGeneration: number): Promise<void>;
}

/** What T-fold writes (core/layers/compact-fold.ts makes it). */
export interface LegacyFold {
  /** The new live layer holding the chain's objects no live layer held; absent when none was new. */
  layer?: Layer;
  /** Retired records of level "legacy", one per old archive, each replacedBy the layers now holding its objects. */
  legacy: Layer[];
  snapshots: FoldedSnapshot[];
}

/** One snapshot record's change in T-fold: from its old archive to its own layered archive and layers. */
export interface FoldedSnapshot {
  id: string;
  /** The archive the record names now (the fold was made from it). */
  legacyKey: string;
  objectKey: string;
  size: number;
  sha256: string;
  bundleBytes: number;
  layers: string[];
  /** Its metadata's record, whole (an incremental's was a delta over its chain); absent: unchanged. */
  metadata?: MetadataRecord;
}

/** How one backup attempt of a repository ended (health shows the latest). */
export interface BackupAttempt {
  /** ISO-8601 UTC of when the attempt started. */
  at: string;
  outcome: "created" | "unchanged" | "failed";
  snapshotId?: string;
  /** For a failure: what went wrong, fit for a person (never a secret). */
  error?: string;
}

/** A data key wrapped by a key-encryption key, as stored in an archive's header. */
export interface WrappedKey {
  /** Which key wrapped it: a KMS crypto key version name, or "local:<id>". */
  keyRef: string;
  /** The wrapped bytes. */
  wrapped: Buffer;
}

/**
 * Wraps and unwraps per-archive data keys (envelope encryption). The key-encryption key never
 * leaves the wrapper.
 */
export interface KeyWrapper {
  /** Wraps a 32-byte data key under the current primary key. Rejects with KeyError. */
  wrap(dataKey: Buffer): Promise<WrappedKey>;
  /**
   * Unwraps a data key wrapped by this or an earlier (rotated) key. Rejects with KeyError that
   * names the keyRef when the key is unknown, wrong, or the bytes were tampered with.
   */
  unwrap(key: WrappedKey): Promise<Buffer>;
}

/**
 * A repository's key-encryption key as the index keeps it: wrapped by the KeyWrapper (the KMS key
 * or the key file), never in clear. Its id is random, so it names the key and says nothing of it.
 */
export interface RepositoryKey {
  /** 16 lowercase hex digits; data key records name their repository key by it. */
  id: string;
  /** The KeyWrapper key that wrapped it (a KMS key version name, or "local:<id>"). */
  keyRef: string;
  /** The wrapped 32 bytes, standard base64. */
  wrapped: string;
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** Who destroyed a repository's keys, when and why (core/keys/forget.ts). */
export interface Shredding {
  at: string;
  by: string;
  reason: string;
  /** The ids of the repository keys destroyed. */
  keyIds: string[];
}

/** Every key of one repository (its lineage key), or the record that they were destroyed. */
export interface RepositoryKeySet {
  repo: string;
  /** Oldest first; the last one wraps the data keys of new archives. Empty once shredded. */
  keys: RepositoryKey[];
  shredded?: Shredding;
}

/** One archive's data key, wrapped by a repository key: the small record a rewrap replaces. */
export interface DataKeyRecord {
  /** The lineage key the snapshot is filed under. */
  repo: string;
  snapshotId: string;
  /** The RepositoryKey.id that wrapped it. */
  keyId: string;
  /** 61 bytes, standard base64: 0x01, nonce (12), ciphertext (32), GCM tag (16). See docs/FORMAT.md. */
  wrapped: string;
}

/**
 * The index's key records (core/keys/): repository keys and archives' data keys, each wrapped,
 * kept beside the snapshot records. Nothing here is a secret without the KeyWrapper's key.
 */
export interface KeyRecords {
  /** The repository's key set, or undefined when it has none yet. */
  keySet(repo: string): Promise<RepositoryKeySet | undefined>;
  /** Every key set, in no particular order. */
  keySets(): Promise<RepositoryKeySet[]>;
  /**
   * Read-modify-write of the key set of `repo`, atomically (as updateRepository): `change` gets
   * the stored set or undefined and returns the set to store, or undefined to leave it. `change`
   * must be pure: it may run more than once. Resolves with the set as stored afterwards. Rejects
   * with UserInputError when the returned set's repo is not `repo`.
   */
  updateKeySet(
    repo: string,
    change: (current: RepositoryKeySet | undefined) => RepositoryKeySet | undefined,
  ): Promise<RepositoryKeySet | undefined>;
  /** The snapshot's data key record, or undefined. */
  dataKey(repo: string, snapshotId: string): Promise<DataKeyRecord | undefined>;
  /** Every data key record of the repository, by snapshot id ascending. */
  dataKeys(repo: string): Promise<DataKeyRecord[]>;
  /** Stores the record, replacing one of the same repo and snapshot (a rewrap). */
  putDataKey(record: DataKeyRecord): Promise<void>;
  /** Removes the record; a missing one is not an error. */
  removeDataKey(repo: string, snapshotId: string): Promise<void>;
}

/** A person whose data every read of metadata hides (core/metadata/redaction.ts). */
export interface Redaction {
  /** The GitHub login, as GitHub spells it (matched without regard to case). */
  login: string;
  reason: string;
  /** Who put it on the list, and when (ISO-8601 UTC). */
  by: string;
  at: string;
}

/** The redaction list, kept in the index. */
export interface RedactionList {
  /** Every entry, by login ascending. */
  redactions(): Promise<Redaction[]>;
  /** Adds the entry, replacing one of the same login (case-insensitive). */
  putRedaction(redaction: Redaction): Promise<void>;
  /** Removes the login's entry; a missing one is not an error. */
  removeRedaction(login: string): Promise<void>;
}

/**
 * How to reach a repository's git data: a URL plus headers (credentials live only here). An
 * http(s) remote's LFS server is beside it, at "<url>.git/info/lfs" as git-lfs derives it; a
 * path's LFS objects are in its own lfs/objects store (core/lfs/source.ts).
 */
export interface GitRemote {
  url: string;
  /**
   * HTTP headers for smart HTTP, e.g. Authorization; the LFS batch API gets the same ones (GitHub
   * takes the installation token there too), and no other host ever does. Never logged, never
   * written to disk.
   */
  headers?: Record<string, string>;
  /**
   * Whether the repository uses Git LFS, as cheaply as the host can say (its default branch's
   * .gitattributes names `filter=lfs`): true, false, or undefined when it cannot tell. A snapshot
   * scans its pack for LFS pointers only when this is not false, or its chain already holds LFS
   * objects, because the scan indexes the whole pack a second time.
   */
  usesLfs?: () => Promise<boolean | undefined>;
  /**
   * A GitHub repository (a restore's new one): makes `branch` (its name under refs/heads/, which
   * must exist there) the default branch, what a clone's HEAD follows; a plain git push cannot
   * set a remote's HEAD. Rejects with SourceError.
   */
  setDefaultBranch?: (branch: string) => Promise<void>;
}

/** Where the repositories come from: a config list, or a GitHub App installation. */
export interface SourceHost {
  /** Every repository to back up. Rejects with SourceError if the host cannot be listed. */
  listRepos(): Promise<SourceRepo[]>;
  /**
   * One repository by "owner/name", as listRepos would give it, without listing them all (a push
   * webhook names one repository). Undefined when the host has no such repository to back up.
   */
  getRepo(name: string): Promise<SourceRepo | undefined>;
  /** Read access to one repository's git data. Rejects with SourceError. */
  gitRemote(repo: SourceRepo): Promise<GitRemote>;
  /**
   * A GitHub host only (the health check): the REST rate limit left to the App's installation
   * token, read with that token (GET /rate_limit), so it also proves the token works. Rejects with
   * SourceError. Hosts without an API budget leave it out.
   */
  rateLimit?(): Promise<RateLimit>;
}

/** A host's REST rate limit ("core" on GitHub). */
export interface RateLimit {
  limit: number;
  remaining: number;
  /** ISO-8601 UTC of when the budget resets. */
  resetAt?: string;
}

export interface AuditEvent {
  /** "snapshot.created", "snapshot.unchanged", "verify.failed", "restore.completed", ... */
  action: string;
  repo?: string;
  snapshotId?: string;
  /** Who asked: "cli:<user>", "scheduler", "webhook:<delivery>", a service account. */
  actor: string;
  outcome: "success" | "failure";
  /** Plain facts; never a secret. */
  details?: Record<string, unknown>;
}

/** The append-only record of every backup, verification, prune and restore. */
export interface AuditLog {
  /** Appends the event, stamped with the time. Must not throw for a well-formed event. */
  record(event: AuditEvent): Promise<void>;
}

/**
 * The trail's record of the effective configuration (core/audit-config.ts). `recordConfig` reads
 * the newest "config.changed" entry and, atomically with every other append to the trail, records
 * the event `decide` returns for it (undefined: nothing). `decide` may run more than once (as a
 * transaction's body) and must be pure. Resolves with the entry recorded, or undefined.
 */
export interface ConfigTrail {
  recordConfig(
    decide: (last: AuditEntry | undefined) => AuditEvent | undefined,
  ): Promise<AuditEntry | undefined>;
}

/** The audit trail read back: every stored entry, oldest first, not yet trusted (see core/audit-chain.ts). */
export interface AuditReader {
  stored(): AsyncIterable<StoredEntry>;
  /**
   * The entries of `actions` recorded at or after `since` (ISO-8601 UTC), in no particular order:
   * views of a recent window (the status page's charts, the capacity growth rule). Read through an
   * index on action and time, so the cost grows with the window, not with the trail. Not
   * chain-verified: each entry is taken as stored, and one that is not an entry (a damaged line or
   * document) is left out; `verifyChain(stored())` is what proves the trail.
   */
  entriesSince(actions: readonly string[], since: string): Promise<AuditEntry[]>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Where work is handed on: Pub/Sub topics in the cloud, an in-process queue locally. */
export interface Publisher {
  /**
   * Publishes each message to `topic` after validating it against the topic's schema (see
   * messages.ts); an invalid message is a UserInputError and nothing of the batch is sent.
   * Resolves with the message ids once every message is accepted. Batches internally.
   */
  publish(topic: Topic, messages: readonly unknown[]): Promise<string[]>;
}

export type Topic =
  | "snapshot-requests"
  | "verify-requests"
  | "prune-requests"
  | "snapshot-large"
  /** One repository of an organization's restore (restoreOrg's fan-out). */
  | "restore-requests";

/** What a webhook delivery asks of us, once its signature is verified. */
export type WebhookOutcome =
  | { kind: "snapshot"; status: 202; message: string; request: import("./messages.js").SnapshotRequest }
  | { kind: "ping"; status: 200; message: string }
  /** A repository appeared, was renamed, transferred, archived or deleted, or the App's reach changed. */
  | { kind: "inventory"; status: 202; message: string; event: InventoryEvent }
  | { kind: "ignored"; status: 202; message: string };

/** A source host's webhooks (GitHub's, signed with the App's webhook secret). */
export interface WebhookReceiver {
  /**
   * Verifies the delivery's signature over the raw bytes before reading anything of it, then says
   * what it asks for. Rejects with an error carrying an HTTP `status`: 401 for a missing or wrong
   * signature, 400 for a body or header that is not usable. Pure: it publishes nothing.
   */
  receive(delivery: {
    headers: Record<string, string | string[] | undefined>;
    rawBody: Buffer | string;
    now: Date;
  }): Promise<WebhookOutcome>;
}

/**
 * Which webhook deliveries were already acted on, so a redelivery (GitHub's "Redeliver", a retry
 * after a timeout) is not published twice. Keyed by the delivery id GitHub sends.
 */
export interface DeliveryLog {
  /**
   * Records `id` as seen until `now + ttlMs` and says whether this call was the first to do so
   * within that window. Atomic: of concurrent calls with one id, exactly one gets true. An id whose
   * window has passed counts as new again. Rejects only when the log cannot be read or written.
   */
  firstSeen(id: string, ttlMs: number, now: Date): Promise<boolean>;

  /** Forgets `id` (its publish failed), so that its redelivery counts as first. Idempotent. */
  forget(id: string): Promise<void>;
}

/** A work queue one process drains to the end (the snapshot job's subscription). */
export interface QueueDrain {
  /**
   * Hands each message to `handle`, one at a time, acknowledging on "ack" and redelivering on
   * "nack", until the queue has stayed empty for `idleMs` with nothing in progress. A message may
   * be held up to `maxHoldMs` (its lease is extended meanwhile). Resolves with how many were handled.
   */
  drain(
    handle: (data: Buffer, messageId: string) => Promise<"ack" | "nack">,
    options: { idleMs: number; maxHoldMs: number },
  ): Promise<{ handled: number }>;
}

/** Requests that failed every delivery attempt and wait in dead-letter subscriptions. */
export interface DeadLetters {
  /**
   * How many messages wait in each dead-letter subscription, counted up to `atMost` (more reads as
   * `atMost`). Counting leaves every message where it was. Rejects when a subscription cannot be
   * read (missing, no permission, unreachable).
   */
  count(atMost: number): Promise<{ subscription: string; messages: number }[]>;
}

/** What needs a person: the kinds of alert a Notifier sends (see core/alerts.ts). */
export type AlertKind =
  | "backup-failed"
  | "verification-failed"
  | "repository-stale"
  | "drill-failed"
  | "dead-letter-backlog"
  | "capacity";

/**
 * One incident: a kind of problem and what it is about. `repo` is the repository ("owner/name"),
 * or for the kinds that concern no single repository the subject: the dead-letter subscription,
 * or the capacity rule (`capacity.budgetBytes`, `capacity.monthlyCostBudget`,
 * `capacity.growthBytesPerDay`).
 */
export interface Incident {
  kind: AlertKind;
  repo: string;
}

export interface Alert extends Incident {
  /** The snapshot concerned, when there is one. */
  snapshot?: string;
  /** Why, in one line a person can act on (already scrubbed of credentials). */
  why: string;
  /** ISO-8601 UTC of when the problem was seen (for a recovery: when it was seen cleared). */
  when: string;
  /** The incident cleared: this is its recovery message. */
  resolved?: true;
}

/**
 * Tells a person (email, chat webhook): one message when an incident opens, none while it stays
 * open (a retry, another instance, the next scheduled check) until the reminder window passes, and
 * one recovery message when it clears. Resolves once every channel was tried; a channel that fails
 * is reported by the adapter and never rejects the call (a failing channel never fails a backup).
 */
export interface Notifier {
  /**
   * What a run saw: every alert in `alerts` is an open incident. Each open incident `checked`
   * answers true for (the run looked at that kind and repository) that `alerts` no longer holds
   * has cleared: it is closed with a recovery message. `when` is the run's time.
   */
  report(alerts: readonly Alert[], checked: (incident: Incident) => boolean, when: string): Promise<void>;
}

/**
 * The memory of open incidents, per channel: key (channel, kind, repository) → when it was last
 * sent. Shared by every instance in the cloud, so claim and release are atomic: of concurrent
 * calls for one key exactly one wins.
 */
export interface AlertLedger {
  /**
   * Opens `key` with last send `at` when it is not open, or renews it when its last send is before
   * `resendBefore` (the reminder window); true when this call did (its caller sends). Atomic.
   */
  claim(key: string, at: string, resendBefore: string): Promise<boolean>;
  /** Closes `key`: the last send it held, or undefined when it was not open. Atomic. */
  release(key: string): Promise<string | undefined>;
  /** Sets `key` open with last send `at` (puts back an incident whose recovery could not be sent). */
  record(key: string, at: string): Promise<void>;
  /**
   * The open keys that start with `prefix`, each with its last send, in one read (not atomic with
   * later calls). A caller may skip a claim this answer says would be refused; claim stays the
   * arbiter of who sends.
   */
  openIncidents(prefix: string): Promise<Map<string, string>>;
}

/** A repository on GitHub as a restore sees it before writing into it. */
export interface TargetRepository {
  /** "owner/name" as GitHub spells it. */
  fullName: string;
  /** GitHub's repository id (a restore never writes into the repository a snapshot was taken of, by id). */
  id: number;
  visibility: "public" | "private" | "internal";
  /** The content found there, each kind named ("refs", "issues", "releases"); empty: nothing yet. */
  content: string[];
}

/**
 * The writes a restore to GitHub makes, through the App's installation on the target's owner.
 * Bodies are GitHub's REST request bodies (core builds them from a snapshot's lines; the adapter
 * sends them as they are). Every method rejects with SourceError for a refusal or a failure
 * (`permanent` for 4xx other than rate limits, which the adapter waits out), its message naming the
 * repository and the request, never a token.
 */
export interface GitHubWriter {
  /** The accounts (org and user logins) the App is installed on and the config allows. */
  installedAccounts(): Promise<string[]>;
  /** The permissions the App's installation on `owner` holds (GitHub's names: {administration: "write"}). */
  permissions(owner: string): Promise<Record<string, string>>;
  /** The repository as it is now, or undefined when there is none of that name. */
  inspect(fullName: string): Promise<TargetRepository | undefined>;
  /** PATCH /repos/{owner}/{repo}: description, homepage, features, merge options, default branch, visibility. */
  updateRepository(fullName: string, change: Record<string, unknown>): Promise<void>;
  /** PUT /repos/{owner}/{repo}/topics: the topics, replacing any there. */
  replaceTopics(fullName: string, topics: readonly string[]): Promise<void>;
  /** PUT /repos/{owner}/{repo}/branches/{branch}/protection. */
  protectBranch(fullName: string, branch: string, protection: Record<string, unknown>): Promise<void>;
  /** POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures (after protectBranch). */
  requireSignatures(fullName: string, branch: string): Promise<void>;
  /** POST /repos/{owner}/{repo}/rulesets. */
  createRuleset(fullName: string, ruleset: Record<string, unknown>): Promise<void>;
  /** POST /repos/{owner}/{repo}/autolinks. */
  createAutolink(fullName: string, autolink: Record<string, unknown>): Promise<void>;
  /** POST /repos/{owner}/{repo}/hooks (never with a secret: none was stored). */
  createHook(fullName: string, hook: Record<string, unknown>): Promise<void>;
  /** POST /repos/{owner}/{repo}/keys (a public key). */
  addDeployKey(fullName: string, key: Record<string, unknown>): Promise<void>;
}

/** A label as a restore writes it. */
export interface LabelSpec {
  name: string;
  /** Six hex digits, no "#". */
  color: string;
  description?: string | null;
}

/** An issue (or pull request) slot as the target holds it: what reconciling a resumed restore needs. */
export interface TargetIssue {
  number: number;
  body: string | null;
  state: "open" | "closed";
  /** It is a pull request (converted or created as one). */
  isPull: boolean;
}

/** One issue with all its comments, for GitHub's issue import endpoint (one request). */
export interface IssueImport {
  issue: {
    title: string;
    body: string;
    created_at?: string;
    closed_at?: string | null;
    updated_at?: string;
    closed: boolean;
    labels: string[];
    milestone?: number;
  };
  comments: { body: string; created_at?: string }[];
}

/** A release as a restore creates it: always as a draft first, so its assets go up before it is published. */
export interface ReleaseSpec {
  tag_name: string;
  target_commitish?: string;
  name: string | null;
  body: string;
  prerelease: boolean;
}

/** A release on the target, with its assets (a reconciling resume looks them up). */
export interface TargetRelease {
  id: number;
  tag_name: string;
  draft: boolean;
  body: string | null;
  assets: { id: number; name: string; state: string; size: number }[];
}

/**
 * The writes a restore to GitHub makes for a repository's items: labels, milestones, issues, pull
 * requests, comments, releases and their assets, through the App's installation on the target's
 * owner. `repo` is "owner/name" of the target. Every create is one content-creating request; the
 * adapter neither waits out nor retries a secondary rate limit: it rejects with
 * WriteRateLimitError (core/restore-github/errors.ts), and nothing was created, so core paces and
 * tries again. Other failures reject with SourceError (`permanent` for a 4xx), naming the
 * repository and the request, never a token. Lookups (label, milestone, issue, comments, releases)
 * resolve undefined or [] for what is not there and are not content creation.
 */
export interface GitHubItemWriter {
  label(repo: string, name: string): Promise<LabelSpec | undefined>;
  createLabel(repo: string, label: LabelSpec): Promise<void>;
  updateLabel(repo: string, name: string, label: LabelSpec): Promise<void>;
  milestone(repo: string, number: number): Promise<{ number: number; title: string } | undefined>;
  /** Creates a milestone; GitHub numbers it next. Resolves with its number. */
  createMilestone(
    repo: string,
    milestone: {
      title: string;
      description?: string | null;
      state: "open" | "closed";
      due_on?: string | null;
    },
  ): Promise<number>;
  deleteMilestone(repo: string, number: number): Promise<void>;
  issue(repo: string, number: number): Promise<TargetIssue | undefined>;
  /**
   * Imports one issue with its comments in one request and waits until GitHub has made it.
   * Resolves with its number, or { refused } (the reason) when the endpoint does not accept the
   * App's token or this repository; nothing was created then.
   */
  importIssue(repo: string, item: IssueImport): Promise<{ number: number } | { refused: string }>;
  /** Creates an open issue; GitHub numbers it next. Resolves with its number. */
  createIssue(
    repo: string,
    issue: { title: string; body: string; labels?: string[]; milestone?: number },
  ): Promise<number>;
  /** Replaces an issue's body (a pull request that stayed an issue says why in its header). */
  editIssueBody(repo: string, number: number, body: string): Promise<void>;
  /** Closes an issue or pull request; `reason` is GitHub's state_reason for an issue. */
  closeIssue(repo: string, number: number, reason?: "completed" | "not_planned"): Promise<void>;
  lockIssue(repo: string, number: number, reason?: string): Promise<void>;
  /** Whether `login` may be assigned issues of `repo` (GitHub's check: a user with access there). */
  canAssign(repo: string, login: string): Promise<boolean>;
  /** Adds `logins` to the assignees of issue `number` (adding one already there changes nothing). */
  addAssignees(repo: string, number: number, logins: readonly string[]): Promise<void>;
  /** The issue's comments, oldest first (id and body). */
  comments(repo: string, number: number): Promise<{ id: number; body: string }[]>;
  createComment(repo: string, number: number, body: string): Promise<number>;
  /**
   * Turns open issue `number` into a pull request from `head` into `base` (branches of the target).
   * Resolves { refused } with GitHub's reason when it will not (no commits between them, a branch
   * missing); the issue stays an issue then.
   */
  convertToPull(
    repo: string,
    number: number,
    pull: { head: string; base: string; draft?: boolean },
  ): Promise<{ ok: true } | { refused: string }>;
  /**
   * Creates branch `name` at commit `sha` (POST git/refs). "exists": the branch is already there
   * (a resumed restore); "missing": the target has no such commit. Never moves a branch.
   */
  createBranch(repo: string, name: string, sha: string): Promise<"created" | "exists" | "missing">;
  /** Every release of the target, drafts included, with their assets. */
  releases(repo: string): Promise<TargetRelease[]>;
  /** Creates a draft release; resolves with its id. */
  createRelease(repo: string, release: ReleaseSpec): Promise<number>;
  publishRelease(repo: string, releaseId: number): Promise<void>;
  /** Uploads an asset, streaming `body` (exactly `asset.size` bytes); resolves with its id. */
  uploadAsset(
    repo: string,
    releaseId: number,
    asset: { name: string; label?: string | null; contentType: string; size: number },
    body: Readable,
  ): Promise<number>;
  deleteAsset(repo: string, assetId: number): Promise<void>;
}

/** One step of a restore to GitHub as its journal holds it. */
export interface JournalEntry {
  /** The step: "issue:17", "comment:700001", "label:bug"… */
  key: string;
  /** "intent": about to write (it may or may not have happened); "done": written, with `result`. */
  state: "intent" | "done";
  /** What the step made on the target (new number, id), plain JSON; on "done" only. */
  result?: Record<string, unknown>;
}

/**
 * A restore's journal, kept in the index: before each write the step's intent, after it the result,
 * so a restore stopped anywhere continues where it stopped and never creates an item twice (a step
 * left at "intent" is looked up on the target before it is done again).
 */
export interface RestoreJournal {
  /** Every entry of the restore `restoreId`, in no particular order ([] for a new one). */
  entries(restoreId: string): Promise<JournalEntry[]>;
  /** Records the intent of `key`. Idempotent; never turns a "done" entry back into an intent. */
  intend(restoreId: string, key: string): Promise<void>;
  /** Records `key` as done with `result`, replacing its intent (or a previous result). */
  complete(restoreId: string, key: string, result: Record<string, unknown>): Promise<void>;
}

/** What a restore drill checked (core/drill.ts), in the order it checks them. */
export type DrillCheck =
  | "restore"
  | "refs"
  | "fsck"
  | "manifest"
  | "wiki"
  | "lfs"
  | "metadata"
  | "attachments"
  /** Every LFS pointer the restored refs reach has its object restored, or recorded unavailable. */
  | "lfs-pointers";

/** One drill of one repository as the index keeps it (core/drill.ts writes it). */
export interface DrillRecord {
  /** The repository as its snapshots are filed (the lineage key). */
  repo: string;
  snapshotId: string;
  /** When the drill ended (ISO-8601 UTC). */
  at: string;
  verdict: "passed" | "failed";
  /** The restore's own time, what the RTO is measured by (0 when the restore failed). */
  seconds: number;
  withinRto: boolean;
  refs: number;
  /** Archive bytes the restore read. */
  bytes: number;
  /** What differed, fit for a person (never a secret); absent on a pass. */
  detail?: string;
  /** The checks that ran, passed or not: a failed restore runs none after "restore". */
  checks: DrillCheck[];
}

/**
 * Restore drill results, kept in the index beside the snapshots. Prune never touches them;
 * forgetting a repository (core/keys/forget.ts) removes its records.
 */
/**
 * Each repository's storage-class replay (core/expected-classes.ts) as prune or the status page
 * left it, so a process just started resumes it instead of replaying years of history. The text
 * is opaque here; a lost or damaged one costs a replay, never a wrong class.
 */
export interface ClassCheckpoints {
  /** Keeps each entry's text under its key (a lineage key), replacing the one before. */
  saveClassCheckpoints(entries: ReadonlyMap<string, string>): Promise<void>;
  /** The texts kept for those of `keys` that have one. */
  classCheckpoints(keys: readonly string[]): Promise<Map<string, string>>;
  /** Removes `key`'s text, if any. Idempotent. */
  forgetClassCheckpoint(key: string): Promise<void>;
}

export interface DrillRecords {
  /** Keeps `record`. The same record again (repo, snapshot and time) replaces it: idempotent. */
  recordDrill(record: DrillRecord): Promise<void>;
  /** The newest record of each repository that has one (by `at`), in no particular order. */
  lastDrills(): Promise<DrillRecord[]>;
  /** Every record with `at` at or after `since` (ISO-8601), oldest first. */
  drillsSince(since: string): Promise<DrillRecord[]>;
  /** Removes every record of `repo`; resolves with how many there were. Idempotent. */
  forgetDrills(repo: string): Promise<number>;
}
