// `infinity-backup restore`: one repository, any point in time, to a path, a remote or a bundle.
import { UserInputError } from "../../core/errors.js";
import { describeResolution, resolveName } from "../../core/lineage/registry.js";
import { credentialRefusal } from "../../core/redact.js";
import { restoreRepo, type RestoreTarget } from "../../core/restore.js";
import { bytes, duration } from "../format.js";
import { restoreToGitHubCommand } from "../restore-github.js";
import { restoreOrgCommand } from "../restore-org.js";
import { EXIT, type Context } from "../context.js";

function target(ctx: Context): RestoreTarget {
  const { to, push, bundle } = ctx.options;
  const given = [to && "--to", push && "--push", bundle && "--bundle"].filter(Boolean);
  if (given.length !== 1)
    throw new UserInputError(
      `restore needs exactly one of --to PATH, --push URL, --bundle FILE${given.length ? ` (got ${given.join(", ")})` : ""}`,
    );
  if (to) return { kind: "path", path: to };
  if (bundle) return { kind: "bundle-file", path: bundle };
  const refusal = credentialRefusal("--push", push!);
  if (refusal) throw new UserInputError(refusal);
  return { kind: "push", remote: { url: push! } };
}

export async function restoreCommand(ctx: Context): Promise<number> {
  const { app, options, progress } = ctx;
  if (options.all) return restoreOrgCommand(ctx);
  if (options.toOrg || options.prefix)
    throw new UserInputError("--to-org and --prefix go with restore --all (every repository as of --at)");
  if (options.repo.length !== 1) throw new UserInputError("restore needs exactly one --repo NAME");
  if (options.snapshot && options.at) throw new UserInputError("give --snapshot or --at, not both");
  if (options.toGithub) return restoreToGitHubCommand(ctx);
  const asked = options.repo[0]!;
  // A former name (renamed, transferred) leads to the repository's whole history: say so.
  const resolved = describeResolution(asked, resolveName(asked, await app.index.repositoriesNamed(asked)));
  if (resolved && !options.json) ctx.print(resolved);
  const outcome = await restoreRepo(
    app,
    { repo: asked, snapshotId: options.snapshot, at: options.at, target: target(ctx) },
    { actor: ctx.actor, onProgress: (p) => progress.update(p) },
  );
  progress.clear();
  if (options.json)
    ctx.print(JSON.stringify({ ok: true, ...(resolved ? { resolved } : {}), ...outcome }, null, 2));
  else {
    ctx.print(
      `Restored ${outcome.snapshot.repo} snapshot ${outcome.snapshot.id} (taken ${outcome.snapshot.takenAt})`,
    );
    ctx.print(
      `  to ${outcome.target}: ${outcome.refs} refs, ${bytes(outcome.bytes)} read, in ${duration(outcome.seconds)}`,
    );
    if (outcome.wiki) {
      ctx.print(
        outcome.wiki.error
          ? `  wiki (${outcome.wiki.refs} refs) NOT restored: ${outcome.wiki.error}`
          : `  wiki: ${outcome.wiki.refs} refs to ${outcome.wiki.target}`,
      );
    }
    if (outcome.lfsObjects)
      ctx.print(
        `  LFS: ${outcome.lfsObjects.objects} objects (${bytes(outcome.lfsObjects.bytes)}) to ${outcome.lfsObjects.target}` +
          (/\.lfs\/?$/.test(outcome.lfsObjects.target) ? " (copy them into a clone's .git/lfs/objects)" : ""),
      );
    if (outcome.head && !outcome.head.kept) ctx.print(`  HEAD not restored: ${outcome.head.note}`);
  }
  return EXIT.ok;
}
