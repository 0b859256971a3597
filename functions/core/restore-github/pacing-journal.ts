// The pacer's state kept in a restore's journal, beside its steps (under its own id, as the outcome
// is, so it is one small read): a run that continues a restore after a hand-off or a crash paces
// on from where the last one stopped, with the same hour of writes and any secondary-limit wait.
import type { RestoreJournal } from "../ports.js";
import type { PacerState } from "./pacing.js";

const KEY = "pacing";
const pacingId = (restoreId: string) => `${restoreId}#pacing`;

/** What the last run of restore `restoreId` left, or undefined for a first run. */
export async function carriedPacing(
  journal: RestoreJournal,
  restoreId: string,
): Promise<PacerState | undefined> {
  const entry = (await journal.entries(pacingId(restoreId))).find((e) => e.key === KEY);
  if (entry?.state !== "done") return undefined;
  const { starts, spacingMs, notBefore } = entry.result as Partial<PacerState>;
  // Read defensively: a damaged record costs only the carry-over, never the restore.
  if (!Array.isArray(starts) || !starts.every(Number.isFinite) || !Number.isFinite(spacingMs))
    return undefined;
  return {
    starts: [...starts].sort((a, b) => a - b),
    spacingMs: spacingMs!,
    ...(Number.isFinite(notBefore) ? { notBefore: notBefore! } : {}),
  };
}

/** A saver for the pacer: the state replaces the last one. */
export function pacingSaver(
  journal: RestoreJournal,
  restoreId: string,
): (state: PacerState) => Promise<void> {
  return (state) => journal.complete(pacingId(restoreId), KEY, { ...state });
}
