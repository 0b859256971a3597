// The checks a restore to GitHub makes before it creates or writes anything: the target is inside
// the configured installations, the App holds the permissions the restore needs, the target is new
// (or empty, when the request allows that), it is not the repository the snapshot was taken of
// (unless the request says so), and what the snapshot could not hold is named up front.
import { ConflictError, UserInputError } from "../errors.js";
import type { Snapshot } from "../model.js";
import type { GitHubWriter, RepositoryRegistry, TargetRepository } from "../ports.js";

/** A refusal of a restore to GitHub: nothing was created. Permanent (a person must change the request). */
export class RestoreRefusedError extends UserInputError {}

export interface PreflightRequest {
  /** "owner/name" to restore into. */
  target: string;
  /** Restore into an existing repository, which must then be empty (no refs, issues or releases). */
  intoExistingEmpty?: boolean;
  /** The target is the repository the snapshot was taken of, and the request means it. */
  intoSource?: boolean;
  /** Issues, pull requests, comments and releases are restored too (default true). */
  items?: boolean;
  /** Webhooks are restored (needs repository_hooks: write). */
  hooks?: boolean;
}

export interface Preflight {
  /** The target as it is now; undefined: it does not exist and the restore creates it. */
  existing?: TargetRepository;
  /** What the snapshot could not hold, for the report (a kind unavailable, LFS objects missing). */
  warnings: string[];
}

const LEVEL: Record<string, number> = { read: 1, write: 2, admin: 3 };

/** The App permissions (GitHub's names) a restore with these options needs, each at write. */
export function requiredPermissions(request: Pick<PreflightRequest, "items" | "hooks">): string[] {
  const needed = ["administration", "contents"];
  if (request.items !== false) needed.push("issues", "pull_requests");
  if (request.hooks) needed.push("repository_hooks");
  return needed;
}

/**
 * Checks a restore of `snapshot` into `request.target`. Rejects with RestoreRefusedError naming what
 * is wrong (ConflictError for a target that has content), and resolves with the warnings to report.
 * Reads only: nothing on GitHub changes.
 */
export async function preflight(
  deps: { github: GitHubWriter; index: Pick<RepositoryRegistry, "repositoriesNamed"> },
  snapshot: Snapshot,
  request: PreflightRequest,
): Promise<Preflight> {
  const [owner, name, ...extra] = request.target.split("/");
  if (!owner || !name || extra.length)
    throw new RestoreRefusedError(
      `restore target must be "owner/name", got ${JSON.stringify(request.target)}`,
    );
  const target = request.target.toLowerCase();
  const namesSource = target === snapshot.repo.toLowerCase();
  if (namesSource && !request.intoSource)
    throw new RestoreRefusedError(
      `refusing to restore into ${request.target}: it is the repository the snapshot was taken of ` +
        `(name a new repository, or say explicitly that the source is the target)`,
    );
  const accounts = await deps.github.installedAccounts();
  if (!accounts.some((a) => a.toLowerCase() === owner.toLowerCase()))
    throw new RestoreRefusedError(
      `refusing to restore into ${request.target}: ${owner} is outside the configured GitHub App ` +
        `installations (${accounts.length ? accounts.join(", ") : "none"})`,
    );
  const held = await deps.github.permissions(owner);
  const missing = requiredPermissions(request).filter((p) => (LEVEL[held[p] ?? ""] ?? 0) < LEVEL.write!);
  if (missing.length)
    throw new RestoreRefusedError(
      `refusing to restore into ${request.target}: the GitHub App's installation on ${owner} lacks ` +
        `${missing.map((p) => `${p}: write`).join(", ")} (it has ${describe(held)})`,
    );
  const existing = await deps.github.inspect(request.target);
  if (existing) {
    // The source under a new name (renamed or transferred since) is still the source.
    const sourceIds = new Set(
      (await deps.index.repositoriesNamed(snapshot.lineage ?? snapshot.repo)).map((r) => r.id),
    );
    if (sourceIds.has(existing.id) && !request.intoSource)
      throw new RestoreRefusedError(
        `refusing to restore into ${existing.fullName}: it is the repository the snapshot of ` +
          `${snapshot.repo} was taken of, under another name (say explicitly that the source is the target)`,
      );
    if (!request.intoExistingEmpty)
      throw new ConflictError(
        `refusing to restore into ${existing.fullName}: it exists (restore creates a new repository; ` +
          `allow an existing empty repository explicitly to use it)`,
      );
    if (existing.content.length)
      throw new ConflictError(
        `refusing to restore into ${existing.fullName}: it is not empty (it has ${existing.content.join(", ")}); ` +
          `a restore never writes over content`,
      );
  }
  return { ...(existing ? { existing } : {}), warnings: snapshotGaps(snapshot) };
}

/** What the snapshot lacks, worded for the report. */
export function snapshotGaps(snapshot: Snapshot): string[] {
  const warnings: string[] = [];
  if (!snapshot.metadata) warnings.push("the snapshot holds no GitHub metadata: only code is restored");
  for (const [kind, why] of Object.entries(snapshot.metadata?.unavailable ?? {}))
    warnings.push(`${kind} unavailable when the snapshot was taken (${why}): not restored`);
  for (const [kind, why] of Object.entries(snapshot.metadata?.deferred ?? {}))
    warnings.push(
      `${kind} deferred when the snapshot was taken (${why}): restored as its chain last held it`,
    );
  if (snapshot.lfs?.unavailableCount)
    warnings.push(
      `${snapshot.lfs.unavailableCount} LFS object(s) were unavailable when the snapshot was taken`,
    );
  return warnings;
}

function describe(permissions: Record<string, string>): string {
  const entries = Object.entries(permissions);
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(", ") : "no permissions";
}
