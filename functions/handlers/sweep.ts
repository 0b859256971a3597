// sweep (Pub/Sub, from Cloud Scheduler): one snapshot request per repository, or for a
// verify-sweep one verify request per repository's latest snapshot.
import type { CloudEvent } from "@google-cloud/functions-framework";
import { parseMessage, sweepRequestSchema, type SnapshotRequest } from "../core/messages.js";
import { log } from "../log.js";
import type { AppProvider } from "./cloud-app.js";
import { consume } from "./pubsub.js";

export function sweepHandler(getApp: AppProvider) {
  return (event: CloudEvent<unknown>) =>
    consume("sweep", event as CloudEvent<never>, async ({ data }) => {
      const request = parseMessage(sweepRequestSchema, data, "sweep request");
      const app = await getApp();
      const requestedAt = app.clock.now().toISOString();
      if (request.reason === "verify-sweep") {
        const repos = await app.index.repos();
        const latest = (await Promise.all(repos.map((repo) => app.index.latest(repo)))).filter(
          (s) => s !== undefined,
        );
        await app.publisher.publish(
          "verify-requests",
          latest.map((s) => ({ v: 1, repo: s.repo, snapshotId: s.id, level: "deep" })),
        );
        log("INFO", `sweep: ${latest.length} verify requests`, { event: "sweep_done", count: latest.length });
        return;
      }
      const repos = await app.sources.listRepos();
      const requests: SnapshotRequest[] = repos.map((repo) => ({
        v: 1,
        repo: repo.name,
        reason: request.reason === "rpo-sweep" ? "rpo-sweep" : "schedule",
        requestedAt,
        url: repo.url,
        ...(repo.wikiUrl ? { wikiUrl: repo.wikiUrl } : {}),
        ...(repo.sizeBytes === undefined ? {} : { sizeBytes: repo.sizeBytes }),
      }));
      await app.publisher.publish("snapshot-requests", requests);
      log("INFO", `sweep: ${requests.length} snapshot requests`, {
        event: "sweep_done",
        count: requests.length,
      });
    });
}
