// `infinity-backup status`: per repository, how fresh the newest backup is against the RPO,
// whether it was verified, and what is stored — with a bar for freshness and a size trend — then
// the storage summary backupHealth gives (expected classes and cost, from the index).
import { healthOptions } from "../../app.js";
import { checkAlerts, checksChecked, eitherChecked, healthAlerts, healthChecked } from "../../core/alerts.js";
import { describeLifecycle, describeProblem, healthJson, healthReport } from "../../core/health.js";
import { shreddedRepos } from "../../core/keys/repository-keys.js";
import { checkLines, withLocalChecks } from "../health-checks.js";
import { age, bar, bytes, sparkline, table } from "../format.js";
import { EXIT, type Context } from "../context.js";
import { money } from "./cost.js";

export async function statusCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const configured = (await app.sources.listRepos()).map((r) => r.name);
  // A handful of repositories replayed is plenty for a summary line, and keeps status quick.
  const report = await withLocalChecks(
    app,
    await healthReport(app, healthOptions(app.settings, configured, { projectedRepos: 5 })),
  );
  // Status raises every problem it sees and clears what it checks for every repository: staleness
  // and failed attempts (a failed verification clears by a verification), capacity, dead letters.
  await app.notifier.report(
    [...healthAlerts(report.repos, report.at), ...checkAlerts(report.checks ?? [], report.at)],
    eitherChecked(
      healthChecked(report.repos, ["repository-stale", "backup-failed"]),
      checksChecked(report.checks ?? []),
    ),
    report.at,
  );
  const now = new Date(report.at);
  const health = report.repos;
  const trends = new Map(
    health.map((h, i) => [
      h.repo,
      sparkline(
        report.snapshots[i]!.slice(0, 30)
          .reverse()
          .map((s) => s.size),
      ),
    ]),
  );
  const unhealthy = health.filter((h) => h.problems.length);
  const storage = report.storage;
  const forgotten = [...(await shreddedRepos(app.keyRecords)).values()].map((k) => ({
    repo: k.repo,
    ...k.shredded!,
  }));
  if (options.json) {
    ctx.print(JSON.stringify({ ...healthJson(report), ...(forgotten.length ? { forgotten } : {}) }, null, 2));
    return report.ok ? EXIT.ok : EXIT.failed;
  }
  ctx.print(["checks", ...checkLines(report.checks ?? []), ""].join("\n"));
  ctx.print(
    table(
      ["repository", "last backup", "freshness (24h)", "verified", ">snapshots", ">stored", "size trend"],
      health.map((h) => [
        h.org === undefined ? h.repo : `${h.repo} (organization)`,
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
  ctx.print(`\n${health.length} repositories, ${bytes(total)} stored in ${app.dataDir}`);
  for (const h of unhealthy) ctx.print(`  ! ${h.repo}: ${h.problems.map(describeProblem).join("; ")}`);
  for (const f of forgotten)
    ctx.print(`  x ${f.repo}: forgotten at ${f.at} by ${f.by} (${f.reason}): its snapshots are shredded`);
  for (const h of health.filter((h) => h.lifecycle)) ctx.print(`  - ${h.repo}: ${describeLifecycle(h)}`);
  // A pass with fsck warnings (legacy quirks git only warns about) is said, not hidden.
  for (const h of health) {
    const v = h.latest?.verification;
    if (v?.verdict === "ok" && v.detail) ctx.print(`  ~ ${h.repo}: verified ${v.detail}`);
  }
  for (const h of health.filter((h) => h.running))
    ctx.print(
      `  > ${h.repo}: backup running now (${h.running!.holder}, lease until ${h.running!.expiresAt})`,
    );
  for (const h of health.filter((h) => h.metadataUnavailable)) {
    const kinds = Object.entries(h.metadataUnavailable!).map(([kind, why]) => `${kind} (${why})`);
    ctx.print(`  - ${h.repo}: metadata not backed up: ${kinds.join(", ")}`);
  }
  for (const h of health.filter((h) => h.metadataDeferred)) {
    const kinds = Object.entries(h.metadataDeferred!).map(([kind, why]) => `${kind} (${why})`);
    ctx.print(`  - ${h.repo}: metadata deferred, a later backup reads it: ${kinds.join(", ")}`);
  }
  for (const h of health.filter((h) => h.lfsUnavailable)) {
    const { count, objects } = h.lfsUnavailable!;
    const named = Object.entries(objects).map(([oid, why]) => `${oid.slice(0, 12)} (${why})`);
    const more = count > named.length ? ` and ${count - named.length} more` : "";
    const noun = count === 1 ? "LFS object" : "LFS objects";
    ctx.print(`  - ${h.repo}: ${count} ${noun} not backed up: ${named.join(", ")}${more}`);
  }
  if ("error" in storage) ctx.print(`\nNo storage summary: ${storage.error}`);
  else {
    const cur = storage.currency;
    const classes = storage.byExpectedClass.map((c) => `${c.expectedClass} ${bytes(c.bytes)}`).join(", ");
    ctx.print(`\nExpected storage classes (from the index; \`cost\` reads the store): ${classes}`);
    ctx.print(
      `About ${money(storage.monthlyCost, cur)} a month` +
        (storage.projection
          ? `, ${money(storage.projection.yearCost, cur)} over the year ahead under the retention policy`
          : "") +
        ` (prices: ${storage.pricingSource})`,
    );
  }
  return report.ok ? EXIT.ok : EXIT.failed;
}
