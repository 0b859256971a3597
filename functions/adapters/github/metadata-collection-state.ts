// What one collection (metadata-collection.ts) knows as it walks the kinds: the checkpoint it builds
// on and the one it writes, each kind's outcome, and its archive files, each read to its end before
// the next is asked for. The kinds' readers (metadata-collection-*.ts) share it.
import type { Readable } from "node:stream";
import type { ArchiveFile } from "../../core/archive/writer.js";
import type { MetadataCheckpoint } from "../../core/metadata/checkpoint.js";
import { jsonlStream } from "../../core/metadata/jsonl.js";
import type { RepoKind } from "../../core/metadata/kinds.js";
import type { KindOutcome } from "../../core/metadata/outcome.js";
import { kindPath } from "../../core/metadata/paths.js";
import type { StoredAsset } from "../../core/metadata/source.js";
import type { Line } from "./metadata-delta.js";
import type { DiscussionParent } from "./metadata-discussions.js";
import { Unavailable, type Answer, type RepoApi } from "./metadata-http.js";
import { DEFERRED_REASON } from "./metadata-budget.js";
import { AttachmentFinder } from "./metadata-attachments.js";
import type { UserContentHosts } from "./attachment-urls.js";

/** The kinds whose lines have a `body` that may link attachments. */
const BODY_KINDS: ReadonlySet<RepoKind> = new Set<RepoKind>([
  "issues",
  "issue-comments",
  "pulls",
  "pull-reviews",
  "pull-review-comments",
  "releases",
  "discussions",
  "discussion-comments",
]);

export interface AttachmentOptions {
  hosts: UserContentHosts;
  /** An attachment larger than this is recorded "too-large", not stored. */
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * Open to the kinds' readers (metadata-collection-*.ts), which fill it as they go; the source
 * (metadata-source.ts) uses only Collection's files(), summary() and failure.
 */
export class CollectionState {
  /** The caller's checkpoint once it is known to be this repository's (same GitHub id). */
  checkpoint?: MetadataCheckpoint;
  readonly outcomes = {} as Record<RepoKind, KindOutcome>;
  readonly next: MetadataCheckpoint = { v: 1, repoId: 0, kinds: {}, assets: {} };
  readonly assets: StoredAsset[] = [];
  /** Numbers of the issues and pull requests in this collection's files: the per-parent kinds' parents. */
  readonly parents: { issues?: number[]; pulls?: number[] } = {};
  /** Discussions in this collection's file, with their comment counts: discussion-comments' parents. */
  discussionParents: DiscussionParent[] = [];
  /** From the repository's answer; undefined when it answered 304 (nothing about it changed). */
  hasDiscussions?: boolean;
  /** The repository's latest push or update, from its answer: how recently it changed (pacing). */
  repoChangedAt?: string;
  /** Attachment links in the bodies written, new to the chain; set once the checkpoint is known. */
  finder?: AttachmentFinder;
  current?: { path: string; ended: boolean };
  /** An incremental collection's conditional checks, started together once the checkpoint is known. */
  checks = new Map<RepoKind, Promise<boolean>>();
  probes = new Map<RepoKind, Promise<Answer | undefined>>();
  /** The first error inside a file's stream: the collection's failure, though the reader saw it first. */
  failure?: unknown;
  unopened?: Readable;

  constructor(
    readonly api: RepoApi,
    readonly repoPath: string,
    readonly given: MetadataCheckpoint | undefined,
    readonly window: number,
    readonly attachments: AttachmentOptions,
    /** Issues whose timelines one GraphQL query reads. */
    readonly timelineBatch?: number,
  ) {}

  what(kind: RepoKind): string {
    return `reading ${kind} of ${this.api.repo}`;
  }

  newFinder(): AttachmentFinder {
    const known = new Set(this.checkpoint?.attachments?.urls ?? []);
    return new AttachmentFinder(this.api.repo, this.attachments.hosts, known);
  }

  /** A kind's file: its lines as JSONL, counted into `outcome`, their bodies scanned for attachments. */
  kindFile(kind: RepoKind, lines: Iterable<Line> | AsyncIterable<Line>, outcome?: { items: number }) {
    const scan = BODY_KINDS.has(kind);
    return this.file(kindPath(kind), () =>
      jsonlStream(lines, (line) => {
        if (outcome) outcome.items++;
        if (scan) this.finder?.scan((line as Line).body);
      }),
    );
  }

  /** Leaves `kind` (and the kind hung under it) for a later collection, which starts where this one would have. */
  defer(kind: RepoKind, entry: MetadataCheckpoint["kinds"][RepoKind]): void {
    this.outcomes[kind] = { state: "deferred", reason: DEFERRED_REASON };
    if (entry) this.next.kinds[kind] = entry;
    else delete this.next.kinds[kind];
    (this.next.deferred ??= []).push(kind);
  }

  unavailable(kind: RepoKind, err: Unavailable): undefined {
    this.outcomes[kind] = { state: "unavailable", reason: err.reason, status: err.status };
    return undefined;
  }

  /** An archive file whose stream is watched: the next file may only be asked for once it ended. */
  file(path: string, open: () => Readable): ArchiveFile {
    this.assertPreviousRead();
    const current = { path, ended: false };
    this.current = current;
    return {
      path,
      open: () =>
        open()
          .once("end", () => (current.ended = true))
          .once("error", (err) => (this.failure ??= err)),
    };
  }

  assertPreviousRead(): void {
    if (this.current && !this.current.ended)
      throw new Error(`read ${this.current.path} to its end before asking for the next metadata file`);
  }
}
