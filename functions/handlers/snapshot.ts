// snapshotRepo (Pub/Sub): one repository. Idempotent under redelivery: the second delivery sees
// the same refs as the snapshot the first made and only confirms it. Big repositories are handed
// to the snapshot job; a snapshot that would outrun the function's time limit stops cleanly.
import type { CloudEvent } from "@google-cloud/functions-framework";
import { NotFoundError } from "../core/errors.js";
import { parseMessage, snapshotRequestSchema, type SnapshotRequest } from "../core/messages.js";
import { snapshotRepo } from "../core/snapshot.js";
import { log } from "../log.js";
import type { AppProvider, CloudApp } from "./cloud-app.js";
import { consume } from "./pubsub.js";

export async function runSnapshotRequest(
  app: CloudApp,
  request: SnapshotRequest,
  actor: string,
  deadlineMs: number,
): Promise<void> {
  // A sweep's request carries the URL; a webhook's names the repository only: one lookup.
  const repo = request.url
    ? { name: request.repo, url: request.url }
    : await app.sources.getRepo(request.repo);
  if (!repo) throw new NotFoundError(`${request.repo} is not a repository this installation backs up`);
  const signal = AbortSignal.timeout(deadlineMs);
  const remote = await app.sources.gitRemote(repo);
  const outcome = await snapshotRepo(app, request.repo, remote, {
    ...(repo.wikiUrl ? { wiki: { ...remote, url: repo.wikiUrl } } : {}),
    actor,
    signal,
    incremental: app.settings.incremental,
  });
  const s = outcome.snapshot;
  log("INFO", `snapshot ${outcome.outcome}: ${s.repo} ${s.id}`, {
    event: `snapshot_${outcome.outcome}`,
    repo: s.repo,
    snapshotId: s.id,
    bytes: s.size,
    seconds: outcome.seconds,
    reason: request.reason,
  });
  if (app.settings.verify && (outcome.outcome === "created" || !s.verification)) {
    await app.publisher.publish("verify-requests", [
      { v: 1, repo: s.repo, snapshotId: s.id, level: app.settings.verify },
    ]);
  }
}

export function snapshotHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("snapshotRepo", event as CloudEvent<never>, async ({ data, messageId }) => {
      const request = parseMessage(snapshotRequestSchema, data, "snapshot request");
      const app = await getApp();
      if ((request.sizeBytes ?? 0) >= app.settings.largeRepoBytes) {
        await app.publisher.publish("snapshot-large", [request]);
        log("INFO", `snapshot of ${request.repo} handed to the snapshot job (${request.sizeBytes} bytes)`, {
          event: "snapshot_handed_over",
          repo: request.repo,
        });
        return;
      }
      try {
        await runSnapshotRequest(app, request, `pubsub:${messageId}`, app.settings.snapshotDeadlineMs);
      } catch (err) {
        log("ERROR", `snapshot of ${request.repo} failed: ${(err as Error).message}`, {
          event: "snapshot_failed",
          repo: request.repo,
        });
        throw err;
      }
    });
}
