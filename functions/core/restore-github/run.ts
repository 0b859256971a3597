// One run of a restore to GitHub in the cloud, wherever it runs (restoreRepo, restoreOrgRepo, the
// Cloud Run job): until it is done or its deadline comes, and then the rest handed on, the journal
// holding everything so far. Between steps past the deadline, the rest goes where the caller says
// (restoreOrgRepo: a new run of itself; restoreRepo and the job: the job). A code push expected to
// outlast the run's time alone goes to the job at once, since a function would only be cut off in it.
import type { Deps } from "../deps.js";
import type { GitHubRestoreMessage } from "../messages.js";
import type { Publisher } from "../ports.js";
import { RestoreDeadlineError } from "./errors.js";
import { GITHUB_CONTENT_LIMITS } from "./pacing.js";
import { readOutcome, writeOutcome } from "./outcome.js";
import {
  restoreIdOf,
  restoreToGitHub,
  type GitHubRestoreOutcome,
  type GitHubRestorePorts,
} from "./restore-to-github.js";

/** A restore to run: a queued message, or restoreRepo's request (snapshot by id, time or latest). */
export type RestoreRun = Omit<GitHubRestoreMessage, "v" | "snapshotId"> & {
  snapshotId?: string;
  /** The newest snapshot at or before this time (restoreRepo's `at`), when no id is given. */
  snapshotAt?: string;
};

export interface RestoreRunOptions {
  /** How long a run has from its start to its deadline (a step boundary): seconds. */
  runSeconds: number;
  /** Where the rest goes past the deadline: a new run of restoreOrgRepo, or the job. */
  continueOn: "restore-requests" | "snapshot-large";
  /** How fast a code push goes, bytes a second: a longer one than the run has time for goes to the job. */
  pushBytesPerSecond?: number;
  /**
   * How many restores share the App's content limits at once (an organization's fan-out): each
   * paces at this share of GitHub's 80 a minute and 500 an hour, so together they stay within.
   */
  pacingShare?: number;
}

/** GitHub's content limits split `share` ways (at least one write an hour each). */
export function sharedPacing(share: number): { perMinute: number; perHour: number } {
  const n = Math.max(1, Math.floor(share));
  return {
    perMinute: Math.max(1, Math.floor(GITHUB_CONTENT_LIMITS.perMinute / n)),
    perHour: Math.max(1, Math.floor(GITHUB_CONTENT_LIMITS.perHour / n)),
  };
}

export type RestoreRunResult =
  | { state: "restored"; outcome: GitHubRestoreOutcome }
  | {
      state: "continuing";
      /** The topic the rest was published to: restore-requests (restoreOrgRepo) or snapshot-large (the job). */
      handedTo: "restore-requests" | "snapshot-large";
      snapshotId: string;
      progress: { done: number; total: number; etaSeconds?: number };
      /** Why this run stopped. */
      note: string;
    };

export async function runRestore(
  deps: Deps & { github: GitHubRestorePorts; publisher: Publisher },
  run: RestoreRun,
  options: RestoreRunOptions,
): Promise<RestoreRunResult> {
  try {
    const outcome = await restoreToGitHub(
      deps,
      {
        repo: run.repo,
        ...(run.snapshotId ? { snapshotId: run.snapshotId } : run.snapshotAt ? { at: run.snapshotAt } : {}),
        target: run.target,
        ...(run.intoExistingEmpty ? { intoExistingEmpty: true } : {}),
        // private (the default): created and kept private; else the original's visibility.
        ...(run.private ? { settings: { visibility: "private" as const } } : {}),
        ...(options.pacingShare && options.pacingShare > 1
          ? { pacing: sharedPacing(options.pacingShare) }
          : {}),
      },
      {
        actor: run.requestedBy,
        deadline: deps.clock.now().getTime() + options.runSeconds * 1000,
        runSeconds: options.runSeconds,
        ...(options.pushBytesPerSecond ? { pushBytesPerSecond: options.pushBytesPerSecond } : {}),
      },
    );
    return { state: "restored", outcome };
  } catch (err) {
    if (!(err instanceof RestoreDeadlineError) || !err.snapshotId) throw err;
    const handedTo = err.tooLong ? "snapshot-large" : options.continueOn;
    const next: GitHubRestoreMessage = {
      v: 1,
      repo: run.repo,
      snapshotId: err.snapshotId,
      target: run.target,
      private: run.private,
      requestedBy: run.requestedBy,
      ...(run.at ? { at: run.at } : {}),
      handoffs: run.handoffs + 1,
      ...(run.intoExistingEmpty ? { intoExistingEmpty: true } : {}),
    };
    await deps.publisher.publish(
      handedTo,
      handedTo === "snapshot-large" ? [{ ...next, kind: "restore" as const }] : [next],
    );
    // The outcome the run wrote says "continuing"; it now also says where.
    const restoreId = restoreIdOf(run.target, err.snapshotId);
    const written = await readOutcome(deps.github.journal, restoreId);
    if (written) await writeOutcome(deps.github.journal, restoreId, { ...written, handedTo });
    return {
      state: "continuing",
      handedTo,
      snapshotId: err.snapshotId,
      progress: err.progress ?? { done: 0, total: 0 },
      note: err.message,
    };
  }
}
