// `infinity-backup status`: per repository, how fresh the newest backup is against the RPO,
// whether it was verified, and what is stored — with a bar for freshness and a size trend.
import type { Snapshot } from "../../core/model.js";
import { age, bar, bytes, sparkline, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

const RPO_SECONDS = 15 * 60;
const DAY_SECONDS = 24 * 3600;

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
    if (freshnessSeconds! > DAY_SECONDS + RPO_SECONDS) problems.push(`stale: last backup ${age(latest.confirmedAt, now)}`);
    if (!latest.verification) problems.push("latest snapshot not verified");
    else if (latest.verification.verdict !== "ok") problems.push(`latest verification FAILED: ${latest.verification.detail}`);
  }
  return {
    repo,
    snapshots: snapshots.length,
    storedBytes: snapshots.reduce((sum, s) => sum + s.size, 0),
    latest,
    freshnessSeconds,
    verified: latest?.verification?.verdict === "ok",
    problems,
  };
}

export async function statusCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const now = app.clock.now();
  const configured = (await app.sources.listRepos()).map((r) => r.name);
  const repos = [...new Set([...configured, ...(await app.index.repos())])].sort();
  const health: RepoHealth[] = [];
  const trends = new Map<string, string>();
  for (const repo of repos) {
    const snapshots = await app.index.list(repo);
    health.push(repoHealth(repo, snapshots, now));
    trends.set(repo, sparkline(snapshots.slice(0, 30).reverse().map((s) => s.size)));
  }
  const unhealthy = health.filter((h) => h.problems.length);
  if (options.json) {
    ctx.print(JSON.stringify({ ok: unhealthy.length === 0, at: now.toISOString(), repos: health }, null, 2));
    return unhealthy.length ? EXIT.failed : EXIT.ok;
  }
  ctx.print(
    table(
      ["repository", "last backup", "freshness (24h)", "verified", ">snapshots", ">stored", "size trend"],
      health.map((h) => [
        h.repo,
        h.latest ? age(h.latest.confirmedAt, now) : "never",
        h.freshnessSeconds === undefined ? "" : bar(1 - h.freshnessSeconds / DAY_SECONDS, 12),
        h.latest?.verification ? h.latest.verification.verdict.toUpperCase() : "NO",
        String(h.snapshots),
        bytes(h.storedBytes),
        trends.get(h.repo) ?? "",
      ]),
    ),
  );
  const total = health.reduce((sum, h) => sum + h.storedBytes, 0);
  ctx.print(`\n${repos.length} repositories, ${bytes(total)} stored in ${app.dataDir}`);
  for (const h of unhealthy) ctx.print(`  ! ${h.repo}: ${h.problems.join("; ")}`);
  return unhealthy.length ? EXIT.failed : EXIT.ok;
}
