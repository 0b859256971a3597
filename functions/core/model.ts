// The domain's nouns: what a snapshot is, what a verification says, what a repository is.

/** Full ref name ("refs/heads/main") -> object id (hex). HEAD is kept apart, in `head`. */
export type RefMap = Record<string, string>;

/** "layered": git objects live in shared layers (`layers`), the archive holds the rest. */
export type SnapshotKind = "full" | "incremental" | "layered";

/** "layer": a layered snapshot's new layer checked alone, its links against its layers' oids (core/layers/verify.ts). */
export type VerifyLevel = "quick" | "deep" | "layer";

export interface Verification {
  verdict: "ok" | "failed";
  level: VerifyLevel;
  /** ISO-8601 UTC. */
  at: string;
  /**
   * For a failure: what failed, e.g. "segment 3 failed authentication". For a pass with fsck
   * warnings (legacy quirks such as zero-padded file modes): "ok with warnings: <fsck ids>".
   */
  detail?: string;
}

/** One committed snapshot of one repository, as the SnapshotIndex holds it. */
export interface Snapshot {
  /** Time-sortable id, unique within the repo: "20261127T104455123Z-1a2b3c4d". */
  id: string;
  /** "owner/name" when the snapshot was taken (the archive's header says the same). */
  repo: string;
  /**
   * The lineage key the record is filed under, when it differs from `repo`: the repository was
   * renamed or transferred since its first snapshot (see core/lineage/). Absent: filed under `repo`.
   */
  lineage?: string;
  /** ISO-8601 UTC of the moment the refs were listed. */
  takenAt: string;
  kind: SnapshotKind;
  /** For an incremental snapshot: the snapshot whose objects it builds on. */
  parentId?: string;
  refs: RefMap;
  /** What HEAD pointed to ("refs/heads/main"), if the source said; may name no ref of `refs` (unborn). */
  head?: string;
  /**
   * Annotated tags among `refs`: the object each one peels to, through tags of tags (any type: a
   * tag may point at a tree or a blob). With `nonCommits`, what an incremental snapshot built on
   * this one names as its bundle's prerequisites (see prerequisites.ts). Absent on snapshots taken
   * before tags were peeled, or from a source that could not say which objects are commits.
   */
  peeled?: RefMap;
  /** Refs that lead to no commit (a tag of a tree or a blob, a ref straight at one); set with `peeled`, omitted when empty. */
  nonCommits?: string[];
  /** Key of the archive in the BlobStore. */
  objectKey: string;
  /** Size of the archive object in bytes (ciphertext, header included). */
  size: number;
  /** SHA-256 (hex) of the whole archive object. */
  sha256: string;
  /** Bytes of git data (the bundle) inside the archive. */
  bundleBytes: number;
  /** Which key wrapped the data key, e.g. a KMS key version name or "local:3f2a…". */
  keyRef: string;
  /** Last time the source was seen with exactly these refs (ISO-8601 UTC); starts at takenAt. */
  confirmedAt: string;
  /** The wiki's refs when the repository has a wiki (stored whole in every archive). */
  wikiRefs?: RefMap;
  wikiHead?: string;
  /**
   * GitHub metadata (meta/ in the archive), when the source has any: how many items of each kind
   * this archive holds and which kinds the repository could not provide, with why.
   */
  metadata?: MetadataRecord;
  /**
   * The metadata collection's checkpoint (JSON text, opaque to the index): what the next snapshot's
   * collection starts from. Omitted when too large to index; the next collection is then full.
   */
  metadataCheckpoint?: string;
  /**
   * Git LFS objects, when the snapshot's new blobs had LFS pointers: how many this archive holds,
   * and those the source could not give (oid -> why; at most LFS_UNAVAILABLE_LISTED listed).
   */
  lfs?: LfsRecord;
  verification?: Verification;
  /** Legal hold: never pruned while set. */
  hold?: boolean;
  /**
   * For a layered snapshot: the layers it was committed with (its own new one first, if any).
   * Readers resolve retired ones through `replacedBy` (core/layers/resolve.ts).
   */
  layers?: string[];
}

/**
 * A snapshot without its ref lists and checkpoint (what health, the status page and the storage
 * report read, for every snapshot at once): SnapshotIndex.listMany's answer. Get or list a
 * snapshot for the whole record.
 */
export type SnapshotSummary = Omit<
  Snapshot,
  "refs" | "peeled" | "nonCommits" | "wikiRefs" | "metadataCheckpoint"
>;

/** The fields a summary leaves out, for adapters that read only the others. */
export const SUMMARY_LEFT_OUT = ["refs", "peeled", "nonCommits", "wikiRefs", "metadataCheckpoint"] as const;

/** The fields a summary keeps, for stores that read named fields only (a Firestore field mask). */
export const SUMMARY_FIELDS = [
  "id",
  "repo",
  "lineage",
  "takenAt",
  "kind",
  "parentId",
  "head",
  "objectKey",
  "size",
  "sha256",
  "bundleBytes",
  "keyRef",
  "confirmedAt",
  "wikiHead",
  "metadata",
  "lfs",
  "verification",
  "hold",
  "layers",
] as const satisfies readonly (keyof SnapshotSummary)[];

// A field added to Snapshot must be named in one of the two lists above, or this fails to compile.
type Unlisted = Exclude<keyof Snapshot, (typeof SUMMARY_FIELDS)[number] | (typeof SUMMARY_LEFT_OUT)[number]>;
export const SUMMARY_LISTS_COMPLETE: [Unlisted] extends [never] ? true : Unlisted = true;

/** What a snapshot's metadata collection found, small enough for the index. */
export interface MetadataRecord {
  /** Items stored per kind (full or changed ones); a kind that was unchanged is absent. */
  items: Record<string, number>;
  /** Kinds the repository could not provide: kind -> reason (e.g. "403: Resource not accessible"). */
  unavailable: Record<string, string>;
  /** Kinds left for a later collection to stay within the rate budget: kind -> reason ("rate budget"). */
  deferred?: Record<string, string>;
  /** API requests the collection made, and how many were answered 304 (free of rate limit). */
  requests: number;
  notModified: number;
}

/** What a snapshot's LFS work found, small enough for the index (the manifest lists every oid). */
export interface LfsRecord {
  objects: number;
  bytes: number;
  /** Of `objects`, how many a full snapshot copied from the previous chain's archives instead of downloading. */
  reused?: number;
  /** How many objects were unavailable, and the first few of them: oid -> reason. */
  unavailableCount: number;
  unavailable: Record<string, string>;
}

/** How many unavailable LFS objects an index record names (the manifest names them all). */
export const LFS_UNAVAILABLE_LISTED = 20;

/** A repository to back up, as a SourceHost lists it. */
export interface SourceRepo {
  /** "owner/name": the key everything else is filed under. */
  name: string;
  /** Where to read it: file path, file://, http(s)://. Never contains a credential. */
  url: string;
  /** The wiki's git URL when the repository has one (GitHub: "<repo>.wiki.git"). */
  wikiUrl?: string;
  /** Approximate size when the host knows it (GitHub reports it), to route big repos to a job. */
  sizeBytes?: number;
  /** The host keeps metadata (issues, pull requests, releases…) for it: a GitHub repository. */
  hasMetadata?: boolean;
  /** The host's stable id (GitHub's numeric repository id); absent for configured sources. */
  id?: number;
  /** The GitHub App installation that reaches it. */
  installationId?: number;
  /** GitHub's archived flag (read-only on GitHub; still backed up). */
  archived?: boolean;
  /** GitHub's account type of the owner ("Organization", "User"); only an organization has an org snapshot. */
  ownerType?: string;
}

/** What the registry knows of a repository's life on its host. */
export type RepositoryState = "active" | "archived" | "deleted" | "detached";

/**
 * One repository of the registry, by its host's stable id: its current name, the names it had,
 * and whether it still exists. Its snapshots are filed under `key`, which never changes.
 */
export interface RepositoryRecord {
  /** The host's stable id (GitHub's numeric repository id). */
  id: number;
  /** The lineage key its snapshots are filed under: its name when first registered. */
  key: string;
  /** Its current "owner/name". */
  name: string;
  /** When the current name was seen (ISO-8601 UTC); older sightings do not change it. */
  nameSince: string;
  /** Names it had before, oldest first, each with when it stopped being its name and why. */
  formerNames: { name: string; until: string; how: "renamed" | "transferred" }[];
  state: RepositoryState;
  /** When the state was set (ISO-8601 UTC); older news does not change it. */
  stateAt: string;
  /** For "detached": why the App can no longer reach it ("removed from the installation"…). */
  stateReason?: string;
  /** The App installation that reached it last. */
  installationId?: number;
}

/**
 * One shared pack layer of a repository (docs/ARCHITECTURE.md, "Shared pack layers"): an
 * immutable archive in the .ibk format holding one pack of objects and the pack's sorted object
 * ids, filed under the repository's lineage key. Layered snapshots name the layers they need.
 */
export interface Layer {
  /** Time-sortable id, unique within the lineage (the same form as a snapshot id). */
  id: string;
  /** The lineage key the layer is filed under (a snapshot's `lineage ?? repo`). */
  lineage: string;
  /** Compaction level (0: one snapshot's new objects); "legacy": an old full or incremental archive folded in. */
  level: number | "legacy";
  /** Key of the layer archive in the BlobStore (`layers/<lineage>/<id>.ibk`; older: `repos/<lineage>/layers/<id>.ibk`). */
  objectKey: string;
  /** Size in bytes of the archive object (ciphertext, header included). */
  size: number;
  /** SHA-256 (hex) of the whole archive object. */
  sha256: string;
  /** Key of the layer's object ids, stored apart and encrypted the same way (`…/<id>.oids.ibk`). */
  oidsKey: string;
  oidsSize: number;
  oidsSha256: string;
  /** How many objects the pack holds (the oids list has as many entries). */
  objects: number;
  /** Bytes of the pack inside the archive. */
  packBytes: number;
  /** Which key wrapped the data key of both archives. */
  keyRef: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /**
   * live: readers may use it. retired: replaced by the layers in `replacedBy` (a merge); still
   * stored until the grace period after `stateAt` has passed. dead: no kept snapshot needs it.
   */
  state: "live" | "retired" | "dead";
  /** ISO-8601 UTC of the last state change (the grace period of a delete counts from it). */
  stateAt: string;
  /** For a retired layer: the layers that hold its objects now. */
  replacedBy?: string[];
  /** Set once the layer's archives are deleted from the store (retired or dead layers only). */
  objectDeleted?: true;
  verification?: Verification;
  /**
   * LFS objects (oids, sorted) that pointers of this layer's pack name and that the source could
   * not give when it was written (core/layers/lfs-unavailable.ts). A drill knows them from here
   * after the snapshot that recorded them is pruned; merges and folds carry them on.
   */
  lfsUnavailable?: string[];
}

/** A repository's layer bookkeeping: moved by every layer transaction (optimistic concurrency). */
export interface LayerState {
  lineage: string;
  /** 0 for a lineage with no layer transaction yet. */
  generation: number;
}
