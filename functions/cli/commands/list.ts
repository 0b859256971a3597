// `infinity-backup list`: the snapshots of one repository, or of all, newest first.
import { shreddedRepos } from "../../core/keys/repository-keys.js";
import type { Snapshot } from "../../core/model.js";
import { age, bytes, table } from "../format.js";
import { EXIT, type Context } from "../context.js";

export async function listCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const repos = options.repo.length ? options.repo : await app.index.repos();
  const snapshots: Snapshot[] = [];
  for (const repo of repos) snapshots.push(...(await app.index.list(repo)));
  // A forgotten repository's snapshots stay listed until prune removes them, marked shredded.
  const forgotten = await shreddedRepos(app.keyRecords);
  const shredded = (s: Snapshot) => forgotten.get(s.lineage ?? s.repo)?.shredded;
  if (options.json) {
    ctx.print(
      JSON.stringify(
        snapshots.map((s) => ({ ...s, ...(shredded(s) ? { shredded: shredded(s) } : {}) })),
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  if (!snapshots.length) {
    ctx.print(
      options.repo.length
        ? `No snapshots of ${options.repo.join(", ")}.`
        : "No snapshots yet. Run `infinity-backup backup`.",
    );
    return options.repo.length ? EXIT.failed : EXIT.ok;
  }
  const now = app.clock.now();
  ctx.print(
    table(
      ["repository", "snapshot", "kind", "taken", "last seen unchanged", ">refs", ">size", "verified"],
      snapshots.map((s) => [
        s.repo,
        s.id,
        s.kind === "incremental"
          ? `incr. of …${s.parentId?.slice(-8)}`
          : s.kind === "layered"
            ? `layered (${s.layers?.length ?? 0})`
            : "full",
        s.takenAt,
        s.confirmedAt === s.takenAt ? "-" : age(s.confirmedAt, now),
        String(Object.keys(s.refs).length),
        bytes(s.size),
        shredded(s)
          ? `SHREDDED ${shredded(s)!.at}`
          : s.verification
            ? `${s.verification.verdict} ${s.verification.level} ${age(s.verification.at, now)}`
            : "NOT VERIFIED",
      ]),
    ),
  );
  return EXIT.ok;
}
