// The DeliveryLog on this machine: one SQLite table of delivery ids and when each stops counting.
// One statement decides "first", so concurrent processes sharing the file agree.
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { BackupError, describeError } from "../../core/errors.js";
import type { DeliveryLog } from "../../core/ports.js";

export class SqliteDeliveryLog implements DeliveryLog {
  private readonly db: Database.Database;
  private readonly claim: Database.Statement<[string, string, string]>;

  constructor(file: string) {
    try {
      if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.db = new Database(file);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("busy_timeout = 5000");
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS deliveries (
           id TEXT PRIMARY KEY,
           expires TEXT NOT NULL -- ISO-8601 UTC: the id counts as seen until then
         ) WITHOUT ROWID;`,
      );
    } catch (err) {
      throw new BackupError(`could not open the delivery log ${file}: ${describeError(err)}`, { cause: err });
    }
    // Inserted, or an expired row taken over: either way one row changed and the caller is first.
    this.claim = this.db.prepare(
      `INSERT INTO deliveries (id, expires) VALUES (?, ?)
       ON CONFLICT(id) DO UPDATE SET expires = excluded.expires WHERE deliveries.expires <= ?`,
    );
  }

  firstSeen(id: string, ttlMs: number, now: Date): Promise<boolean> {
    const expires = new Date(now.getTime() + ttlMs).toISOString();
    // Rows long past their window go, so the table stays the size of one window.
    this.db
      .prepare(`DELETE FROM deliveries WHERE expires <= ?`)
      .run(new Date(now.getTime() - ttlMs).toISOString());
    return Promise.resolve(this.claim.run(id, expires, now.toISOString()).changes === 1);
  }

  forget(id: string): Promise<void> {
    this.db.prepare(`DELETE FROM deliveries WHERE id = ?`).run(id);
    return Promise.resolve();
  }

  close(): void {
    this.db.close();
  }
}
