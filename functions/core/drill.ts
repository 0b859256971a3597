// Restore drills: proof that recovery works, without waiting for a disaster. A drill restores a
// sample of repositories from their latest snapshot into scratch space, checks each against the
// index (refs and HEAD equal the snapshot's, `git fsck --full` clean), measures the restore time
// against the RTO, and records the result in the audit trail ("drill.passed" / "drill.failed").
// The sample always holds the largest repository and the one whose last drill is oldest.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { AuditEntry } from "./audit-chain.js";
import type { Deps, ProgressListener } from "./deps.js";
import { describeError } from "./errors.js";
import { diffRefs, fsck, readRefs } from "./git/local-repo.js";
import type { Snapshot } from "./model.js";
import type { AuditReader } from "./ports.js";
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

export interface DrillResult {
  repo: string;
  snapshotId: string;
  takenAt: string;
  verdict: "passed" | "failed";
  seconds: number;
  withinRto: boolean;
  refs: number;
  bytes: number;
  detail?: string;
}

export async function runDrill(deps: Deps, options: DrillOptions): Promise<DrillResult[]> {
  const latest = (
    await Promise.all((options.repos ?? (await deps.index.repos())).map((repo) => deps.index.latest(repo)))
  ).filter((s): s is Snapshot => s !== undefined);
  const chosen = options.repos
    ? latest
    : pick(latest, options.sample ?? 3, await lastDrills(options.trail), options.random);
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

/** repo -> when its last drill ran, from the audit trail. */
async function lastDrills(trail: AuditReader | undefined): Promise<Map<string, string>> {
  const last = new Map<string, string>();
  if (!trail) return last;
  for await (const stored of trail.stored()) {
    const e = stored.value as AuditEntry | undefined;
    if (e?.repo && typeof e.action === "string" && e.action.startsWith("drill.")) last.set(e.repo, e.at);
  }
  return last;
}

async function drillOne(
  deps: Deps,
  snapshot: Snapshot,
  actor: string,
  onProgress: ProgressListener | undefined,
): Promise<DrillResult> {
  const scratch = await makeScratch("drill");
  const base = { repo: snapshot.repo, snapshotId: snapshot.id, takenAt: snapshot.takenAt };
  let result: DrillResult;
  try {
    const target = join(scratch, "repo.git");
    const outcome = await restoreRepo(
      deps,
      { repo: snapshot.repo, snapshotId: snapshot.id, target: { kind: "path", path: target } },
      { actor: `drill:${actor}`, ...(onProgress ? { onProgress } : {}) },
    );
    const problems: string[] = [];
    const refsDiffer = diffRefs(snapshot.refs, await readRefs(target));
    if (refsDiffer) problems.push(`refs differ from the index: ${refsDiffer}`);
    try {
      await fsck(target, "full");
    } catch (err) {
      problems.push(describeError(err));
    }
    result = {
      ...base,
      verdict: problems.length ? "failed" : "passed",
      seconds: outcome.seconds,
      withinRto: outcome.seconds <= RTO_SECONDS,
      refs: outcome.refs,
      bytes: outcome.bytes,
      ...(problems.length ? { detail: problems.join("; ") } : {}),
    };
  } catch (err) {
    result = {
      ...base,
      verdict: "failed",
      seconds: 0,
      withinRto: false,
      refs: 0,
      bytes: 0,
      detail: describeError(err),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
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
      ...(result.detail ? { detail: result.detail } : {}),
    },
  });
  return result;
}
