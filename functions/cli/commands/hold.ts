// `infinity-backup hold`: put snapshots on legal hold (prune never removes them, the store refuses
// to delete their archives), or --release.
// One snapshot with --snapshot; otherwise every snapshot the repository has now. To hold the
// snapshots a repository will have too, list it under holdRepos in retention-policy.yaml.
import { NotFoundError, UserInputError } from "../../core/errors.js";
import { holdLayersOf } from "../../core/layers/holds.js";
import { EXIT, type Context } from "../context.js";

export async function holdCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  if (options.repo.length !== 1) throw new UserInputError("hold needs exactly one --repo NAME");
  const repo = options.repo[0]!;
  const hold = !options.release;
  const targets = options.snapshot
    ? [await app.index.get(repo, options.snapshot)].filter((s) => s !== undefined)
    : await app.index.list(repo);
  if (!targets.length) {
    throw new NotFoundError(
      options.snapshot ? `no snapshot ${options.snapshot} of ${repo}` : `no snapshots of ${repo}`,
    );
  }
  for (const snapshot of targets) {
    await app.index.setHold(repo, snapshot.id, hold);
    // The archive is held by the store too, so no credential deletes it while the hold lasts; so
    // are the layers a layered snapshot resolves to (a release of those waits for the next prune).
    await app.store.setLifecycle(snapshot.objectKey, { hold });
    if (hold) await holdLayersOf(app, repo, snapshot);
    await app.audit.record({
      action: hold ? "hold.set" : "hold.released",
      repo,
      snapshotId: snapshot.id,
      actor: ctx.actor,
      outcome: "success",
    });
  }
  if (options.json)
    ctx.print(JSON.stringify({ ok: true, repo, hold, snapshots: targets.map((s) => s.id) }, null, 2));
  else {
    ctx.print(`${hold ? "Held" : "Released"} ${targets.length} snapshot(s) of ${repo}.`);
    if (hold && !options.snapshot)
      ctx.print(`New snapshots are not held: add ${repo} under holdRepos in retention-policy.yaml for that.`);
  }
  return EXIT.ok;
}
