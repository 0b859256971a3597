// One collection of one repository's metadata: walks the kinds in order, decides for each whether
// it is unchanged, unavailable, read whole or read as a delta, and yields its archive files lazily.
import type { Readable } from "node:stream";
import type { ArchiveFile } from "../../core/archive/writer.js";
import { RepositoryNotFoundError, SourceError } from "../../core/errors.js";
import type { MetadataCheckpoint } from "../../core/metadata/checkpoint.js";
import { jsonlStream } from "../../core/metadata/jsonl.js";
import { KIND_SHAPE, METADATA_KINDS, PARENT_KIND, type RepoKind } from "../../core/metadata/kinds.js";
import { sortedUnique } from "../../core/metadata/order.js";
import type { KindOutcome } from "../../core/metadata/outcome.js";
import { kindPath } from "../../core/metadata/paths.js";
import type { MetadataSummary, StoredAsset } from "../../core/metadata/source.js";
import { verifiedAsset } from "./metadata-assets.js";
import {
  DELTA_LISTS,
  newestUpdate,
  readAll,
  readSince,
  type DeltaKind,
  type Line,
  type PerParentKind,
} from "./metadata-delta.js";
import {
  probeDiscussions,
  readDiscussionComments,
  readDiscussions,
  type DiscussionParent,
} from "./metadata-discussions.js";
import { Recorder, Unavailable, type Answer, type RepoApi } from "./metadata-http.js";
import { DEFERRED_REASON } from "./metadata-budget.js";
import { AttachmentFinder, probeAttachments, reopenAttachment, shortHash } from "./metadata-attachments.js";
import { AttachmentOpener } from "./attachment-download.js";
import type { UserContentHosts } from "./attachment-urls.js";
import { repositoryLine, type ReleaseLine } from "./metadata-lines-repo.js";
import { parseList, parseOne } from "./metadata-parse.js";
import { readReviews } from "./metadata-reviews.js";
import { readTimelines } from "./metadata-timelines.js";
import { readWhole } from "./metadata-whole.js";
import { prefetch } from "./metadata-prefetch.js";

async function* concat<T>(first: readonly T[], rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield* first;
  yield* rest;
}

async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function* tap<T>(items: AsyncIterable<T>, each: (item: T) => void): AsyncGenerator<T> {
  for await (const item of items) {
    each(item);
    yield item;
  }
}

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

/** Attachment URLs (and contents) a checkpoint remembers: about 40 bytes each in the index record. */
const CHECKPOINT_ATTACHMENTS = 2500;

export interface AttachmentOptions {
  hosts: UserContentHosts;
  /** An attachment larger than this is recorded "too-large", not stored. */
  maxBytes: number;
  signal?: AbortSignal;
}

export class Collection {
  /** The caller's checkpoint once it is known to be this repository's (same GitHub id). */
  private checkpoint?: MetadataCheckpoint;
  private readonly outcomes = {} as Record<RepoKind, KindOutcome>;
  private readonly next: MetadataCheckpoint = { v: 1, repoId: 0, kinds: {}, assets: {} };
  private readonly assets: StoredAsset[] = [];
  /** Numbers of the issues and pull requests in this collection's files: the per-parent kinds' parents. */
  private readonly parents: { issues?: number[]; pulls?: number[] } = {};
  /** Discussions in this collection's file, with their comment counts: discussion-comments' parents. */
  private discussionParents: DiscussionParent[] = [];
  /** From the repository's answer; undefined when it answered 304 (nothing about it changed). */
  private hasDiscussions?: boolean;
  /** The repository's latest push or update, from its answer: how recently it changed (pacing). */
  private repoChangedAt?: string;
  /** Attachment links in the bodies written, new to the chain; set once the checkpoint is known. */
  private finder?: AttachmentFinder;
  private current?: { path: string; ended: boolean };
  /** An incremental collection's conditional checks, started together once the checkpoint is known. */
  private checks = new Map<RepoKind, Promise<boolean>>();
  private probes = new Map<RepoKind, Promise<Answer | undefined>>();
  /** The first error inside a file's stream: the collection's failure, though the reader saw it first. */
  failure?: unknown;
  private unopened?: Readable;

  constructor(
    private readonly api: RepoApi,
    private readonly repoPath: string,
    private readonly given: MetadataCheckpoint | undefined,
    private readonly window: number,
    private readonly attachments: AttachmentOptions,
    /** Issues whose timelines one GraphQL query reads. */
    private readonly timelineBatch?: number,
  ) {}

  /** Every archive file, in order; the summary is complete once this ends. */
  async *files(): AsyncGenerator<ArchiveFile> {
    try {
      yield* this.repository();
      for (const kind of METADATA_KINDS) {
        const shape = KIND_SHAPE[kind];
        if (kind === "repository") continue;
        if (kind === "releases") yield* this.releases();
        else if (kind === "discussions") yield* this.discussions();
        else if (kind === "discussion-comments") yield* this.discussionComments();
        else if (kind === "attachments") yield* this.attachmentFiles();
        else if (shape === "whole") yield* this.whole(kind);
        else if (shape === "delta") yield* this.delta(kind as DeltaKind);
        else yield* this.perParent(kind as PerParentKind);
      }
      this.assertPreviousRead();
    } finally {
      this.unopened?.destroy();
    }
  }

  summary(): MetadataSummary {
    const kinds = Object.fromEntries(
      METADATA_KINDS.map((k) => [k, this.outcomes[k]]),
    ) as MetadataSummary["kinds"];
    return { kinds, assets: this.assets, requests: { ...this.api.counts }, checkpoint: this.next };
  }

  private what(kind: RepoKind): string {
    return `reading ${kind} of ${this.api.repo}`;
  }

  /** The repository itself: unreadable means nothing else is, so it fails the collection. */
  private async *repository(): AsyncGenerator<ArchiveFile> {
    const entry = this.given?.kinds.repository;
    const etag = entry?.requests[0]?.path === this.repoPath ? entry.requests[0].etag : undefined;
    let answer;
    try {
      answer = await this.api.get(this.repoPath, {
        ...(etag ? { etag } : {}),
        what: this.what("repository"),
      });
    } catch (err) {
      throw err instanceof Unavailable ? this.refused(err) : err;
    }
    if (!answer) {
      // 304 to the checkpoint's ETag: the same repository, unchanged.
      this.checkpoint = this.given;
      this.next.repoId = this.given!.repoId;
      this.next.kinds.repository = entry!;
      this.outcomes.repository = { state: "unchanged" };
      this.finder = this.newFinder();
      this.startChecks();
      return;
    }
    const line = parseOne(answer, repositoryLine, this.what("repository"));
    this.next.repoId = line.id;
    // A checkpoint of another repository that had this name is ignored: everything is read whole.
    if (this.given?.repoId === line.id) this.checkpoint = this.given;
    if (answer.etag) this.next.kinds.repository = { requests: [{ path: this.repoPath, etag: answer.etag }] };
    this.outcomes.repository = { state: "full", items: 1 };
    this.hasDiscussions = line.has_discussions !== false;
    this.repoChangedAt = [line.pushed_at, line.updated_at]
      .filter((at): at is string => typeof at === "string")
      .sort()
      .at(-1);
    this.finder = this.newFinder();
    this.startChecks();
    yield this.file(kindPath("repository"), () => jsonlStream([line]));
  }

  /**
   * Sends the checkpoint's conditional requests a few at a time (metadata-prefetch.ts): each whole
   * kind's check and each delta kind's newest-first probe, awaited later in the kinds' order.
   * Nothing for a full collection, which has no ETags to ask with.
   */
  private startChecks(): void {
    const checkpoint = this.checkpoint;
    if (!checkpoint) return;
    const whole = METADATA_KINDS.filter((kind) => {
      const requests = checkpoint.kinds[kind]?.requests;
      return kind !== "repository" && KIND_SHAPE[kind] === "whole" && requests && requests.length > 0;
    });
    this.checks = prefetch(whole, (kind) =>
      this.api.unchanged(checkpoint.kinds[kind]!.requests, this.what(kind)),
    );
    const deltas = (Object.keys(DELTA_LISTS) as DeltaKind[]).filter((kind) => checkpoint.kinds[kind]);
    this.probes = prefetch(deltas, (kind) => this.probe(kind));
  }

  /** A delta kind's newest-first page, asked with the checkpoint's ETag (undefined: 304). */
  private probe(kind: DeltaKind): Promise<Answer | undefined> {
    const spec = DELTA_LISTS[kind](this.repoPath);
    const entry = this.checkpoint?.kinds[kind];
    const etag = entry?.requests[0]?.path === spec.newest ? entry.requests[0].etag : undefined;
    return this.api.get(spec.newest, { ...(etag ? { etag } : {}), what: this.what(kind) });
  }

  private refused(err: Unavailable): Error {
    if (err.status === 404)
      return new RepositoryNotFoundError(
        `${this.api.repo}: no such repository on GitHub, or the App cannot see it`,
      );
    return new SourceError(`${this.api.repo}: the GitHub App cannot read the repository (${err.reason})`, {
      permanent: true,
    });
  }

  /** A whole kind's lines, sorted; undefined when it is unchanged or unavailable (outcome set). */
  private async wholeLines(kind: RepoKind): Promise<Line[] | undefined> {
    const entry = this.checkpoint?.kinds[kind];
    const unchanged =
      entry &&
      entry.requests.length > 0 &&
      (await (this.checks.get(kind) ?? this.api.unchanged(entry.requests, this.what(kind))));
    if (unchanged) {
      this.outcomes[kind] = { state: "unchanged" };
      this.next.kinds[kind] = entry;
      return undefined;
    }
    // A changed kind (its ETag moved) changed now; one read whole, when the repository last did.
    const changedAt = entry ? new Date().toISOString() : this.repoChangedAt;
    const cost = Math.max(1, entry?.requests.length ?? 1);
    if (!this.api.budget.allows("core", cost, changedAt)) return void this.defer(kind, entry);
    const record = new Recorder();
    let lines: Line[];
    try {
      lines = await readWhole(this.api, kind, this.repoPath, record);
    } catch (err) {
      if (err instanceof Unavailable) return this.unavailable(kind, err);
      throw err;
    }
    if (record.complete && record.requests.length > 0) this.next.kinds[kind] = { requests: record.requests };
    const sorted = sortedUnique(kind, lines);
    this.outcomes[kind] = { state: "full", items: sorted.length };
    return sorted;
  }

  private async *whole(kind: RepoKind): AsyncGenerator<ArchiveFile> {
    const lines = await this.wholeLines(kind);
    if (lines) yield this.kindFile(kind, lines);
  }

  /** Releases, then each asset not yet in the chain, streamed from GitHub into the archive. */
  private async *releases(): AsyncGenerator<ArchiveFile> {
    const known = this.checkpoint?.assets ?? {};
    const releases = (await this.wholeLines("releases")) as ReleaseLine[] | undefined;
    const kept = this.outcomes.releases.state;
    if (kept === "unchanged" || kept === "deferred") Object.assign(this.next.assets, known);
    if (!releases) return;
    yield this.kindFile("releases", releases);
    for (const release of releases) {
      for (const asset of release.assets) {
        if (!asset.path) continue;
        const id = String(asset.id);
        if (known[id]) {
          this.next.assets[id] = known[id];
          continue;
        }
        const what = `release asset ${asset.id} of ${release.tag_name} in ${this.api.repo}`;
        this.assertPreviousRead();
        const body = await this.api.openAsset(`${this.repoPath}/releases/assets/${asset.id}`, what);
        if (!body) continue; // deleted since the release was listed
        this.unopened = body;
        const path = asset.path;
        yield this.file(path, () => {
          this.unopened = undefined;
          return verifiedAsset(body, asset, what, (sha256, size) => {
            this.next.assets[id] = sha256;
            this.assets.push({
              releaseId: release.id,
              assetId: asset.id,
              name: asset.name,
              path,
              size,
              sha256,
            });
          });
        });
      }
    }
  }

  private async *delta(kind: DeltaKind): AsyncGenerator<ArchiveFile> {
    const spec = DELTA_LISTS[kind](this.repoPath);
    const entry = this.checkpoint?.kinds[kind];
    const what = this.what(kind);
    let probe;
    try {
      probe = await (this.probes.get(kind) ?? this.probe(kind));
    } catch (err) {
      if (err instanceof Unavailable) return void this.unavailable(kind, err);
      throw err;
    }
    if (!probe) {
      this.outcomes[kind] = { state: "unchanged" };
      this.next.kinds[kind] = entry!;
      return;
    }
    // The mark is taken before reading: whatever changes while we read is at or after it.
    const newest = parseList(probe, spec.line, what) as Line[];
    const mark = newestUpdate(newest) ?? entry?.mark;
    if (!this.fitsBudget(kind, probe, newest, entry?.mark)) return void this.defer(kind, entry);
    if (probe.etag)
      this.next.kinds[kind] = {
        requests: [{ path: spec.newest, etag: probe.etag }],
        ...(mark ? { mark } : {}),
      };
    const parentOf = kind === "issues" || kind === "pulls" ? kind : undefined;
    if (entry?.mark) {
      const lines = sortedUnique(kind, await readSince(this.api, probe, spec, entry.mark, what));
      if (parentOf) this.parents[parentOf] = lines.map((line) => Number(line.number));
      this.outcomes[kind] = { state: "delta", items: lines.length };
      yield this.kindFile(kind, lines);
      return;
    }
    const outcome = { state: "full" as const, items: 0 };
    this.outcomes[kind] = outcome;
    const numbers: number[] = [];
    if (parentOf) this.parents[parentOf] = numbers;
    const lines = tap(readAll(this.api, spec, what), (line) => parentOf && numbers.push(Number(line.number)));
    yield this.kindFile(kind, lines, outcome);
  }

  private async *perParent(kind: PerParentKind): AsyncGenerator<ArchiveFile> {
    const parent = this.outcomes[PARENT_KIND[kind] as "issues" | "pulls"];
    if (parent.state === "unavailable" || parent.state === "unchanged" || parent.state === "deferred") {
      this.outcomes[kind] = { ...parent };
      return;
    }
    this.assertPreviousRead(); // the parents' numbers are complete once their file was read
    const numbers = this.parents[PARENT_KIND[kind] as "issues" | "pulls"] ?? [];
    // Timelines and reviews through GraphQL, many issues or pull requests a query.
    const options = { batch: this.timelineBatch, window: this.window };
    const lines =
      kind === "issue-events"
        ? readTimelines(this.api, this.repoPath, numbers, options)
        : readReviews(this.api, this.repoPath, numbers, options);
    let first: IteratorResult<Line>;
    try {
      // The first lines are read before the file is opened: an unavailable kind has no file.
      first = await lines.next();
    } catch (err) {
      if (err instanceof Unavailable) return void this.unavailable(kind, err);
      throw err;
    }
    const outcome = { state: parent.state, items: 0 };
    this.outcomes[kind] = outcome;
    const rest: AsyncIterable<Line> = { [Symbol.asyncIterator]: () => lines };
    yield this.kindFile(kind, concat(first.done ? [] : [first.value], rest), outcome);
  }

  /**
   * Discussions (GraphQL): none when the repository has them off, unchanged (same fingerprint), a
   * delta from the checkpoint's mark, or every one. A repository that answered 304 and had no
   * discussions to check keeps the chain's state of them.
   */
  private async *discussions(): AsyncGenerator<ArchiveFile> {
    const kind = "discussions";
    const entry = this.checkpoint?.kinds.discussions;
    if (this.hasDiscussions === false) {
      // Off on most repositories: an empty file, not asked for and not reported as a gap.
      this.outcomes[kind] = { state: "full", items: 0 };
      yield this.kindFile(kind, []);
      return;
    }
    if (this.hasDiscussions === undefined && !entry) {
      this.outcomes[kind] = { state: "unchanged" };
      return;
    }
    const what = this.what(kind);
    let probe;
    try {
      probe = await probeDiscussions(this.api, what);
    } catch (err) {
      if (err instanceof Unavailable) return void this.unavailable(kind, err);
      throw err;
    }
    if (entry?.fingerprint === probe.fingerprint) {
      this.outcomes[kind] = { state: "unchanged" };
      this.next.kinds[kind] = entry;
      return;
    }
    const mark = probe.mark ?? entry?.mark;
    this.next.kinds[kind] = { requests: [], fingerprint: probe.fingerprint, ...(mark ? { mark } : {}) };
    const parents = this.discussionParents;
    const note = (line: { number: number; comments: number }) =>
      parents.push({ number: line.number, comments: line.comments });
    if (entry?.mark) {
      const lines = sortedUnique(kind, await toArray(readDiscussions(this.api, what, entry.mark)));
      lines.forEach(note);
      this.outcomes[kind] = { state: "delta", items: lines.length };
      yield this.kindFile(kind, lines);
      return;
    }
    const outcome = { state: "full" as const, items: 0 };
    this.outcomes[kind] = outcome;
    yield this.kindFile(kind, tap(readDiscussions(this.api, what), note), outcome);
  }

  /** Every comment and reply of the discussions in this collection's discussions file. */
  private async *discussionComments(): AsyncGenerator<ArchiveFile> {
    const kind = "discussion-comments";
    const parent = this.outcomes.discussions;
    if (parent.state === "unavailable" || parent.state === "unchanged" || parent.state === "deferred") {
      this.outcomes[kind] = { ...parent };
      return;
    }
    this.assertPreviousRead(); // the parents are complete once their file was read
    const parents = [...this.discussionParents].sort((a, b) => a.number - b.number);
    const outcome = { state: parent.state, items: 0 };
    this.outcomes[kind] = outcome;
    yield this.kindFile(kind, readDiscussionComments(this.api, parents, this.what(kind)), outcome);
  }

  private newFinder(): AttachmentFinder {
    const known = new Set(this.checkpoint?.attachments?.urls ?? []);
    return new AttachmentFinder(this.api.repo, this.attachments.hosts, known);
  }

  /**
   * The attachments linked from the bodies this collection wrote and new to the chain: their index
   * (attachments.jsonl), then each content not yet in the chain, under its SHA-256.
   */
  private async *attachmentFiles(): AsyncGenerator<ArchiveFile> {
    const kind = "attachments";
    this.assertPreviousRead(); // every body is scanned once its file was read
    const known = this.checkpoint?.attachments ?? { urls: [], blobs: [] };
    const next = { urls: [...known.urls], blobs: [...known.blobs] };
    this.next.attachments = next;
    const links = this.finder!.links();
    // Bounded, newest kept: an index record must stay small. A URL dropped here is read again
    // only if a body linking it changes (an incremental collection reads changed bodies only).
    const trim = () => {
      next.urls.splice(0, Math.max(0, next.urls.length - CHECKPOINT_ATTACHMENTS));
      next.blobs.splice(0, Math.max(0, next.blobs.length - CHECKPOINT_ATTACHMENTS));
    };
    if (this.checkpoint && links.length === 0) {
      this.outcomes[kind] = { state: "unchanged" };
      return;
    }
    const opener = new AttachmentOpener(this.api, this.attachments.hosts, this.attachments.signal);
    const lines = await probeAttachments(opener, links, this.attachments.maxBytes, this.window);
    next.urls.push(...links.map((link) => shortHash(link.url)));
    trim();
    const sorted = sortedUnique(kind, lines);
    this.outcomes[kind] = { state: this.checkpoint ? "delta" : "full", items: sorted.length };
    yield this.kindFile(kind, sorted);
    const stored = new Set(known.blobs);
    for (const [i, line] of lines.entries()) {
      if (line.state !== "stored" || stored.has(shortHash(line.sha256, true))) continue;
      stored.add(shortHash(line.sha256, true));
      this.assertPreviousRead();
      const body = await reopenAttachment(opener, links[i]!, line);
      this.unopened = body;
      yield this.file(line.path, () => {
        this.unopened = undefined;
        return body.once("end", () => {
          next.blobs.push(shortHash(line.sha256, true));
          trim();
        });
      });
    }
  }

  /** A kind's file: its lines as JSONL, counted into `outcome`, their bodies scanned for attachments. */
  private kindFile(kind: RepoKind, lines: Iterable<Line> | AsyncIterable<Line>, outcome?: { items: number }) {
    const scan = BODY_KINDS.has(kind);
    return this.file(kindPath(kind), () =>
      jsonlStream(lines, (line) => {
        if (outcome) outcome.items++;
        if (scan) this.finder?.scan((line as Line).body);
      }),
    );
  }

  /**
   * Whether reading a delta kind, and the kind hung under it, fits the rate budget. The cost is
   * estimated from the newest-first probe: a full read takes the list's pages (its Link header
   * names the last) and a GraphQL query per 100 items (issues' timelines, pulls' reviews); a
   * delta, the changed items of the first page. The kind's newest update
   * is how recently it changed (see RateBudget).
   */
  private fitsBudget(kind: DeltaKind, probe: Answer, newest: Line[], since: string | undefined): boolean {
    const changedAt = newestUpdate(newest);
    const changed = since ? newest.filter((line) => String(line.updated_at) >= since).length : undefined;
    const pages = changed === undefined ? (probe.lastPage ?? 1) : 1;
    const items = changed ?? pages * 100;
    const core = pages;
    const graphql = kind === "issues" || kind === "pulls" ? Math.ceil(items / 100) : 0;
    const budget = this.api.budget;
    return (
      budget.allows("core", core, changedAt) && (!graphql || budget.allows("graphql", graphql, changedAt))
    );
  }

  /** Leaves `kind` (and the kind hung under it) for a later collection, which starts where this one would have. */
  private defer(kind: RepoKind, entry: MetadataCheckpoint["kinds"][RepoKind]): void {
    this.outcomes[kind] = { state: "deferred", reason: DEFERRED_REASON };
    if (entry) this.next.kinds[kind] = entry;
    else delete this.next.kinds[kind];
    (this.next.deferred ??= []).push(kind);
  }

  private unavailable(kind: RepoKind, err: Unavailable): undefined {
    this.outcomes[kind] = { state: "unavailable", reason: err.reason, status: err.status };
    return undefined;
  }

  /** An archive file whose stream is watched: the next file may only be asked for once it ended. */
  private file(path: string, open: () => Readable): ArchiveFile {
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

  private assertPreviousRead(): void {
    if (this.current && !this.current.ended)
      throw new Error(`read ${this.current.path} to its end before asking for the next metadata file`);
  }
}
