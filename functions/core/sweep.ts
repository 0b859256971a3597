// The sweep: one snapshot request per repository the sources list (daily and RPO sweeps), one per
// organization they belong to for its own snapshot ("<org>/@org", the org sweep), or one verify
// request per repository's latest snapshot (the verification sweep).
import type { Deps } from "./deps.js";
import { organizationsOf, orgRepoName } from "./ids.js";
import { sweepVerifyLevel } from "./layers/deep-schedule.js";
import { observeListing } from "./lineage/inventory.js";
import type { SnapshotRequest, SweepRequest, VerifyRequest } from "./messages.js";
import type { Publisher, SourceHost } from "./ports.js";

export interface SweepOutcome {
  topic: "snapshot-requests" | "verify-requests";
  published: number;
}

export async function sweep(
  deps: Pick<Deps, "index" | "clock"> & { sources: SourceHost; publisher: Publisher },
  request: SweepRequest,
): Promise<SweepOutcome> {
  if (request.reason === "verify-sweep") {
    const repos = await deps.index.repos();
    const latest = (await Promise.all(repos.map((repo) => deps.index.latest(repo)))).filter(
      (s) => s !== undefined,
    );
    // Layered snapshots: a full restore once a week on the lineage's weekday, `layer` otherwise.
    const now = deps.clock.now();
    const requests: VerifyRequest[] = latest.map((s) => ({
      v: 1,
      repo: s.repo,
      snapshotId: s.id,
      level: sweepVerifyLevel(s, now),
    }));
    await deps.publisher.publish("verify-requests", requests);
    return { topic: "verify-requests", published: requests.length };
  }
  const now = deps.clock.now();
  const requestedAt = now.toISOString();
  const listed = await deps.sources.listRepos();
  if (request.reason === "org") {
    // One request per organization the listed repositories belong to: its own snapshot.
    const orgs = organizationsOf(listed);
    const requests: SnapshotRequest[] = orgs.map((org) => ({
      v: 1,
      repo: orgRepoName(org),
      reason: "schedule",
      requestedAt,
    }));
    await deps.publisher.publish("snapshot-requests", requests);
    return { topic: "snapshot-requests", published: requests.length };
  }
  // Renames and transfers the listing shows are registered before any snapshot is asked for, so
  // each snapshot lands on its repository's lineage (a failure here fails the sweep: it is retried).
  await observeListing(deps.index, listed, now);
  const requests: SnapshotRequest[] = listed.map((repo) => ({
    v: 1,
    repo: repo.name,
    reason: request.reason === "verify-sweep" || request.reason === "org" ? "schedule" : request.reason,
    requestedAt,
    url: repo.url,
    ...(repo.wikiUrl ? { wikiUrl: repo.wikiUrl } : {}),
    ...(repo.sizeBytes === undefined ? {} : { sizeBytes: repo.sizeBytes }),
    ...(repo.hasMetadata ? { metadata: true } : {}),
  }));
  await deps.publisher.publish("snapshot-requests", requests);
  return { topic: "snapshot-requests", published: requests.length };
}
