// The port: where an organization's own metadata comes from (its settings, members, teams with
// their members and repository permissions, rulesets, Projects v2), as archive files. The org
// snapshot use case (core/org-snapshot.ts) writes them into an archive of "<org>/@org".
import type { ArchiveFile } from "../archive/writer.js";
import type { OrgKind } from "./kinds.js";
import type { KindOutcome } from "./outcome.js";

export interface OrgMetadataSummary {
  /** Every org kind, in ORG_KINDS order: full (with its count) or unavailable (with GitHub's reason). */
  kinds: Record<OrgKind, KindOutcome>;
  /** API requests made, and how many of them were answered 304. */
  requests: { total: number; notModified: number };
}

export interface OrgMetadataCollection {
  /**
   * The archive files (kindPath of each available org kind), in ORG_KINDS order, each read to its
   * end before the next is asked for. Rejects with SourceError (RepositoryNotFoundError when GitHub
   * has no such organization or the App is not installed on it, MetadataFormatError, RateLimitedError,
   * 5xx after retries) or DeadlineError; then nothing of the collection may be committed.
   */
  files: AsyncIterable<ArchiveFile>;
  /** Resolves once `files` has been read to its end; rejects with the same error if it failed. */
  summary: Promise<OrgMetadataSummary>;
}

export interface OrgMetadataSource {
  /**
   * Starts collecting organization `org` (its login). Nothing is requested until `files` is
   * iterated. Always whole: an org snapshot stands alone. A kind the App may not read (403, a
   * GraphQL FORBIDDEN) is an "unavailable" outcome, never a failure.
   */
  collectOrg(org: string, options?: { signal?: AbortSignal }): OrgMetadataCollection;
}
