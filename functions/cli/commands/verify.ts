// `infinity-backup verify`: re-read snapshots end to end and record the verdict.
import { verifyAlerts, verifyChecked } from "../../core/alerts.js";
import { NotFoundError } from "../../core/errors.js";
import type { Snapshot } from "../../core/model.js";
import { verifySnapshot, type VerifyOutcome } from "../../core/verify.js";
import { bytes, duration, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

async function chooseTargets(ctx: Context): Promise<Snapshot[]> {
  const { app, options } = ctx;
  const repos = options.repo.length ? options.repo : await app.index.repos();
  const targets: Snapshot[] = [];
  for (const repo of repos) {
    if (options.snapshot) {
      const one = await app.index.get(repo, options.snapshot);
      if (!one) throw new NotFoundError(`no snapshot ${options.snapshot} of ${repo}`);
      targets.push(one);
    } else if (options.all) {
      targets.push(...(await app.index.list(repo)));
    } else {
      const latest = await app.index.latest(repo);
      if (!latest) throw new NotFoundError(`no snapshots of ${repo}`);
      targets.push(latest);
    }
  }
  return targets;
}

export async function verifyCommand(ctx: Context): Promise<number> {
  const { app, options, progress } = ctx;
  const targets = await chooseTargets(ctx);
  const level = options.level ?? app.settings.backup.verify.level;
  const outcomes: VerifyOutcome[] = [];
  for (const [i, snapshot] of targets.entries()) {
    progress.prefix = `[${i + 1}/${targets.length}] `;
    const outcome = await verifySnapshot(app, snapshot.repo, snapshot.id, {
      level,
      actor: ctx.actor,
      onProgress: (p) => progress.update(p),
    });
    outcomes.push(outcome);
    const v = outcome.verification;
    progress.log(
      `[${i + 1}/${targets.length}] ${snapshot.repo} ${snapshot.id}: ${v.verdict === "ok" ? "ok" : `FAILED: ${v.detail}`}`,
    );
  }
  const when = app.clock.now().toISOString();
  await app.notifier.report(verifyAlerts(outcomes, when), verifyChecked(outcomes), when);
  const failed = outcomes.filter((o) => o.verification.verdict !== "ok");
  if (options.json) {
    ctx.print(JSON.stringify({ ok: failed.length === 0, results: outcomes }, null, 2));
  } else {
    ctx.print(
      table(
        ["repository", "snapshot", "level", "verdict", ">bytes", ">time"],
        outcomes.map((o) => [
          o.snapshot.repo,
          o.snapshot.id,
          o.verification.level,
          o.verification.verdict === "ok" ? "ok" : `FAILED: ${o.verification.detail}`,
          bytes(o.bytes),
          duration(o.seconds),
        ]),
      ),
    );
    ctx.print(
      `\n${outcomes.length - failed.length} of ${outcomes.length} snapshots verified${failed.length ? `; ${failed.length} FAILED` : ""}.`,
    );
  }
  return failed.length ? EXIT.failed : EXIT.ok;
}
