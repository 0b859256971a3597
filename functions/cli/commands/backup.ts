// `infinity-backup backup`: snapshot every configured repository (or --repo ones), and with a
// GitHub source each organization's own snapshot when its clock (schedule.yaml orgSnapshot) has
// fired since its latest (or --org ones, now); verify each new snapshot, print a summary; exit 1
// if any repository failed.
import { backupPolicy } from "../../app.js";
import { lastRunAtOrBefore } from "../../config/cron-runs.js";
import { backupAlerts, backupChecked } from "../../core/alerts.js";
import { backupAll, type BackupResult } from "../../core/backup.js";
import { UserInputError } from "../../core/errors.js";
import { orgOfRepo } from "../../core/ids.js";
import { backupOrgs, type OrgBackups } from "../../core/org-snapshot.js";
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
  // --org O arrives as the repository "O/@org" (main.ts): its own snapshot, asked for by name.
  const orgs = options.repo.map(orgOfRepo).filter((org) => org !== undefined);
  const repos = options.repo.filter((repo) => orgOfRepo(repo) === undefined);
  if (orgs.length && !app.orgMetadata)
    throw new UserInputError(
      `--org ${orgs.join(", ")}: organization snapshots need the github section in ${options.config}`,
    );
  const results =
    orgs.length && !repos.length
      ? []
      : await backupAll(app, policy, {
          actor: ctx.actor,
          only: repos,
          onProgress: (p) => progress.update(p),
          onRepoStart: (_repo, i, total) => (progress.prefix = `[${i + 1}/${total}] `),
          onRepoDone: (r, i, total) => {
            const line = describeResult(r);
            progress.log(
              `[${i + 1}/${total}] ${r.repo}: ${r.error ? `FAILED: ${r.error}` : `${line[1]}, ${line[3]}, verify ${line[4]}`}`,
            );
          },
        });
  // Organizations' own snapshots: with a GitHub source, unless only repositories were named.
  let orgBackups: OrgBackups | undefined;
  if (app.orgMetadata && (orgs.length || !repos.length)) {
    progress.prefix = "[org] ";
    const now = app.clock.now();
    orgBackups = await backupOrgs(app, policy, {
      actor: ctx.actor,
      ...(orgs.length ? { only: orgs } : {}),
      // A clock this program cannot read (names such as MON): at most once a day.
      dueSince:
        lastRunAtOrBefore(app.settings.schedule.orgSnapshot, now) ?? new Date(now.getTime() - 86_400_000),
      onProgress: (p) => progress.update(p),
      onOrgDone: (r) => {
        const line = describeResult(r);
        progress.log(
          `[org] ${r.repo}: ${r.error ? `FAILED: ${r.error}` : `${line[1]}, ${line[3]}, verify ${line[4]}`}`,
        );
      },
    });
    results.push(...orgBackups.results);
  }
  const when = app.clock.now().toISOString();
  await app.notifier.report(backupAlerts(results, when), backupChecked(results), when);
  const failed = results.filter((r) => r.error);
  if (options.json) {
    ctx.print(
      JSON.stringify(
        {
          ok: failed.length === 0,
          results,
          ...(orgBackups?.notDue.length ? { orgsNotDue: orgBackups.notDue } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    ctx.print(
      table(["repository", "result", "snapshot", ">size", "verified", ">time"], results.map(describeResult)),
    );
    ctx.print(
      `\n${results.length - failed.length} of ${results.length} repositories backed up${failed.length ? `; ${failed.length} FAILED` : ""} in ${duration(progress.elapsedSeconds())}.`,
    );
    for (const f of failed) ctx.print(`  ${f.repo}: ${f.error}`);
    for (const n of orgBackups?.notDue ?? [])
      ctx.print(
        `${n.org}/@org: not due (taken ${n.latestAt}; schedule.yaml orgSnapshot "${app.settings.schedule.orgSnapshot}"); --org ${n.org} takes one now.`,
      );
  }
  if (results.length === 0 && !options.json) ctx.print(`No sources configured in ${options.config}.`);
  return failed.length ? EXIT.failed : EXIT.ok;
}
