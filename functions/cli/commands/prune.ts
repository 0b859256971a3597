// `infinity-backup prune`: apply the retention policy to every repository (or --repo ones): a table per
// repository of what is kept and why, what is removed and why; --dry-run prints it and changes nothing.
import { newObjectClass } from "../../app.js";
import { retentionSource } from "../../config/settings.js";
import { describeRemoval } from "../../core/prune-plan.js";
import { UserInputError } from "../../core/errors.js";
import { pruneAll, type PruneReport, type PruneRepoResult } from "../../core/prune.js";
import { bytes, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

const day = (iso: string | null): string => (iso === null ? "open-ended" : iso.slice(0, 10));

function rows(report: PruneReport): string[][] {
  const kept = report.keep.map((k) => ({
    takenAt: k.snapshot.takenAt,
    row: [
      k.snapshot.id,
      k.snapshot.takenAt,
      "keep",
      k.reasons.join(", "),
      day(k.keepUntil),
      k.missingObject
        ? "OBJECT MISSING"
        : k.movedFrom !== undefined
          ? `${k.movedFrom} -> ${k.storageClass}`
          : (k.storageClass ?? "-"),
    ],
  }));
  const removed = report.remove.map((r) => ({
    takenAt: r.snapshot.takenAt,
    // The holder's id is in --json and the audit log; the table only says a newer one holds the period.
    row: [
      r.snapshot.id,
      r.snapshot.takenAt,
      "REMOVE",
      r.reasons.map((reason) => describeRemoval(reason, true)).join(", "),
      "-",
      "-",
    ],
  }));
  // Newest first, as `list` prints them, so keep and remove interleave in time.
  return [...kept, ...removed]
    .sort((a, b) => (a.takenAt < b.takenAt ? 1 : a.takenAt > b.takenAt ? -1 : 0))
    .map((entry) => entry.row);
}

/** The report without the full index records, for --json. */
export function pruneReportJson(report: PruneReport) {
  return {
    repo: report.repo,
    dryRun: report.dryRun,
    reference: report.reference,
    kept: report.keep.map((k) => ({
      snapshotId: k.snapshot.id,
      takenAt: k.snapshot.takenAt,
      reasons: k.reasons,
      keepUntil: k.keepUntil,
      tier: k.tier,
      storageClass: k.storageClass ?? null,
      movedFrom: k.movedFrom ?? null,
      classReason: k.classReason,
      expiresAtSet: k.setExpiresAt ?? null,
      missingObject: k.missingObject,
    })),
    removed: report.remove.map((r) => ({
      snapshotId: r.snapshot.id,
      takenAt: r.snapshot.takenAt,
      objectKey: r.snapshot.objectKey,
      bytes: r.bytes,
      reasons: r.reasons.map((reason) => describeRemoval(reason)),
    })),
    orphans: report.orphans,
    youngOrphans: report.youngOrphans,
    skipped: report.skipped,
    bytesFreed: report.bytesFreed,
    moves: report.moves,
    expiriesExtended: report.expiriesExtended,
    ...(report.layers ? { layers: report.layers } : {}),
    ...(report.compaction ? { compaction: report.compaction } : {}),
  };
}

export async function pruneCommand(ctx: Context): Promise<number> {
  const { app, options, progress } = ctx;
  // `in` rather than a field of CommandOptions, so this reads --dry-run whether or not main.ts has it yet.
  const dryRun = options.dryRun;
  const source = retentionSource(app.settings);
  // Refused up front, not at the first write: a prune that would change nothing today still must
  // not report success on a folder it could never change (a restored disk mounted read-only).
  if (options.fullCompaction && !options.compact)
    throw new UserInputError("--full goes with --compact: prune --compact --full rewrites every live layer");
  if (app.readOnly && !dryRun)
    throw new UserInputError(
      `the data folder ${app.dataDir} is read-only: prune needs a writable copy (prune --dry-run works read-only)`,
    );
  const results = await pruneAll(app, app.settings.retention, {
    dryRun,
    compact: options.compact === true,
    fullCompaction: options.fullCompaction === true,
    actor: ctx.actor,
    newObjectClass: newObjectClass(app.settings),
    only: options.repo,
    onRepoDone: (r, i, total) =>
      progress.log(`[${i + 1}/${total}] ${r.repo}: ${r.error ? `FAILED: ${r.error}` : "done"}`),
  });
  const failed = results.filter((r) => r.error !== undefined);
  if (options.json) {
    const repos = results.map((r) =>
      r.report ? pruneReportJson(r.report) : { repo: r.repo, error: r.error },
    );
    ctx.print(JSON.stringify({ ok: failed.length === 0, dryRun, policy: source, repos }, null, 2));
    return failed.length ? EXIT.failed : EXIT.ok;
  }
  ctx.print(`Policy: ${source}${dryRun ? "\nDry run: nothing is changed." : ""}`);
  for (const result of results) printRepo(ctx, result);
  printTotals(ctx, results, dryRun);
  return failed.length ? EXIT.failed : EXIT.ok;
}

function printRepo(ctx: Context, result: PruneRepoResult): void {
  ctx.print(`\n${result.repo}`);
  if (result.error !== undefined) {
    ctx.print(`  FAILED: ${result.error}`);
    return;
  }
  const report = result.report!;
  if (report.keep.length + report.remove.length > 0) {
    ctx.print(table(["snapshot", "taken", "decision", "reasons", "keep until", "class"], rows(report)));
  } else {
    ctx.print("  no snapshots");
  }
  for (const orphan of report.orphans) {
    ctx.print(
      `  orphan ${orphan.key} (${bytes(orphan.size)}, written ${orphan.createdAt}): no index record; ${report.dryRun ? "would be deleted" : "deleted"}`,
    );
  }
  if (report.youngOrphans.length) {
    ctx.print(
      `  ${report.youngOrphans.length} object(s) with no index record yet, inside the grace period: left alone`,
    );
  }
  for (const skip of report.skipped) ctx.print(`  ${skip.snapshotId} not removed: ${skip.reason}`);
  printLayers(ctx, report);
  printLayerMoves(ctx, report);
}

/** The layer archives' class moves (prune's layer part), counted by "FROM -> TO". */
function printLayerMoves(ctx: Context, report: PruneReport): void {
  const moves = Object.entries(report.layers?.moves ?? {}).map(([move, count]) => `${move}: ${count}`);
  if (moves.length)
    ctx.print(`  layer archive class moves${report.dryRun ? " (would move)" : ""}: ${moves.join(", ")}`);
}

/** Shared pack layers: what layer garbage and compaction did (or would do). */
function printLayers(ctx: Context, report: PruneReport): void {
  const layers = report.layers;
  const would = report.dryRun ? "would be " : "";
  if (layers?.dead.length)
    ctx.print(`  layers ${would}set dead (no kept snapshot needs them): ${layers.dead.join(", ")}`);
  if (layers?.deleted.length) ctx.print(`  layers ${would}deleted: ${layers.deleted.join(", ")}`);
  if (layers?.holds?.held.length)
    ctx.print(
      `  layers ${would}held in the store (a held snapshot needs them): ${layers.holds.held.join(", ")}`,
    );
  if (layers?.holds?.released.length)
    ctx.print(`  layers ${would}released from hold: ${layers.holds.released.join(", ")}`);
  for (const problem of layers?.unresolvable ?? [])
    ctx.print(`  snapshot ${problem.snapshotId}: ${problem.error}`);
  for (const skip of layers?.skipped ?? []) ctx.print(`  layer ${skip.layerId ?? ""} left: ${skip.reason}`);
  for (const merge of report.compaction?.merges ?? []) {
    ctx.print(`  layers ${merge.inputs.join(", ")} merged into ${merge.merged} (${merge.objects} objects)`);
  }
  const rewrite = report.compaction?.rewrite;
  if (rewrite?.merged)
    ctx.print(
      `  layers ${rewrite.inputs!.join(", ")} rewritten into ${rewrite.merged} (${rewrite.objects} objects kept, ${rewrite.dropped} no kept snapshot reaches dropped)`,
    );
  if (report.compaction?.skipped) ctx.print(`  compaction skipped: ${report.compaction.skipped}`);
}

function printTotals(ctx: Context, results: PruneRepoResult[], dryRun: boolean): void {
  const reports = results.flatMap((r) => (r.report ? [r.report] : []));
  const sum = (pick: (r: PruneReport) => number) => reports.reduce((total, r) => total + pick(r), 0);
  const moves = new Map<string, number>();
  for (const report of reports) {
    for (const [move, count] of Object.entries(report.moves)) moves.set(move, (moves.get(move) ?? 0) + count);
    // Layer archives move too (prune's layer part), counted with the snapshots' archives.
    for (const [move, count] of Object.entries(report.layers?.moves ?? {}))
      moves.set(move, (moves.get(move) ?? 0) + count);
  }
  const would = dryRun ? " would be" : "";
  const removed = sum((r) => r.remove.length - r.skipped.length);
  ctx.print(
    `\n${results.length} ${results.length === 1 ? "repository" : "repositories"}: ${sum((r) => r.keep.length)} kept, ${removed}${would} removed, ` +
      `${sum((r) => r.orphans.length)} orphans${would} collected, ${bytes(sum((r) => r.bytesFreed))}${would} freed`,
  );
  const classMoves = [...moves].map(([move, count]) => `${move}: ${count}`).join(", ");
  ctx.print(
    `Storage class moves: ${classMoves || "none"}; expiries moved forward: ${sum((r) => r.expiriesExtended)}`,
  );
  const failed = results.filter((r) => r.error !== undefined).length;
  if (failed) ctx.print(`${failed} repositories FAILED.`);
}
