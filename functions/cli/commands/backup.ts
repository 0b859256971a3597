// `infinity-backup backup`: snapshot every configured repository (or --repo ones), verify each
// new snapshot, print a summary; exit 1 if any repository failed.
import { backupPolicy } from "../../app.js";
import { backupAlerts, backupChecked } from "../../core/alerts.js";
import { backupAll, type BackupResult } from "../../core/backup.js";
import { bytes, duration, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

export function describeResult(r: BackupResult): string[] {
  const s = r.snapshot;
  const status = r.error ? "FAILED" : s?.outcome === "unchanged" ? "unchanged" : "created";
  const verdict = r.verify
    ? `${r.verify.verification.verdict} (${r.verify.verification.level})`
    : (s?.snapshot.verification?.verdict ?? "-");
  return [
    r.repo,
    status,
    s?.snapshot.id ?? "-",
    s ? bytes(s.snapshot.size) : "-",
    verdict,
    s ? duration(s.seconds) : "-",
  ];
}

export async function backupCommand(ctx: Context): Promise<number> {
  const { app, options, progress } = ctx;
  const policy = backupPolicy(app.settings, "inline");
  if (!options.verify) policy.verify = false;
  else if (policy.verify && options.level) policy.verify.level = options.level;
  const results = await backupAll(app, policy, {
    actor: ctx.actor,
    only: options.repo,
    onProgress: (p) => progress.update(p),
    onRepoStart: (_repo, i, total) => (progress.prefix = `[${i + 1}/${total}] `),
    onRepoDone: (r, i, total) => {
      const line = describeResult(r);
      progress.log(
        `[${i + 1}/${total}] ${r.repo}: ${r.error ? `FAILED: ${r.error}` : `${line[1]}, ${line[3]}, verify ${line[4]}`}`,
      );
    },
  });
  const when = app.clock.now().toISOString();
  await app.notifier.report(backupAlerts(results, when), backupChecked(results), when);
  const failed = results.filter((r) => r.error);
  if (options.json) {
    ctx.print(JSON.stringify({ ok: failed.length === 0, results }, null, 2));
  } else {
    ctx.print(
      table(["repository", "result", "snapshot", ">size", "verified", ">time"], results.map(describeResult)),
    );
    ctx.print(
      `\n${results.length - failed.length} of ${results.length} repositories backed up${failed.length ? `; ${failed.length} FAILED` : ""} in ${duration(progress.elapsedSeconds())}.`,
    );
    for (const f of failed) ctx.print(`  ${f.repo}: ${f.error}`);
  }
  if (results.length === 0 && !options.json) ctx.print(`No sources configured in ${options.config}.`);
  return failed.length ? EXIT.failed : EXIT.ok;
}
