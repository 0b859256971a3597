// `infinity-backup restore --all --at T (--to-org ORG | --prefix P) [--dry-run]`: every repository as
// it was at T (core/restore-org.ts), each through the restore to GitHub, one after the other, with a
// line per repository: its snapshot, how far behind T, its target and what became of it.
import { UserInputError } from "../core/errors.js";
import { restoreToGitHub } from "../core/restore-github/restore-to-github.js";
import { restoreOrg, type OrgRestoreItem } from "../core/restore-org.js";
import { EXIT, type Context } from "./context.js";
import { duration } from "./format.js";

export async function restoreOrgCommand(ctx: Context): Promise<number> {
  const { app, options, progress } = ctx;
  const stray = [
    options.repo.length && "--repo",
    options.snapshot && "--snapshot",
    options.to && "--to",
    options.push && "--push",
    options.bundle && "--bundle",
    options.toGithub && "--to-github",
  ].filter(Boolean);
  if (stray.length)
    throw new UserInputError(
      `restore --all restores every repository as of --at into --to-org or under --prefix; drop ${stray.join(", ")}`,
    );
  if (!options.at)
    throw new UserInputError("restore --all needs --at TIME: the moment to restore every repository as of");
  const github = app.githubRestore;
  if (!options.dryRun && !github)
    throw new UserInputError(
      "restore --all restores to GitHub: it needs a github section in backup-config.yaml and the App's credentials (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)",
    );
  const report = await restoreOrg(
    app,
    {
      at: options.at,
      ...(options.toOrg ? { toOrg: options.toOrg } : {}),
      ...(options.prefix ? { prefix: options.prefix } : {}),
      dryRun: options.dryRun,
    },
    {
      kind: "inline",
      restore: async (item) => {
        progress.log(`${item.name} -> github:${item.target} (snapshot ${item.snapshotId})`);
        const outcome = await restoreToGitHub(
          { ...app, github: github! },
          { repo: item.repo, snapshotId: item.snapshotId, target: item.target },
          { actor: ctx.actor },
        );
        return `${outcome.code.refs} refs, ${outcome.items.issues} issues, ${outcome.items.pulls} pull requests, ${outcome.releases.releases} releases${outcome.resumed ? " (continued)" : ""}`;
      },
    },
  );
  progress.clear();
  const failed = (report.counts.failed ?? 0) + (report.counts.conflict ?? 0);
  if (options.json) {
    ctx.print(JSON.stringify({ ok: failed === 0, ...report }, null, 2));
    return failed ? EXIT.failed : EXIT.ok;
  }
  ctx.print(
    `${report.dryRun ? "Would restore" : "Restored"} every repository as of ${report.at}: ` +
      Object.entries(report.counts)
        .map(([state, n]) => `${n} ${state}`)
        .join(", "),
  );
  for (const item of report.items) ctx.print(`  ${line(item)}`);
  return failed ? EXIT.failed : EXIT.ok;
}

function line(item: OrgRestoreItem): string {
  if (item.state === "no-snapshot")
    return `${item.repo}: NO SNAPSHOT at or before that time${item.oldest ? ` (its oldest is ${item.oldest})` : ""}`;
  const from = `${item.name} snapshot ${item.snapshotId} (taken ${item.takenAt}, ${duration(item.behindSeconds)} before)`;
  const to = `-> github:${item.target}`;
  if (item.state === "failed" || item.state === "conflict")
    return `${from} ${to}: ${item.state.toUpperCase()}: ${item.error}`;
  return `${from} ${to}: ${item.state}${item.note ? ` (${item.note})` : ""}`;
}
