// `infinity-backup status`: per repository, how fresh the newest backup is against the RPO,
// whether it was verified, and what is stored — with a bar for freshness and a size trend.
import { repoHealth, type RepoHealth } from "../../core/health.js";
import { age, bar, bytes, sparkline, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

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
    trends.set(
      repo,
      sparkline(
        snapshots
          .slice(0, 30)
          .reverse()
          .map((s) => s.size),
      ),
    );
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
        h.freshnessSeconds === undefined ? "" : bar(1 - h.freshnessSeconds / (24 * 3600), 12),
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
