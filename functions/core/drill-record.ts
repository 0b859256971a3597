// The rule both index backends apply to a drill record before they store it (ports.ts
// DrillRecords): it names a repository and a snapshot, and `at` is an ISO-8601 time, kept in
// its normalized form so that text order is time order.
import { UserInputError } from "./errors.js";
import type { DrillRecord } from "./ports.js";

/** The record as it is stored, `at` normalized; UserInputError naming what is wrong. */
export function storedDrillRecord(record: DrillRecord): DrillRecord {
  if (!record.repo || !record.snapshotId)
    throw new UserInputError("a drill record needs a repository and a snapshot id");
  const ms = typeof record.at === "string" ? Date.parse(record.at) : Number.NaN;
  if (Number.isNaN(ms))
    throw new UserInputError(`drill record at ${JSON.stringify(record.at)} is not an ISO-8601 time`);
  if (record.verdict !== "passed" && record.verdict !== "failed")
    throw new UserInputError(`drill verdict ${JSON.stringify(record.verdict)} is neither passed nor failed`);
  return { ...record, at: new Date(ms).toISOString() };
}

/** An ISO-8601 time normalized, for a `since` bound. */
export function drillInstant(since: string): string {
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new UserInputError(`${JSON.stringify(since)} is not an ISO-8601 time`);
  return new Date(ms).toISOString();
}
