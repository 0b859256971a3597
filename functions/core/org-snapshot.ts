// Org snapshot use case: an organization's own metadata (settings, members, teams, rulesets,
// Projects v2) into an archive filed under "<org>/@org" (ids.ts), beside its repositories' archives
// and with the same format, keys, retention and verification. No git data, no chain: each one is
// full, and small (a few requests per team).
import { randomBytes } from "node:crypto";
import { writeArchive } from "./archive/writer.js";
import type { Deps } from "./deps.js";
import { BackupError, DeadlineError } from "./errors.js";
import { attachCleanupError } from "./first-error.js";
import { newSnapshotId, orgRepoName } from "./ids.js";
import { holdLease, leaseHolder } from "./lease.js";
import type { OrgMetadataSource, OrgMetadataSummary } from "./metadata/org-source.js";
import type { Snapshot } from "./model.js";
import { archiveKey } from "./object-keys.js";
import type { SnapshotOutcome } from "./snapshot.js";

export interface OrgSnapshotOptions {
  actor: string;
  /** Aborting stops the snapshot and commits nothing. */
  signal?: AbortSignal;
  leaseMs?: number;
}

export async function snapshotOrg(
  deps: Deps,
  org: string,
  source: OrgMetadataSource,
  options: OrgSnapshotOptions,
): Promise<SnapshotOutcome> {
  const repo = orgRepoName(org);
  const started = deps.clock.now();
  const id = newSnapshotId(started);
  const lease = await holdLease(deps.index, repo, leaseHolder(id), {
    ...(options.leaseMs ? { ttlMs: options.leaseMs } : {}),
    ...(options.signal ? { outer: options.signal } : {}),
  });
  try {
    const snapshot = await writeOrgSnapshot(
      deps,
      { org, repo, id, takenAt: started },
      source,
      lease.signal,
      () => lease.confirm(),
    );
    await deps.audit.record({
      action: "snapshot.created",
      repo,
      snapshotId: id,
      actor: options.actor,
      outcome: "success",
      details: { bytes: snapshot.size, org, items: snapshot.metadata?.items ?? {} },
    });
    await lease.release();
    return {
      repo,
      outcome: "created",
      snapshot,
      seconds: (deps.clock.now().getTime() - started.getTime()) / 1000,
    };
  } catch (err) {
    await deps.audit
      .record({
        action: "snapshot.failed",
        repo,
        actor: options.actor,
        outcome: "failure",
        details: { error: (err as Error).message, org },
      })
      .catch((auditErr: unknown) => attachCleanupError(err, "recording the failure", auditErr));
    await lease.release().catch((releaseErr: unknown) => attachCleanupError(err, "releaseLease", releaseErr));
    throw err;
  }
}

async function writeOrgSnapshot(
  deps: Deps,
  at: { org: string; repo: string; id: string; takenAt: Date },
  source: OrgMetadataSource,
  signal: AbortSignal,
  confirmLease: () => Promise<void>,
): Promise<Snapshot> {
  const { org, repo, id, takenAt } = at;
  const dataKey = randomBytes(32);
  try {
    const wrapped = await deps.keys.wrap(dataKey);
    const objectKey = archiveKey(repo, takenAt, id);
    const collection = source.collectOrg(org, { signal });
    const archive = writeArchive({
      header: {
        aead: "AES256_GCM_HKDF_1MB",
        keyRef: wrapped.keyRef,
        wrappedKey: wrapped.wrapped.toString("base64"),
        snapshotId: id,
        repo,
        createdAt: takenAt.toISOString(),
      },
      dataKey,
      manifest: {
        format: 1,
        snapshotId: id,
        repo,
        takenAt: takenAt.toISOString(),
        kind: "full",
        refs: {},
        prerequisites: [],
      },
      files: collection.files,
      completeManifest: async () => ({ metadata: { kinds: (await collection.summary).kinds } }),
    });
    const abort = () => {
      const reason: unknown = signal.reason;
      archive.stream.destroy(
        reason instanceof BackupError
          ? reason
          : new DeadlineError(
              `snapshot of ${org} stopped: ${String(reason ?? "aborted")}; nothing was committed`,
            ),
      );
    };
    if (signal.aborted) abort();
    signal.addEventListener("abort", abort, { once: true });
    const [, stored] = await Promise.all([
      archive.manifest,
      deps.store.put(objectKey, archive.stream, {
        metadata: { repo, snapshotId: id, keyRef: wrapped.keyRef },
      }),
    ]).finally(() => signal.removeEventListener("abort", abort));
    const snapshot: Snapshot = {
      id,
      repo,
      takenAt: takenAt.toISOString(),
      kind: "full",
      refs: {},
      objectKey,
      size: stored.size,
      sha256: await archive.sha256,
      bundleBytes: 0,
      keyRef: wrapped.keyRef,
      confirmedAt: takenAt.toISOString(),
      metadata: metadataRecord(await collection.summary),
    };
    await confirmLease();
    await deps.index.commit(snapshot);
    return snapshot;
  } finally {
    dataKey.fill(0);
  }
}

/** The index's short form: items per kind, the unavailable kinds with why, the requests made. */
function metadataRecord(summary: OrgMetadataSummary): NonNullable<Snapshot["metadata"]> {
  const items: Record<string, number> = {};
  const unavailable: Record<string, string> = {};
  for (const [kind, outcome] of Object.entries(summary.kinds)) {
    if (outcome.state === "full" || outcome.state === "delta") items[kind] = outcome.items;
    if (outcome.state === "unavailable")
      unavailable[kind] = outcome.status ? `${outcome.status}: ${outcome.reason}` : outcome.reason;
  }
  return {
    items,
    unavailable,
    requests: summary.requests.total,
    notModified: summary.requests.notModified,
  };
}
