// Where a snapshot reads LFS objects from: the git host's LFS server (the batch API, for http(s)
// remotes) or, for a repository on local disk, git-lfs's own store inside it.
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { GitRemote } from "../ports.js";
import { LfsBatchSource, type RetryPolicy } from "./batch.js";
import { LfsLocalStore } from "./local-store.js";
import type { LfsPointer } from "./pointer.js";

/** Why an object could not be had: the server's status where it gave one, and its words. */
export interface LfsUnavailable {
  status?: number;
  reason: string;
}

/** One object, ready to read, or why not. */
export type LfsLocated =
  | { pointer: LfsPointer; open(): Promise<Readable | LfsUnavailable> }
  | { pointer: LfsPointer; unavailable: LfsUnavailable };

export interface LfsObjectSource {
  /** Human words for where objects come from, without credentials (for errors). */
  readonly where: string;
  /**
   * Looks up these objects (at most `batchSize` at once). Rejects with SourceError when the source
   * cannot be asked at all (unreachable after retries, credentials refused). `open` resolves with
   * the bytes, unchecked (the caller checks them against the oid), or with why the object is not
   * there after all (a download that answers 404).
   */
  locate(pointers: LfsPointer[], signal?: AbortSignal): Promise<LfsLocated[]>;
  readonly batchSize: number;
  /** True for a store on this machine: reading it costs less than copying from older archives (reuse.ts). */
  readonly local?: boolean;
}

/** The LFS source beside a git remote, chosen as the transport is: by the remote's URL. */
export function lfsSourceFor(remote: GitRemote, retry?: RetryPolicy): LfsObjectSource {
  if (/^https?:\/\//i.test(remote.url)) return new LfsBatchSource(remote, retry);
  return new LfsLocalStore(remote.url.startsWith("file://") ? fileURLToPath(remote.url) : remote.url);
}
