// MetadataSource over GitHub's REST API: a repository's settings, issues, pull requests, releases and
// assets, and access, read with the installation's client (see metadata-octokit.ts).
import type { ArchiveFile } from "../../core/archive/writer.js";
import { SourceError, UserInputError } from "../../core/errors.js";
import { metadataCheckpointSchema, type MetadataCheckpoint } from "../../core/metadata/checkpoint.js";
import { METADATA_KINDS } from "../../core/metadata/kinds.js";
import type {
  CollectOptions,
  MetadataCollection,
  MetadataSource,
  MetadataSummary,
} from "../../core/metadata/source.js";
import { userContentHostsFor, type UserContentHosts } from "./attachment-urls.js";
import { Collection, type AttachmentOptions } from "./metadata-collection.js";
import { probeDiscussions } from "./metadata-discussions.js";
import { RepoApi, Unavailable, type OctokitLike } from "./metadata-http.js";

export interface GitHubMetadataSourceOptions {
  /** The API client for a repository: installationClients(app) for a GitHub App. */
  octokitFor(repo: string): Promise<OctokitLike>;
  /** Issues or pull requests whose timeline or reviews are read ahead at once. Default 4. */
  readAhead?: number;
  /** Issues whose timelines one GraphQL query reads. Default TIMELINE_BATCH (100). */
  timelineBatch?: number;
  /** Where attachments live; default GitHub's hosts for the client's API root (userContentHostsFor). */
  userContent?: UserContentHosts;
  /** The largest attachment stored; a larger one is recorded "too-large". Default 100 MiB, above GitHub's own limits. */
  attachmentMaxBytes?: number;
}

export const DEFAULT_ATTACHMENT_MAX_BYTES = 100 * 1024 * 1024;

export class GitHubMetadataSource implements MetadataSource {
  constructor(private readonly options: GitHubMetadataSourceOptions) {}

  collect(repo: string, options: CollectOptions = {}): MetadataCollection {
    const repoPath = apiPath(repo);
    // A checkpoint that does not parse (an older layout) is no checkpoint: a full read is always right.
    const parsed = options.checkpoint && metadataCheckpointSchema.safeParse(options.checkpoint);
    const checkpoint = parsed && parsed.success ? parsed.data : undefined;
    let settle!: { resolve(s: MetadataSummary): void; reject(e: unknown): void };
    const summary = new Promise<MetadataSummary>((resolve, reject) => (settle = { resolve, reject }));
    summary.catch(() => undefined); // the caller may never await it after a failure
    let started = false;
    const open = async () => new RepoApi(await this.options.octokitFor(repo), repo, options.signal);
    const readAhead = this.options.readAhead ?? 4;
    const timelineBatch = this.options.timelineBatch;
    const attachments = (api: RepoApi): AttachmentOptions => ({
      hosts: this.options.userContent ?? userContentHostsFor(api.apiBase),
      maxBytes: this.options.attachmentMaxBytes ?? DEFAULT_ATTACHMENT_MAX_BYTES,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const files: AsyncIterable<ArchiveFile> = {
      [Symbol.asyncIterator]() {
        if (started) throw new Error(`the metadata collection of ${repo} is iterated once`);
        started = true;
        return (async function* () {
          let failure: unknown;
          let collection: Collection | undefined;
          try {
            const api = await open();
            collection = new Collection(
              api,
              repoPath,
              checkpoint,
              readAhead,
              attachments(api),
              timelineBatch,
            );
            yield* collection.files();
            settle.resolve(collection.summary());
          } catch (err) {
            failure = err;
            throw err;
          } finally {
            settle.reject(
              failure ??
                collection?.failure ??
                new SourceError(`the metadata collection of ${repo} was abandoned before its end`),
            ); // no effect once resolved
          }
        })();
      },
    };
    return { files, summary };
  }

  async changedSince(
    repo: string,
    checkpoint: MetadataCheckpoint,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    apiPath(repo);
    const api = new RepoApi(await this.options.octokitFor(repo), repo, options.signal);
    // Kinds left for the rate budget are due once it allows even a long-unchanged kind's read;
    // until then a change of theirs is no reason for a snapshot that would defer them again.
    const deferred = new Set(checkpoint.deferred ?? []);
    if (deferred.size > 0) {
      await api.readRateLimit(`checking the rate budget for ${repo}`);
      if (api.budget.allows("core", 0, undefined)) return true;
    }
    // Conditional requests first (a 304 is free); GraphQL kinds, which cost a point, last.
    for (const kind of METADATA_KINDS) {
      if (deferred.has(kind)) continue;
      const entry = checkpoint.kinds[kind];
      if (entry && !(await api.unchanged(entry.requests, `checking ${kind} of ${repo}`))) return true;
    }
    const discussions = checkpoint.kinds.discussions;
    if (discussions?.fingerprint) {
      try {
        const probe = await probeDiscussions(api, `checking discussions of ${repo}`);
        if (probe.fingerprint !== discussions.fingerprint) return true;
      } catch (err) {
        if (err instanceof Unavailable) return true;
        throw err;
      }
    }
    return false;
  }
}

/** "/repos/{owner}/{name}" for "owner/name"; anything else is a UserInputError. */
function apiPath(repo: string): string {
  const [owner, name, ...rest] = repo.split("/");
  if (!owner || !name || rest.length > 0)
    throw new UserInputError(`expected "owner/name", got ${JSON.stringify(repo)}`);
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}
