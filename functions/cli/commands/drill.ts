// `infinity-backup drill`: restore a sample of repositories (--sample N, default drill.sample; or --repo
// NAME ...) from their latest snapshot into scratch space, check each against the index, and
// measure the restore time against the 1-hour RTO. Every drill is an audit entry; exit 1 if any
// failed.
import { drillAlerts, drillChecked } from "../../core/alerts.js";
import { runDrill } from "../../core/drill.js";
import { UserInputError } from "../../core/errors.js";
import { RTO_SECONDS } from "../../core/status-view.js";
import { bytes, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

export async function drillCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const sample = options.sample === undefined ? app.settings.backup.drill.sample : Number(options.sample);
  if (!Number.isInteger(sample) || sample < 1)
    throw new UserInputError(`--sample "${options.sample}" is not a positive whole number`);
  const results = await runDrill(app, {
    actor: ctx.actor,
    sample,
    ...(options.repo.length ? { repos: options.repo } : {}),
    trail: app.auditTrail,
    onProgress: (p) => ctx.progress.update(p),
    onResult: (r, done, of) =>
      ctx.progress.log(
        `[${done}/${of}] ${r.repo}: drill ${r.verdict}, restored in ${r.seconds.toFixed(1)} s`,
      ),
  });
  ctx.progress.clear();
  const when = app.clock.now().toISOString();
  await app.notifier.report(drillAlerts(results, when), drillChecked(results), when);
  const failed = results.filter((r) => r.verdict === "failed");
  if (options.json) {
    ctx.print(
      JSON.stringify(
        { ok: failed.length === 0 && results.length > 0, rtoSeconds: RTO_SECONDS, results },
        null,
        2,
      ),
    );
  } else if (!results.length) {
    ctx.print("Nothing to drill: no repository has a snapshot yet.");
  } else {
    ctx.print(
      table(
        ["repository", "snapshot", "verdict", ">restore", ">of RTO", ">refs", ">read", "detail"],
        results.map((r) => [
          r.repo,
          r.snapshotId,
          r.verdict.toUpperCase(),
          `${r.seconds.toFixed(1)} s`,
          `${((r.seconds / RTO_SECONDS) * 100).toFixed(2)} %`,
          String(r.refs),
          bytes(r.bytes),
          r.detail ?? "",
        ]),
      ),
    );
    const slowest = Math.max(...results.map((r) => r.seconds));
    ctx.print(
      `\n${results.length - failed.length} of ${results.length} drills passed; slowest restore ${slowest.toFixed(1)} s against an RTO of ${RTO_SECONDS / 60} min.`,
    );
  }
  return failed.length || !results.length ? EXIT.failed : EXIT.ok;
}
