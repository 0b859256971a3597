// DrillRecords in the local index's SQLite file (table drills; schema in sqlite-schema.ts): one row
// per drill, the record as JSON, keyed by repository, time and snapshot.
import type Database from "better-sqlite3";
import { drillInstant, storedDrillRecord } from "../../core/drill-record.js";
import type { DrillRecord, DrillRecords } from "../../core/ports.js";
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";

export class SqliteDrillRecords implements DrillRecords {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  async recordDrill(record: DrillRecord): Promise<void> {
    const stored = storedDrillRecord(record);
    this.run(`record the drill of ${stored.repo}`, () =>
      this.db
        .prepare(
          `INSERT INTO drills (repo, at, snapshot_id, record) VALUES (?, ?, ?, ?)
           ON CONFLICT (repo, at, snapshot_id) DO UPDATE SET record = excluded.record`,
        )
        .run(stored.repo, stored.at, stored.snapshotId, JSON.stringify(stored)),
    );
  }

  async lastDrills(): Promise<DrillRecord[]> {
    return this.rows(
      "read the last drills",
      // Of a repository's rows at its newest time, the greatest snapshot id: one row each.
      `SELECT record FROM drills d
        WHERE (d.at, d.snapshot_id) = (SELECT at, snapshot_id FROM drills e WHERE e.repo = d.repo
                                        ORDER BY at DESC, snapshot_id DESC LIMIT 1)`,
    );
  }

  async drillsSince(since: string): Promise<DrillRecord[]> {
    return this.rows(
      "read drills",
      "SELECT record FROM drills WHERE at >= ? ORDER BY at, repo, snapshot_id",
      drillInstant(since),
    );
  }

  async forgetDrills(repo: string): Promise<number> {
    return this.run(
      `forget the drills of ${repo}`,
      () => this.db.prepare("DELETE FROM drills WHERE repo = ?").run(repo).changes,
    );
  }

  private rows(what: string, sql: string, ...params: string[]): DrillRecord[] {
    return sqliteCall(
      () => `snapshot index ${this.file}: could not ${what}`,
      () =>
        this.db
          .prepare<string[], { record: string }>(sql)
          .all(...params)
          .map((row) => JSON.parse(row.record) as DrillRecord),
    );
  }

  private run<T>(what: string, work: () => T): T {
    return sqliteWrite(this.db, () => `snapshot index ${this.file}: could not ${what}`, work);
  }
}
