// What became of a restore to GitHub, kept in the journal beside its steps (under its own id, so
// reading it is one small read however many steps the restore has): restored, failed (refused
// included), or continuing (a run stopped at its deadline and handed the rest on). The cloud's
// restoreOrg reads it back for its report; each run of the restore writes it last.
import type { RestoreJournal } from "../ports.js";

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
