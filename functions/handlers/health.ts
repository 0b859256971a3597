// backupHealth (HTTP, IAM-protected): per repository freshness, last verification verdict and
// problems. Each stale repository is also logged as event "stale_repo" for the alert policy.
import type { Request, Response } from "@google-cloud/functions-framework";
import { repoHealth } from "../core/health.js";
import { log } from "../log.js";
import type { AppProvider } from "./cloud-app.js";
import { answer } from "./http.js";

export function healthHandler(getApp: AppProvider) {
  return (_req: Request, res: Response) =>
    answer("backupHealth", res, async () => {
      const app = await getApp();
      const now = app.clock.now();
      const listed = (await app.sources.listRepos()).map((r) => r.name);
      const repos = [...new Set([...listed, ...(await app.index.repos())])].sort();
      const health = await Promise.all(
        repos.map(async (repo) => repoHealth(repo, await app.index.list(repo), now)),
      );
      for (const h of health.filter((h) =>
        h.problems.some((p) => p.startsWith("stale") || p === "no snapshot"),
      )) {
        log("WARNING", `stale repository ${h.repo}: ${h.problems.join("; ")}`, {
          event: "stale_repo",
          repo: h.repo,
        });
      }
      const unhealthy = health.filter((h) => h.problems.length);
      return {
        status: unhealthy.length ? 503 : 200,
        body: {
          ok: unhealthy.length === 0,
          at: now.toISOString(),
          repos: health.map(({ latest, ...rest }) => ({
            ...rest,
            latest: latest && {
              id: latest.id,
              takenAt: latest.takenAt,
              confirmedAt: latest.confirmedAt,
              verification: latest.verification,
            },
          })),
        },
      };
    });
}
