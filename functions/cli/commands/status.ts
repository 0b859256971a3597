// `infinity-backup status`: per repository, how fresh the newest backup is against the RPO,
// whether it was verified, and what is stored — with a bar for freshness and a size trend — then
// the storage summary backupHealth gives (expected classes and cost, from the index).
import { loadPricing } from "../../config/pricing.js";
import { loadPrunePolicy } from "../../config/retention-env.js";
import { describeError } from "../../core/errors.js";
import { repoHealth, type RepoHealth } from "../../core/health.js";
import type { Snapshot } from "../../core/model.js";
import { storageReport, type StorageReport } from "../../core/storage-report.js";
import { age, bar, bytes, sparkline, table } from "../format.js";
import { EXIT, type Context } from "../context.js";
import { money } from "./cost.js";

export async function statusCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const now = app.clock.now();
  const configured = (await app.sources.listRepos()).map((r) => r.name);
  const repos = [...new Set([...configured, ...(await app.index.repos())])].sort();
  const health: RepoHealth[] = [];
  const lists: Snapshot[][] = [];
  const trends = new Map<string, string>();
  for (const repo of repos) {
    const snapshots = await app.index.list(repo);
    lists.push(snapshots);
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
  const storage = await storageSummary(ctx, lists, now);
  if (options.json) {
    const report = { ok: unhealthy.length === 0, at: now.toISOString(), repos: health, storage };
    ctx.print(JSON.stringify(report, null, 2));
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
  if ("error" in storage) ctx.print(`\nNo storage summary: ${storage.error}`);
  else {
    const cur = storage.currency;
    const classes = storage.byExpectedClass.map((c) => `${c.expectedClass} ${bytes(c.bytes)}`).join(", ");
    ctx.print(`\nExpected storage classes (from the index; \`cost\` reads the store): ${classes}`);
    ctx.print(
      `About ${money(storage.monthlyCost, cur)} a month, ${money(storage.projection.yearCost, cur)} ` +
        `over the year ahead under the retention policy (prices: ${storage.pricing})`,
    );
  }
  return unhealthy.length ? EXIT.failed : EXIT.ok;
}

/** The same report as backupHealth's `storage`, with this deployment's policy and price table. */
async function storageSummary(
  ctx: Context,
  repos: Snapshot[][],
  now: Date,
): Promise<(StorageReport & { pricing: string }) | { error: string }> {
  try {
    const { policy } = await loadPrunePolicy(ctx.options.config, process.env);
    const { pricing, source } = await loadPricing(ctx.options.config);
    // A handful of repositories replayed is plenty for a summary line, and keeps status quick.
    const report = storageReport({
      repos,
      policy,
      prices: pricing,
      now,
      newObjectClass: ctx.app.config.backend === "local" ? "LOCAL" : "STANDARD",
      projectedRepos: 5,
    });
    return { ...report, pricing: source };
  } catch (err) {
    return { error: describeError(err) };
  }
}
