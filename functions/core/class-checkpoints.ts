// Storage-class replays kept between processes. The storage report replays prune's class choice
// for every repository (expected-classes.ts) and remembers each replay in memory; a process just
// started (every `status`, `serve`'s first page, a new backupHealth instance) would replay each
// repository from its first snapshot: about 18 ms a repository with years of history, 95 s at
// 5,000. So prune keeps each repository's replay as it leaves it, and the report keeps the ones it
// had to start anew; a fresh process adopts those and replays only what came after.
// A checkpoint is a cache: one lost, unreadable or stale costs a replay, never a wrong class.
import type { Deps } from "./deps.js";
import {
  adoptReplay,
  expectedClasses,
  replayCheckpoint,
  replayKey,
  replayResumes,
} from "./expected-classes.js";
import { lineageKeyOf } from "./keys/repository-keys.js";
import type { SnapshotSummary } from "./model.js";
import type { ClassCheckpoints } from "./ports.js";
import type { RetentionPolicy } from "./retention-policy.js";

/** What a replay is made for: the same three the storage report passes. */
export interface ReplaySetting {
  policy: RetentionPolicy;
  now: Date;
  newObjectClass: string;
}

/**
 * Before a report: every repository whose remembered replay cannot resume adopts its kept one.
 * Resolves with the keys of those that will still replay from the start (keep them afterwards).
 */
export async function adoptKeptReplays(
  kept: ClassCheckpoints | undefined,
  repos: readonly (readonly SnapshotSummary[])[],
  setting: ReplaySetting,
): Promise<string[]> {
  const cold = new Map<string, readonly SnapshotSummary[]>();
  for (const snapshots of repos) {
    const key = replayKey(snapshots);
    if (key !== undefined && !resumes(snapshots, setting)) cold.set(key, snapshots);
  }
  if (cold.size === 0 || kept === undefined) return [...cold.keys()];
  // Unreadable checkpoints are no checkpoints: the report replays, as it did before they existed.
  const texts = await kept.classCheckpoints([...cold.keys()]).catch(() => new Map<string, string>());
  const still: string[] = [];
  for (const [key, snapshots] of cold) {
    const text = texts.get(key);
    const { policy, now, newObjectClass } = setting;
    if (text === undefined || !adoptReplay(key, text, snapshots, policy, now, newObjectClass))
      still.push(key);
  }
  return still;
}

/**
 * Keeps this process's replays of `keys` (those it has). Never throws: a checkpoint not kept costs
 * the next fresh process a replay. Resolves with how many were kept.
 */
export async function keepReplays(
  kept: ClassCheckpoints | undefined,
  keys: readonly string[],
): Promise<number> {
  if (kept === undefined || keys.length === 0) return 0;
  const entries = new Map<string, string>();
  for (const key of keys) {
    const text = replayCheckpoint(key);
    if (text !== undefined) entries.set(key, text);
  }
  if (entries.size === 0) return 0;
  return kept.saveClassCheckpoints(entries).then(
    () => entries.size,
    () => 0,
  );
}

/**
 * Replays `repo`'s classes at `setting.now` from its index records and keeps the replay: what prune
 * does once it changed a repository, so the next report resumes from here. Resolves with whether a
 * checkpoint was kept.
 */
export async function keepRepoReplay(
  deps: Pick<Deps, "index" | "classCheckpoints">,
  repo: string,
  setting: ReplaySetting,
): Promise<boolean> {
  if (deps.classCheckpoints === undefined) return false;
  const snapshots = await deps.index.list(repo);
  const key = replayKey(snapshots);
  if (key === undefined) {
    // No snapshot left to say its lineage: the index resolves the name, as a record would.
    const lineage = await lineageKeyOf(deps.index, repo);
    await deps.classCheckpoints.forgetClassCheckpoint(lineage).catch(() => undefined);
    return false;
  }
  expectedClasses(snapshots, setting.policy, setting.now, setting.newObjectClass);
  return (await keepReplays(deps.classCheckpoints, [key])) === 1;
}

function resumes(
  snapshots: readonly SnapshotSummary[],
  { policy, now, newObjectClass }: ReplaySetting,
): boolean {
  return replayResumes(snapshots, policy, now, newObjectClass);
}
