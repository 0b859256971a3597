// `infinity-backup restore --repo NAME --to-github OWNER/NAME`: the restore to GitHub use case
// (core/restore-github/), with progress (items done of total, time left) on stderr and the report.
import { UserInputError } from "../core/errors.js";
import { restoreToGitHub } from "../core/restore-github/restore-to-github.js";
import type { RestoreProgress } from "../core/restore-github/steps.js";
import { EXIT, type Context } from "./context.js";
import { bytes, duration } from "./format.js";

/** Progress lines at most this often (a restore of thousands of items would flood the terminal). */
const PROGRESS_EVERY_MS = 5000;

export async function restoreToGitHubCommand(ctx: Context): Promise<number> {
  const { app, options, progress } = ctx;
  if (options.to || options.push || options.bundle)
    throw new UserInputError("--to-github restores to GitHub; give it without --to, --push or --bundle");
  if (!app.githubRestore)
    throw new UserInputError(
      app.readOnly
        ? "the data folder is read-only: a restore to GitHub keeps its journal in the index, so it needs write access"
        : "--to-github needs a github section in backup-config.yaml and the App's credentials (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)",
    );
  let last = 0;
  const onProgress = (p: RestoreProgress) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS && p.done !== p.total) return;
    last = now;
    const eta = p.etaSeconds === undefined ? "" : `, about ${duration(p.etaSeconds)} left`;
    progress.log(`${p.repo}  ${p.phase}: ${p.done} of ${p.total} items${eta}`);
  };
  const outcome = await restoreToGitHub(
    { ...app, github: app.githubRestore },
    {
      repo: options.repo[0]!,
      snapshotId: options.snapshot,
      at: options.at,
      target: options.toGithub!,
      intoExistingEmpty: options.intoExistingEmpty,
    },
    { actor: ctx.actor, onProgress },
  );
  progress.clear();
  if (options.json) {
    const { snapshot, ...rest } = outcome;
    ctx.print(
      JSON.stringify(
        { ok: true, snapshot: { id: snapshot.id, repo: snapshot.repo, takenAt: snapshot.takenAt }, ...rest },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  const { items, releases } = outcome;
  ctx.print(
    `Restored ${outcome.snapshot.repo} snapshot ${outcome.snapshot.id} (taken ${outcome.snapshot.takenAt}) to github:${outcome.target}${outcome.resumed ? " (continued)" : ""}`,
  );
  ctx.print(`  code: ${outcome.code.refs} refs, ${bytes(outcome.code.bytes)} read`);
  if (outcome.settings)
    ctx.print(
      `  settings: ${outcome.settings.applied.length} applied, ${outcome.settings.failed.length} refused, ${outcome.settings.skipped.length} skipped`,
    );
  ctx.print(
    `  ${items.issues} issues, ${items.pulls} pull requests (${items.pullsAsIssues.length} as issues), ${items.placeholders} placeholders, ${items.comments} comments, ${outcome.labels} labels, ${outcome.milestones} milestones`,
  );
  ctx.print(`  ${releases.releases} releases, ${releases.assets} assets`);
  ctx.print(
    `  numbers ${outcome.numbersKept ? "kept" : `NOT kept for ${items.renumbered.length} items`}; issues ${items.imported ? "imported" : `created one by one (import refused: ${items.importRefused})`}`,
  );
  for (const p of items.pullsAsIssues) ctx.print(`  #${p.number} came back as an issue: ${p.why}`);
  for (const m of outcome.missing)
    ctx.print(`  not restored: ${m.kind} (${m.state}${m.reason ? `: ${m.reason}` : ""})`);
  ctx.print(
    `  ${outcome.pacing.writes} writes, ${outcome.pacing.slowdowns} slow-downs, in ${duration(outcome.seconds)}; mapping: ${outcome.mappingKey}`,
  );
  return EXIT.ok;
}
