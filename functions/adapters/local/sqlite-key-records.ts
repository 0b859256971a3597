// KeyRecords and the RedactionList in the local index's SQLite file (tables repository_keys,
// data_keys, redactions; schema in sqlite-schema.ts). Wrapped keys only: nothing here opens an
// archive without the key file.
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";
import type Database from "better-sqlite3";
import { UserInputError } from "../../core/errors.js";
import type {
  DataKeyRecord,
  KeyRecords,
  Redaction,
  RedactionList,
  RepositoryKeySet,
} from "../../core/ports.js";

interface DataKeyRow {
  repo: string;
  snapshot_id: string;
  key_id: string;
  wrapped: string;
}

export class SqliteKeyRecords implements KeyRecords, RedactionList {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  async keySet(repo: string): Promise<RepositoryKeySet | undefined> {
    return this.translate("read a repository's keys", () => this.findSet(repo));
  }

  async keySets(): Promise<RepositoryKeySet[]> {
    return this.translate("list repository keys", () =>
      this.db
        .prepare<[], { record: string }>("SELECT record FROM repository_keys ORDER BY repo")
        .all()
        .map((row) => JSON.parse(row.record) as RepositoryKeySet),
    );
  }

  async updateKeySet(
    repo: string,
    change: (current: RepositoryKeySet | undefined) => RepositoryKeySet | undefined,
  ): Promise<RepositoryKeySet | undefined> {
    return this.run("update a repository's keys", () => {
      const current = this.findSet(repo);
      const next = change(current);
      if (next === undefined) return current;
      if (next.repo !== repo) throw new UserInputError(`the keys of ${next.repo} stored as ${repo}'s`);
      this.db
        .prepare(
          `INSERT INTO repository_keys (repo, record) VALUES (?, ?)
           ON CONFLICT (repo) DO UPDATE SET record = excluded.record`,
        )
        .run(repo, JSON.stringify(next));
      return next;
    });
  }

  async dataKey(repo: string, snapshotId: string): Promise<DataKeyRecord | undefined> {
    return this.translate("read a data key record", () => {
      const row = this.db
        .prepare<[string, string], DataKeyRow>("SELECT * FROM data_keys WHERE repo = ? AND snapshot_id = ?")
        .get(repo, snapshotId);
      return row && fromRow(row);
    });
  }

  async dataKeys(repo: string): Promise<DataKeyRecord[]> {
    return this.translate("list data key records", () =>
      this.db
        .prepare<[string], DataKeyRow>("SELECT * FROM data_keys WHERE repo = ? ORDER BY snapshot_id")
        .all(repo)
        .map(fromRow),
    );
  }

  async putDataKey(record: DataKeyRecord): Promise<void> {
    this.run("store a data key record", () =>
      this.db
        .prepare(
          `INSERT INTO data_keys (repo, snapshot_id, key_id, wrapped) VALUES (?, ?, ?, ?)
           ON CONFLICT (repo, snapshot_id) DO UPDATE SET key_id = excluded.key_id, wrapped = excluded.wrapped`,
        )
        .run(record.repo, record.snapshotId, record.keyId, record.wrapped),
    );
  }

  async removeDataKey(repo: string, snapshotId: string): Promise<void> {
    this.run("remove a data key record", () =>
      this.db.prepare("DELETE FROM data_keys WHERE repo = ? AND snapshot_id = ?").run(repo, snapshotId),
    );
  }

  async redactions(): Promise<Redaction[]> {
    return this.translate("read the redaction list", () =>
      this.db
        .prepare<[], { record: string }>("SELECT record FROM redactions ORDER BY login")
        .all()
        .map((row) => JSON.parse(row.record) as Redaction),
    );
  }

  async putRedaction(redaction: Redaction): Promise<void> {
    this.run("add to the redaction list", () =>
      this.db
        .prepare(
          `INSERT INTO redactions (login, record) VALUES (?, ?)
           ON CONFLICT (login) DO UPDATE SET record = excluded.record`,
        )
        .run(redaction.login.toLowerCase(), JSON.stringify(redaction)),
    );
  }

  async removeRedaction(login: string): Promise<void> {
    this.run("remove from the redaction list", () =>
      this.db.prepare("DELETE FROM redactions WHERE login = ?").run(login.toLowerCase()),
    );
  }

  private findSet(repo: string): RepositoryKeySet | undefined {
    const row = this.db
      .prepare<[string], { record: string }>("SELECT record FROM repository_keys WHERE repo = ?")
      .get(repo);
    return row === undefined ? undefined : (JSON.parse(row.record) as RepositoryKeySet);
  }

  /** One write transaction (sqlite-calls.ts). */
  private run<T>(what: string, work: () => T): T {
    return sqliteWrite(this.db, () => `snapshot index ${this.file}: could not ${what}`, work);
  }

  private translate<T>(what: string, work: () => T): T {
    return sqliteCall(() => `snapshot index ${this.file}: could not ${what}`, work);
  }
}

function fromRow(row: DataKeyRow): DataKeyRecord {
  return { repo: row.repo, snapshotId: row.snapshot_id, keyId: row.key_id, wrapped: row.wrapped };
}
