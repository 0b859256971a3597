// `infinity-backup demo` (what `npm start` runs): create the demo repository if it is missing,
// back up every configured source, verify, restore one into a temp folder, and prove the
// restored refs and objects equal the source's.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupPolicy } from "../../app.js";
import { backupAll } from "../../core/backup.js";
import { fsck, readRefs, diffRefs } from "../../core/git/local-repo.js";
import { restoreRepo } from "../../core/restore.js";
import { bytes, duration, table } from "../format.js";
import { createDemoRepo, exists } from "../demo-repo.js";
import { EXIT, type Context } from "../context.js";
import { describeResult } from "./backup.js";

export async function demoCommand(ctx: Context): Promise<number> {
  const { app, progress } = ctx;
  const sources = await app.sources.listRepos();
  for (const source of app.settings.backup.sources.filter((s) => s.demo)) {
    const url = sources.find((s) => s.name === source.name)!.url;
    if (!(await exists(url))) {
      progress.log(`Creating demo repository ${source.name} at ${url}`);
      await createDemoRepo(url);
    }
  }
  ctx.print(
    `infinity-backup demo: ${sources.length} source(s) from ${ctx.options.config}, data in ${app.dataDir}\n`,
  );
  // The demo always verifies: proving the backup is the point of it.
  const policy = backupPolicy(app.settings, "inline");
  const verify = { level: app.settings.backup.verify.level, where: "inline" as const };
  const results = await backupAll(
    app,
    { ...policy, verify },
    {
      actor: ctx.actor,
      onProgress: (p) => progress.update(p),
      onRepoStart: (_r, i, total) => (progress.prefix = `[${i + 1}/${total}] `),
    },
  );
  progress.clear();
  ctx.print(
    table(["repository", "result", "snapshot", ">size", "verified", ">time"], results.map(describeResult)),
  );
  const failed = results.filter((r) => r.error);
  for (const f of failed) ctx.print(`  ${f.repo}: ${f.error}`);
  const first = results.find((r) => !r.error && r.snapshot);
  if (!first) return EXIT.failed;

  progress.prefix = "";
  const scratch = await mkdtemp(join(tmpdir(), "infinity-demo-restore-"));
  try {
    const target = join(scratch, "restored.git");
    const restored = await restoreRepo(
      app,
      { repo: first.repo, target: { kind: "path", path: target } },
      { actor: ctx.actor, onProgress: (p) => progress.update(p) },
    );
    progress.clear();
    const source = sources.find((s) => s.name === first.repo)!;
    const [sourceRefs, restoredRefs] = await Promise.all([readRefs(source.url), readRefs(target)]);
    const diff = diffRefs(sourceRefs, restoredRefs);
    await fsck(target, "full");
    ctx.print(`\nRestore drill: ${first.repo} snapshot ${restored.snapshot.id}`);
    ctx.print(
      `  restored ${restored.refs} refs (${bytes(restored.bytes)} archive) in ${duration(restored.seconds)} to a temp folder`,
    );
    ctx.print(`  refs equal to the source: ${diff ? `NO: ${diff}` : "yes"}; git fsck --full: clean`);
    if (diff) return EXIT.failed;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  ctx.print(
    `\nAll good: ${results.length - failed.length} of ${results.length} backed up and verified. Try \`node bin/infinity-backup.mjs status\`.`,
  );
  return failed.length ? EXIT.failed : EXIT.ok;
}
