// One collection of one repository's metadata: walks the kinds in order, decides for each whether
// it is unchanged, unavailable, read whole or read as a delta, and yields its archive files lazily.
// The repository itself and the checks it starts are here; the kinds are read by
// metadata-collection-lists.ts, -discussions.ts and -attachments.ts, over the state in -state.ts.
import type { ArchiveFile } from "../../core/archive/writer.js";
import { RepositoryNotFoundError, SourceError } from "../../core/errors.js";
import { jsonlStream } from "../../core/metadata/jsonl.js";
import { KIND_SHAPE, METADATA_KINDS } from "../../core/metadata/kinds.js";
import { kindPath } from "../../core/metadata/paths.js";
import type { MetadataSummary } from "../../core/metadata/source.js";
import { DELTA_LISTS, type DeltaKind, type PerParentKind } from "./metadata-delta.js";
import { Unavailable } from "./metadata-http.js";
import { repositoryLine } from "./metadata-lines-repo.js";
import { parseOne } from "./metadata-parse.js";
import { prefetch } from "./metadata-prefetch.js";
import { CollectionState } from "./metadata-collection-state.js";
import { attachmentFiles } from "./metadata-collection-attachments.js";
import { discussionComments, discussions } from "./metadata-collection-discussions.js";
import { delta, perParent, probeDelta, releases, whole } from "./metadata-collection-lists.js";

export class Collection extends CollectionState {
  /** Every archive file, in order; the summary is complete once this ends. */
  async *files(): AsyncGenerator<ArchiveFile> {
    try {
      yield* this.repository();
      for (const kind of METADATA_KINDS) {
        const shape = KIND_SHAPE[kind];
        if (kind === "repository") continue;
        if (kind === "releases") yield* releases(this);
        else if (kind === "discussions") yield* discussions(this);
        else if (kind === "discussion-comments") yield* discussionComments(this);
        else if (kind === "attachments") yield* attachmentFiles(this);
        else if (shape === "whole") yield* whole(this, kind);
        else if (shape === "delta") yield* delta(this, kind as DeltaKind);
        else yield* perParent(this, kind as PerParentKind);
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
    this.probes = prefetch(deltas, (kind) => probeDelta(this, kind));
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
}
