// Restore drills: proof that recovery works, without waiting for a disaster. A drill restores a
// sample of repositories from their latest snapshot into scratch space, times the restore against
// the RTO, and checks what came back against the index: refs and HEAD equal the snapshot's,
// `git fsck --full` clean, what git does not prove (metadata item counts, attachments, LFS
// objects, wiki; content-check.ts) from the files the restore read, each archive read once, and
// every LFS pointer the refs reach restored with its object. The result is a drill record in the
// index (DrillRecords) and an audit entry ("drill.passed" / "drill.failed"). The sample always
// holds the largest repository and the one whose last drill is oldest; forgotten (shredded)
// repositories are left out of it.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { AuditEntry } from "./audit-chain.js";
import { unavailableLfsOf } from "./layers/lfs-unavailable.js";
import { resolveLayers } from "./layers/resolve.js";
import type { Deps, ProgressListener } from "./deps.js";
import { describeError } from "./errors.js";
import { diffRefs, fsck, readRefs } from "./git/local-repo.js";
import type { Snapshot } from "./model.js";
import type { AuditReader, DrillCheck, DrillRecord } from "./ports.js";
import { ContentsWatch, contentArchives } from "./content-check.js";
import { checkRestoredPointers } from "./lfs/pointer-check.js";
import { restoreRepo } from "./restore.js";
import { makeScratch } from "./scratch.js";
import { RTO_SECONDS } from "./status-view.js";

export interface DrillOptions {
  actor: string;
  /** How many repositories (default 3); `repos` names them instead. */
  sample?: number;
  repos?: readonly string[];
  /** Where earlier drills are read from, to pick the repository drilled longest ago. */
  trail?: AuditReader;
  /** For the random part of the sample; Math.random by default. */
  random?: () => number;
  onProgress?: ProgressListener;
  /**
   * Drill here only the picked repositories (sampled or named) whose latest archive is at most
   * this big (a function's scratch space is memory); each larger one is told to `onSkipped`
   * instead, for restoreDrill to hand to the Cloud Run job, which drills it without this bound.
   */
  maxBytes?: number;
  onSkipped?: (repo: string, bytes: number) => void;
  /** Told as each repository's drill ends. */
  onResult?: (result: DrillResult, done: number, of: number) => void;
}

/** A drill record, with when the drilled snapshot was taken. */
export interface DrillResult extends DrillRecord {
  takenAt: string;
}

export async function runDrill(deps: Deps, options: DrillOptions): Promise<DrillResult[]> {
  const latest = (
    await Promise.all((options.repos ?? (await deps.index.repos())).map((repo) => deps.index.latest(repo)))
  ).filter((s): s is Snapshot => s !== undefined);
  const chosen = options.repos
    ? latest
    : pick(
        await notShredded(deps, latest),
        options.sample ?? 3,
        await lastDrills(deps, latest, options.trail),
        options.random,
      );
  const fits = (s: Snapshot) => options.maxBytes === undefined || s.size <= options.maxBytes;
  for (const s of chosen.filter((s) => !fits(s))) options.onSkipped?.(s.repo, s.size);
  const picked = chosen.filter(fits);
  const results: DrillResult[] = [];
  for (const snapshot of picked) {
    results.push(await drillOne(deps, snapshot, options.actor, options.onProgress));
    options.onResult?.(results.at(-1)!, results.length, picked.length);
  }
  return results;
}

/** The largest, the one drilled longest ago (never drilled first), then random others. */
function pick(
  latest: Snapshot[],
  sample: number,
  drilled: Map<string, string>,
  random: () => number = Math.random,
): Snapshot[] {
  const chosen = new Map<string, Snapshot>();
  const add = (s: Snapshot | undefined) => s && chosen.size < sample && chosen.set(s.repo, s);
  add([...latest].sort((a, b) => b.size - a.size)[0]);
  add([...latest].sort((a, b) => (drilled.get(a.repo) ?? "").localeCompare(drilled.get(b.repo) ?? ""))[0]);
  const rest = latest.filter((s) => !chosen.has(s.repo));
  while (chosen.size < sample && rest.length) add(rest.splice(Math.floor(random() * rest.length), 1)[0]);
  return [...chosen.values()];
}

/**
 * repo -> when its last drill ran: the index's drill records, and for a repository they hold none
 * of, the audit trail (drills made before the records existed); the trail is read only then.
 */
async function lastDrills(
  deps: Pick<Deps, "drills">,
  latest: readonly Snapshot[],
  trail: AuditReader | undefined,
): Promise<Map<string, string>> {
  const last = new Map((await deps.drills?.lastDrills())?.map((r) => [r.repo, r.at]) ?? []);
  if (!trail || latest.every((s) => last.has(s.repo))) return last;
  const fromTrail = new Map<string, string>();
  for await (const stored of trail.stored()) {
    const e = stored.value as AuditEntry | undefined;
    if (e?.repo && typeof e.action === "string" && e.action.startsWith("drill.")) fromTrail.set(e.repo, e.at);
  }
  for (const [repo, at] of fromTrail) if (!last.has(repo)) last.set(repo, at);
  return last;
}

/** A forgotten repository's keys are destroyed: nothing of it can be restored, by design. */
async function notShredded(deps: Pick<Deps, "keyRecords">, latest: Snapshot[]): Promise<Snapshot[]> {
  if (!deps.keyRecords) return latest;
  const shredded = new Set((await deps.keyRecords.keySets()).filter((k) => k.shredded).map((k) => k.repo));
  return latest.filter((s) => !shredded.has(s.lineage ?? s.repo));
}

/**
 * The LFS objects recorded as unavailable for what `snapshot` restores: its chain's manifests name
 * them all. A layered snapshot's own manifest names none (its objects are in its layers), so for
 * it they are those its layers record (core/layers/lfs-unavailable.ts), and those the index
 * records of the repository's snapshots list (at most LFS_UNAVAILABLE_LISTED each; layers written
 * before layers recorded them have only these).
 */
async function recordedUnavailable(
  deps: Pick<Deps, "index" | "layers">,
  snapshot: Snapshot,
  fromManifests: ReadonlySet<string>,
): Promise<ReadonlySet<string>> {
  if (snapshot.kind !== "layered") return fromManifests;
  const records = await deps.index.list(snapshot.repo);
  const layers = deps.layers
    ? resolveLayers(snapshot, await deps.layers.layers(snapshot.lineage ?? snapshot.repo))
    : [];
  return new Set([
    ...fromManifests,
    ...unavailableLfsOf(layers),
    ...records.flatMap((s) => Object.keys(s.lfs?.unavailable ?? {})),
  ]);
}

async function drillOne(
  deps: Deps,
  snapshot: Snapshot,
  actor: string,
  onProgress: ProgressListener | undefined,
): Promise<DrillResult> {
  const scratch = await makeScratch("drill");
  const checks: DrillCheck[] = ["restore"];
  const problems: string[] = [];
  /** Runs one check; a failure is a finding (its words kept), and the next check still runs. */
  const run = async (names: DrillCheck[], check: () => Promise<DrillCheck[] | void>) => {
    try {
      checks.push(...((await check()) ?? names));
    } catch (err) {
      checks.push(...names);
      problems.push(describeError(err));
    }
  };
  let restored: { seconds: number; refs: number; bytes: number } | undefined;
  try {
    const target = join(scratch, "repo.git");
    const watch = new ContentsWatch();
    const outcome = await restoreRepo(
      deps,
      { repo: snapshot.repo, snapshotId: snapshot.id, target: { kind: "path", path: target } },
      { actor: `drill:${actor}`, observer: watch, ...(onProgress ? { onProgress } : {}) },
    );
    restored = { seconds: outcome.seconds, refs: outcome.refs, bytes: outcome.bytes };
    await run(["refs"], async () => {
      const differ = diffRefs(snapshot.refs, await readRefs(target));
      if (differ) throw new Error(`refs differ from the index: ${differ}`);
    });
    await run(["fsck"], async () => void (await fsck(target, "full")));
    await run(["manifest"], async () => watch.verdict(await contentArchives(deps, snapshot)));
    await run(["lfs-pointers"], async () => {
      const missing = await recordedUnavailable(deps, snapshot, watch.unavailableLfs);
      return (await checkRestoredPointers(target, missing)) ? ["lfs-pointers"] : [];
    });
  } catch (err) {
    problems.push(describeError(err)); // the restore itself failed: nothing else to check
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const result: DrillResult = {
    repo: snapshot.repo,
    snapshotId: snapshot.id,
    takenAt: snapshot.takenAt,
    at: deps.clock.now().toISOString(),
    verdict: problems.length ? "failed" : "passed",
    seconds: restored?.seconds ?? 0,
    withinRto: restored !== undefined && restored.seconds <= RTO_SECONDS,
    refs: restored?.refs ?? 0,
    bytes: restored?.bytes ?? 0,
    ...(problems.length ? { detail: problems.join("; ") } : {}),
    checks,
  };
  const { takenAt: _, ...record } = result;
  await deps.drills?.recordDrill(record);
  await deps.audit.record({
    action: `drill.${result.verdict}`,
    repo: snapshot.repo,
    snapshotId: snapshot.id,
    actor,
    outcome: result.verdict === "passed" ? "success" : "failure",
    details: {
      seconds: result.seconds,
      withinRto: result.withinRto,
      rtoSeconds: RTO_SECONDS,
      refs: result.refs,
      bytes: result.bytes,
      checks: result.checks,
      ...(result.detail ? { detail: result.detail } : {}),
    },
  });
  return result;
}
