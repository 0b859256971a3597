// The RestoreJournal on this machine: one SQLite table beside the index's (the same file by
// default), a row per step of each restore to GitHub.
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { BackupError, describeError } from "../../core/errors.js";
import type { JournalEntry, RestoreJournal } from "../../core/ports.js";

type Row = { key: string; state: "intent" | "done"; result: string | null };

export class SqliteRestoreJournal implements RestoreJournal {
  private readonly db: Database.Database;

  constructor(file: string) {
    try {
      if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.db = new Database(file);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("busy_timeout = 5000");
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS restore_journal (
           restore_id TEXT NOT NULL,
           key TEXT NOT NULL,
           state TEXT NOT NULL CHECK (state IN ('intent', 'done')),
           result TEXT, -- JSON, once done
           PRIMARY KEY (restore_id, key)
         ) WITHOUT ROWID;`,
      );
    } catch (err) {
      throw new BackupError(`could not open the restore journal ${file}: ${describeError(err)}`, {
        cause: err,
      });
    }
  }

  entries(restoreId: string): Promise<JournalEntry[]> {
    const rows = this.db
      .prepare<[string], Row>(`SELECT key, state, result FROM restore_journal WHERE restore_id = ?`)
      .all(restoreId);
    return Promise.resolve(
      rows.map((r) => ({
        key: r.key,
        state: r.state,
        ...(r.result === null ? {} : { result: JSON.parse(r.result) as Record<string, unknown> }),
      })),
    );
  }

  intend(restoreId: string, key: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO restore_journal (restore_id, key, state) VALUES (?, ?, 'intent') ON CONFLICT DO NOTHING`,
      )
      .run(restoreId, key);
    return Promise.resolve();
  }

  complete(restoreId: string, key: string, result: Record<string, unknown>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO restore_journal (restore_id, key, state, result) VALUES (?, ?, 'done', ?)
         ON CONFLICT (restore_id, key) DO UPDATE SET state = 'done', result = excluded.result`,
      )
      .run(restoreId, key, JSON.stringify(result));
    return Promise.resolve();
  }

  close(): void {
    this.db.close();
  }
}
