// ClassCheckpoints in the local index's SQLite file (table class_checkpoints; schema in
// sqlite-schema.ts): one row per repository, its storage-class replay as opaque text.
import type Database from "better-sqlite3";
import type { ClassCheckpoints } from "../../core/ports.js";
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";

export class SqliteClassCheckpoints implements ClassCheckpoints {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  async saveClassCheckpoints(entries: ReadonlyMap<string, string>): Promise<void> {
    sqliteWrite(
      this.db,
      () => `snapshot index ${this.file}: could not keep ${entries.size} storage-class replays`,
      () => {
        const put = this.db.prepare(
          `INSERT INTO class_checkpoints (repo, checkpoint) VALUES (?, ?)
           ON CONFLICT (repo) DO UPDATE SET checkpoint = excluded.checkpoint`,
        );
        for (const [repo, text] of entries) put.run(repo, text);
      },
    );
  }

  async classCheckpoints(keys: readonly string[]): Promise<Map<string, string>> {
    return sqliteCall(
      () => `snapshot index ${this.file}: could not read storage-class replays`,
      () => {
        const get = this.db.prepare<[string], { checkpoint: string }>(
          "SELECT checkpoint FROM class_checkpoints WHERE repo = ?",
        );
        const found = new Map<string, string>();
        for (const key of keys) {
          const row = get.get(key);
          if (row !== undefined) found.set(key, row.checkpoint);
        }
        return found;
      },
    );
  }

  async forgetClassCheckpoint(key: string): Promise<void> {
    sqliteWrite(
      this.db,
      () => `snapshot index ${this.file}: could not forget the storage-class replay of ${key}`,
      () => this.db.prepare("DELETE FROM class_checkpoints WHERE repo = ?").run(key),
    );
  }
}
