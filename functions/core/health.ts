// Backup health per repository: freshness against the RPO, the latest verification verdict,
// and stored bytes. Used by `infinity-backup status` and the backupHealth function.
import type { Snapshot } from "./model.js";

export const RPO_SECONDS = 15 * 60;
/** A repo is stale when nothing confirmed it for a day plus the RPO (a missed daily sweep). */
export const STALE_SECONDS = 24 * 3600 + RPO_SECONDS;

export interface RepoHealth {
  repo: string;
  snapshots: number;
  storedBytes: number;
  latest?: Snapshot;
  /** Seconds since the source was last seen backed up (taken or confirmed unchanged). */
  freshnessSeconds?: number;
  verified: boolean;
  problems: string[];
}

export function repoHealth(repo: string, snapshots: Snapshot[], now: Date): RepoHealth {
  const latest = snapshots[0];
  const problems: string[] = [];
  const freshnessSeconds = latest ? (now.getTime() - Date.parse(latest.confirmedAt)) / 1000 : undefined;
  if (!latest) problems.push("no snapshot");
  else {
    if (freshnessSeconds! > STALE_SECONDS)
      problems.push(`stale: last backed up ${Math.round(freshnessSeconds! / 3600)} h ago`);
    if (!latest.verification) problems.push("latest snapshot not verified");
    else if (latest.verification.verdict !== "ok")
      problems.push(`latest verification failed: ${latest.verification.detail}`);
  }
  return {
    repo,
    snapshots: snapshots.length,
    storedBytes: snapshots.reduce((sum, s) => sum + s.size, 0),
    ...(latest ? { latest } : {}),
    ...(freshnessSeconds === undefined ? {} : { freshnessSeconds }),
    verified: latest?.verification?.verdict === "ok",
    problems,
  };
}
