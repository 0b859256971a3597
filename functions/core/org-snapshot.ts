// An organization's own snapshot: its metadata (settings, members, teams, rulesets, Projects v2)
// filed under "<org>/@org" (ids.ts). Only the source is chosen here; the snapshot path is the
// repositories' own (snapshot.ts: no git data, the same archive, key, lease, index and audit), and
// the backup around it too (backup.ts: the attempt noted, the snapshot verified as policy says).
// Each one is full: the org source keeps no checkpoint, so each is read whole and stored anew.
import {
  backedUp,
  type BackupDeps,
  type BackupOptions,
  type BackupPolicy,
  type BackupResult,
} from "./backup.js";
import type { Deps } from "./deps.js";
import { describeError, NotFoundError, UserInputError } from "./errors.js";
import { organizationsOf, orgRepoName } from "./ids.js";
import type { OrgMetadataSource } from "./metadata/org-source.js";
import type { SnapshotMetadataSource } from "./metadata/source.js";
import { snapshotRepo, type SnapshotOutcome } from "./snapshot.js";

export interface OrgSnapshotOptions {
  actor: string;
  /** Aborting stops the snapshot and commits nothing. */
  signal?: AbortSignal;
  leaseMs?: number;
}

/** Snapshots organization `org`'s own metadata into "<org>/@org". Throws what the snapshot throws. */
export function snapshotOrg(
  deps: Deps,
  org: string,
  source: OrgMetadataSource,
  options: OrgSnapshotOptions,
): Promise<SnapshotOutcome> {
  return snapshotRepo(deps, orgRepoName(org), undefined, {
    actor: options.actor,
    metadata: orgAsMetadata(org, source),
    incremental: false,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
  });
}

/** The org source as the snapshot path reads metadata: no checkpoint, always whole. */
function orgAsMetadata(org: string, source: OrgMetadataSource): SnapshotMetadataSource {
  return {
    collect: (_repo, options) => source.collectOrg(org, options?.signal ? { signal: options.signal } : {}),
  };
}

/**
 * Backs up organization `org`'s own metadata, as backupRepository does a repository: the attempt
 * noted for health, the snapshot verified (inline, or a verify request) as the policy says. The
 * cloud's "<org>/@org" snapshot requests and the CLI's `backup` both come here.
 */
export function backupOrg(
  deps: BackupDeps,
  org: string,
  policy: BackupPolicy,
  options: BackupOptions,
): Promise<BackupResult> {
  const source = deps.orgMetadata;
  if (!source) {
    throw new NotFoundError(
      `${orgRepoName(org)}: this deployment reads no organization metadata (no GitHub source)`,
    );
  }
  return backedUp(deps, orgRepoName(org), policy, options, () =>
    snapshotOrg(deps, org, source, {
      actor: options.actor,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
}

export interface OrgBackupsOptions extends BackupOptions {
  /** These organizations, now (`backup --org O`); unknown ones are an error before any work. */
  only?: string[];
  /**
   * When the org clock (schedule.yaml orgSnapshot) last fired: without `only`, an organization is
   * due when its latest snapshot was confirmed before this. Absent: every organization is due.
   */
  dueSince?: Date;
  onOrgDone?: (result: BackupResult) => void;
}

export interface OrgBackups {
  results: BackupResult[];
  /** Organizations not due yet, with when their latest snapshot was taken. */
  notDue: { org: string; latestAt: string }[];
}

/**
 * The CLI's org snapshots: one per organization the sources' repositories belong to, when due (or
 * asked for), one after another; one failing never stops the others.
 */
export async function backupOrgs(
  deps: BackupDeps,
  policy: BackupPolicy,
  options: OrgBackupsOptions,
): Promise<OrgBackups> {
  const known = organizationsOf(await deps.sources.listRepos());
  const unknown = (options.only ?? []).filter((org) => !known.includes(org));
  if (unknown.length) {
    throw new UserInputError(
      `not an organization of the configured sources: ${unknown.join(", ")} (configured: ${known.join(", ") || "none"})`,
    );
  }
  const outcome: OrgBackups = { results: [], notDue: [] };
  for (const org of options.only?.length ? options.only : known) {
    const latest = options.only?.length ? undefined : await deps.index.latest(orgRepoName(org));
    if (latest && options.dueSince && Date.parse(latest.confirmedAt) >= options.dueSince.getTime()) {
      outcome.notDue.push({ org, latestAt: latest.confirmedAt });
      continue;
    }
    let result: BackupResult;
    try {
      result = await backupOrg(deps, org, policy, options);
    } catch (err) {
      result = { repo: orgRepoName(org), error: describeError(err) };
    }
    outcome.results.push(result);
    options.onOrgDone?.(result);
  }
  return outcome;
}
