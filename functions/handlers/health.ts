// backupHealth (HTTP, IAM-protected): per repository freshness, last verification verdict and
// problems, and what the archives take up and cost (`storage`, from the index alone: this function
// may not read the bucket). Each stale repository is also logged as event "stale_repo" for the alert.
import type { Request, Response } from "@google-cloud/functions-framework";
import { DEFAULT_PRICING } from "../config/pricing.js";
import { describeError } from "../core/errors.js";
import { repoHealth } from "../core/health.js";
import type { Snapshot } from "../core/model.js";
import { storageReport } from "../core/storage-report.js";
import { log } from "../log.js";
import type { AppProvider, CloudApp } from "./cloud-app.js";
import { answer } from "./http.js";

export function healthHandler(getApp: AppProvider) {
  return (_req: Request, res: Response) =>
    answer("backupHealth", res, async () => {
      const app = await getApp();
      const now = app.clock.now();
      const listed = (await app.sources.listRepos()).map((r) => r.name);
      const repos = [...new Set([...listed, ...(await app.index.repos())])].sort();
      const snapshots = await Promise.all(repos.map((repo) => app.index.list(repo)));
      const health = repos.map((repo, i) => repoHealth(repo, snapshots[i]!, now));
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
          storage: storage(app, snapshots, now),
        },
      };
    });
}

/**
 * Bytes per retention tier and expected storage class, the monthly estimate and the year ahead, at
 * the built-in list prices (config/pricing.yaml is not deployed with the functions). A failure here
 * is reported in the field and logged: it must not hide the freshness answer.
 */
export function storage(app: Pick<CloudApp, "settings">, snapshots: Snapshot[][], now: Date) {
  const { currency, location, asOf } = DEFAULT_PRICING;
  try {
    const report = storageReport({
      repos: snapshots,
      policy: app.settings.policy,
      prices: DEFAULT_PRICING,
      now,
      newObjectClass: "STANDARD",
    });
    return { ...report, pricing: { source: "built-in list prices", currency, location, asOf } };
  } catch (err) {
    log("ERROR", `backupHealth storage report failed: ${describeError(err)}`, {
      event: "storage_report_failed",
    });
    return { error: describeError(err) };
  }
}
