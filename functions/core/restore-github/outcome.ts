// What became of a restore to GitHub, kept in the journal beside its steps (under its own id, so
// reading it is one small read however many steps the restore has): restored, failed (refused
// included), or continuing (a run stopped at its deadline and handed the rest on). The cloud's
// restoreOrg reads it back for its report; each run of the restore writes it last.
import type { Deps } from "../deps.js";
import { describeError } from "../errors.js";
import type { Snapshot } from "../model.js";
import type { RestoreJournal } from "../ports.js";
import { RestoreDeadlineError } from "./errors.js";
import type { GitHubRestoreOutcome } from "./restore-to-github.js";

export type RestoreOutcomeState = "restored" | "failed" | "continuing";

export interface RestoreOutcomeRecord {
  state: RestoreOutcomeState;
  /** ISO-8601: when the run that wrote this ended. */
  at: string;
  /** Why it failed or was refused. */
  error?: string;
  /** A line for the report: what was restored, or how far the run got. */
  note?: string;
  /** Items done of total when the run ended, and the seconds it expected the rest to take. */
  done?: number;
  total?: number;
  etaSeconds?: number;
  /** Where a continuing restore went on: a new run of the function, or the Cloud Run job. */
  handedTo?: string;
}

const KEY = "outcome";
const outcomeId = (restoreId: string) => `${restoreId}#outcome`;

export async function writeOutcome(
  journal: RestoreJournal,
  restoreId: string,
  outcome: RestoreOutcomeRecord,
): Promise<void> {
  await journal.complete(outcomeId(restoreId), KEY, { ...outcome });
}

/** The last run's outcome, or undefined when no run of it has ended yet. */
export async function readOutcome(
  journal: RestoreJournal,
  restoreId: string,
): Promise<RestoreOutcomeRecord | undefined> {
  const entry = (await journal.entries(outcomeId(restoreId))).find((e) => e.key === KEY);
  return entry?.state === "done" ? (entry.result as unknown as RestoreOutcomeRecord) : undefined;
}

/** Where a run of a restore stands as it ends: done, or items done of total with the time left. */
interface RunEnd {
  restoreId: string;
  actor: string;
  /** ISO-8601: when the run ended. */
  at: string;
  progress: { done: number; total: number; etaSeconds?: number };
}

/** A restore that ended whole: on the audit trail with its counts, and its outcome "restored". */
export async function recordRestored(
  deps: Pick<Deps, "audit">,
  journal: RestoreJournal,
  end: RunEnd & { outcome: GitHubRestoreOutcome },
): Promise<void> {
  const { outcome } = end;
  const { items, releases } = outcome;
  await deps.audit.record({
    action: "restore.completed",
    repo: outcome.snapshot.repo,
    snapshotId: outcome.snapshot.id,
    actor: end.actor,
    outcome: "success",
    details: {
      target: `github:${outcome.target}`,
      resumed: outcome.resumed,
      issues: items.issues,
      pulls: items.pulls,
      pullsAsIssues: items.pullsAsIssues.length,
      placeholders: items.placeholders,
      comments: items.comments,
      releases: releases.releases,
      assets: releases.assets,
      numbersKept: outcome.numbersKept,
      writes: outcome.pacing.writes,
      mapping: outcome.mappingKey,
    },
  });
  await writeOutcome(journal, end.restoreId, {
    state: "restored",
    at: end.at,
    note:
      `${outcome.code.refs} refs, ${items.issues} issues, ${items.pulls} pull requests, ` +
      `${releases.releases} releases${outcome.resumed ? " (continued)" : ""}`,
    ...end.progress,
  });
}

/**
 * A run that stopped on `err`. At its deadline it is not a failure: every step so far is
 * journaled, the outcome says "continuing" and whoever called hands the rest on (the error is
 * given the snapshot and the progress for that). Any other error is a failure, audited with the
 * hint that running the same restore again continues it.
 */
export async function recordStopped(
  deps: Pick<Deps, "audit">,
  journal: RestoreJournal,
  err: unknown,
  end: RunEnd & { snapshot: Snapshot; target: string },
): Promise<void> {
  if (err instanceof RestoreDeadlineError) {
    err.snapshotId = end.snapshot.id;
    err.progress = end.progress;
    await writeOutcome(journal, end.restoreId, {
      state: "continuing",
      at: end.at,
      note: err.message,
      ...end.progress,
    });
    return;
  }
  await deps.audit.record({
    action: "restore.failed",
    repo: end.snapshot.repo,
    snapshotId: end.snapshot.id,
    actor: end.actor,
    outcome: "failure",
    details: {
      target: `github:${end.target}`,
      error: (err as Error).message,
      hint: "run the same restore again to continue where it stopped",
    },
  });
  await writeOutcome(journal, end.restoreId, { state: "failed", at: end.at, error: describeError(err) });
}
