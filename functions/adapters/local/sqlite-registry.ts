// The repository registry of the local index (core/lineage/; tables repositories and
// repository_names, schema in sqlite-schema.ts): records by the host's id, and every name each
// record answers to, rewritten with the record in one transaction.
import type Database from "better-sqlite3";
import { UserInputError } from "../../core/errors.js";
import { namesOf } from "../../core/lineage/registry.js";
import type { RepositoryRecord } from "../../core/model.js";
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";

export class SqliteRegistry {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  all(): RepositoryRecord[] {
    return sqliteCall(this.failed("repositories"), () =>
      this.db
        .prepare<[], { record: string }>("SELECT record FROM repositories ORDER BY id")
        .all()
        .map((row) => JSON.parse(row.record) as RepositoryRecord),
    );
  }

  named(name: string): RepositoryRecord[] {
    return sqliteCall(this.failed("repositoriesNamed"), () =>
      this.db
        .prepare<[string], { record: string }>(
          `SELECT record FROM repositories
           WHERE id IN (SELECT id FROM repository_names WHERE name = ?) ORDER BY id`,
        )
        .all(name)
        .map((row) => JSON.parse(row.record) as RepositoryRecord),
    );
  }

  update(
    id: number,
    change: (current: RepositoryRecord | undefined) => RepositoryRecord | undefined,
  ): RepositoryRecord | undefined {
    if (!Number.isSafeInteger(id)) throw new UserInputError(`repository id ${id} is not an integer`);
    return sqliteWrite(this.db, this.failed("updateRepository"), () => {
      const row = this.db
        .prepare<[number], { record: string }>("SELECT record FROM repositories WHERE id = ?")
        .get(id);
      const current = row === undefined ? undefined : (JSON.parse(row.record) as RepositoryRecord);
      const next = change(current);
      if (next === undefined) return current;
      if (next.id !== id) throw new UserInputError(`repository record ${next.id} stored as ${id}`);
      this.db
        .prepare(
          `INSERT INTO repositories (id, record) VALUES (?, ?)
           ON CONFLICT (id) DO UPDATE SET record = excluded.record`,
        )
        .run(id, JSON.stringify(next));
      this.db.prepare("DELETE FROM repository_names WHERE id = ?").run(id);
      const insert = this.db.prepare("INSERT OR IGNORE INTO repository_names (name, id) VALUES (?, ?)");
      for (const name of namesOf(next)) insert.run(name, id);
      return next;
    });
  }

  private failed(what: string): () => string {
    return () => `snapshot index ${this.file}: ${what} failed`;
  }
}
