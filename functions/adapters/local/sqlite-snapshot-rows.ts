// Snapshot rows of the local index (table snapshots, schema in sqlite-schema.ts), shared by
// SnapshotIndex.commit and the layer index's T-snap, so both store a snapshot the same way.
import type Database from "better-sqlite3";
import { UserInputError } from "../../core/errors.js";
import type { Snapshot } from "../../core/model.js";

/** The snapshot record filed under `repo` (a lineage key) with `id`, inside the caller's transaction. */
export function findSnapshot(db: Database.Database, repo: string, id: string): Snapshot | undefined {
  const row = db
    .prepare<[string, string], { record: string }>("SELECT record FROM snapshots WHERE repo = ? AND id = ?")
    .get(repo, id);
  return row === undefined ? undefined : (JSON.parse(row.record) as Snapshot);
}

/** Stores a new snapshot record as `commit` does, inside the caller's transaction (T-snap's too). */
export function insertSnapshot(db: Database.Database, snapshot: Snapshot): void {
  db.prepare("INSERT INTO snapshots (repo, id, taken_at, record) VALUES (?, ?, ?, ?)").run(
    snapshot.lineage ?? snapshot.repo,
    snapshot.id,
    instant(snapshot.takenAt, "takenAt"),
    JSON.stringify(snapshot),
  );
}

/** ISO-8601 in, canonical toISOString out, so that SQLite's text order is time order. */
export function instant(value: string, field: string): string {
  const ms = Date.parse(value);
  if (typeof value !== "string" || Number.isNaN(ms)) {
    throw new UserInputError(`${field} ${JSON.stringify(value)} is not an ISO-8601 time`);
  }
  return new Date(ms).toISOString();
}
