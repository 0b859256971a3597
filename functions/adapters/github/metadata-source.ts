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
import { Collection } from "./metadata-collection.js";
import type { AttachmentOptions } from "./metadata-collection-state.js";
import { probeDiscussions } from "./metadata-discussions.js";
import { RepoApi, Unavailable, type Answer, type OctokitLike } from "./metadata-http.js";
import { anyChanged } from "./metadata-prefetch.js";
import { OrgCollection } from "./metadata-org.js";
import type {
  OrgMetadataCollection,
  OrgMetadataSource,
  OrgMetadataSummary,
} from "../../core/metadata/org-source.js";
import { orgRepoName } from "../../core/ids.js";

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

/** How long the answers of a check that found a change wait for the collection that follows it. */
const CARRY_MS = 60_000;

export class GitHubMetadataSource implements MetadataSource, OrgMetadataSource {
  /**
   * By repository: the 200 answers of the last changedSince that found a change, for the collection
   * snapshotRepo starts right after it, which would otherwise ask the same pages again.
   */
  private readonly checked = new Map<string, { answers: Map<string, Answer>; until: number }>();

  constructor(private readonly options: GitHubMetadataSourceOptions) {}

  /** The answers a recent check left for `repo`, once. */
  private carried(repo: string): Map<string, Answer> {
    const entry = this.checked.get(repo);
    this.checked.delete(repo);
    return entry && entry.until > Date.now() ? entry.answers : new Map();
  }

  collect(repo: string, options: CollectOptions = {}): MetadataCollection {
    const repoPath = apiPath(repo);
    // A checkpoint that does not parse (an older layout) is no checkpoint: a full read is always right.
    const parsed = options.checkpoint && metadataCheckpointSchema.safeParse(options.checkpoint);
    const checkpoint = parsed && parsed.success ? parsed.data : undefined;
    let settle!: { resolve(s: MetadataSummary): void; reject(e: unknown): void };
    const summary = new Promise<MetadataSummary>((resolve, reject) => (settle = { resolve, reject }));
    summary.catch(() => undefined); // the caller may never await it after a failure
    let started = false;
    const open = async () => {
      const api = new RepoApi(await this.options.octokitFor(repo), repo, options.signal);
      api.carry(this.carried(repo));
      return api;
    };
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

  /** An organization's own metadata (metadata-org.ts), read with the installation client of its owner. */
  collectOrg(org: string, options: { signal?: AbortSignal } = {}): OrgMetadataCollection {
    if (!/^[A-Za-z0-9-]+$/.test(org))
      throw new UserInputError(`expected an organization login, got ${JSON.stringify(org)}`);
    let settle!: { resolve(s: OrgMetadataSummary): void; reject(e: unknown): void };
    const summary = new Promise<OrgMetadataSummary>((resolve, reject) => (settle = { resolve, reject }));
    summary.catch(() => undefined); // the caller may never await it after a failure
    const octokitFor = this.options.octokitFor;
    const files = (async function* () {
      let failure: unknown;
      try {
        const api = new RepoApi(await octokitFor(orgRepoName(org)), `organization ${org}`, options.signal);
        const collection = new OrgCollection(api, org);
        yield* collection.files();
        settle.resolve(collection.summary());
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        settle.reject(failure ?? new SourceError(`the collection of organization ${org} was abandoned`));
      }
    })();
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
    // Conditional requests first (a 304 is free), a few at a time; GraphQL kinds, which cost a point, last.
    const conditional = METADATA_KINDS.flatMap((kind) => {
      const entry = checkpoint.kinds[kind];
      return entry && entry.requests.length > 0 && !deferred.has(kind) ? [[kind, entry] as const] : [];
    });
    if (await anyChanged(api, conditional, (kind) => `checking ${kind} of ${repo}`)) {
      for (const [name, entry] of this.checked) if (entry.until <= Date.now()) this.checked.delete(name);
      this.checked.set(repo, { answers: api.takeSeen(), until: Date.now() + CARRY_MS });
      return true;
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
