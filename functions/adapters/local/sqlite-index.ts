// SnapshotIndex in one SQLite file, for local mode: the snapshot records and backup attempts here,
// the repo leases (sqlite-leases.ts) and the repository registry (sqlite-registry.ts) beside them;
// the schema and how the file is opened in sqlite-schema.ts. better-sqlite3 is synchronous; each
// call is short, so it sits behind the async port as is.
import { rmSync } from "node:fs";
import type Database from "better-sqlite3";
import { ConflictError, NotFoundError, UserInputError } from "../../core/errors.js";
import {
  SUMMARY_LEFT_OUT,
  type RepositoryRecord,
  type Snapshot,
  type SnapshotSummary,
  type Verification,
} from "../../core/model.js";
import { sameCommit } from "../../core/snapshot-identity.js";
import {
  systemClock,
  type BackupAttempt,
  type Clock,
  type Lease,
  type SnapshotIndex,
} from "../../core/ports.js";
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";
import { SqliteClassCheckpoints } from "./sqlite-class-checkpoints.js";
import { SqliteDrillRecords } from "./sqlite-drills.js";
import { SqliteKeyRecords } from "./sqlite-key-records.js";
import { SqliteLayerIndex } from "./sqlite-layers.js";
import { SqliteLeases } from "./sqlite-leases.js";
import { SqliteRegistry } from "./sqlite-registry.js";
import { openIndexFile } from "./sqlite-schema.js";
import { findSnapshot, insertSnapshot, instant } from "./sqlite-snapshot-rows.js";

export class SqliteSnapshotIndex implements SnapshotIndex {
  readonly path: string;
  private readonly db: Database.Database;
  /** The private copy a read-only index is read from, removed on close. */
  private readonly copy: string | undefined;
  private readonly leaseTable: SqliteLeases;
  private readonly registry: SqliteRegistry;
  /** listAll's last answer, and the file's version it was read at (data_version, total_changes). */
  private lastListAll: { version: string; lists: Map<string, SnapshotSummary[]> } | undefined;

  /**
   * `readOnly`: open an existing file for reading only (a read-only copy of the data folder); it
   * is never created, migrated or written, and a write fails at once, permanently.
   */
  constructor(options: { path: string; clock?: Clock; readOnly?: boolean }) {
    this.path = options.path;
    ({ db: this.db, copy: this.copy } = openIndexFile(this.path, options.readOnly));
    this.leaseTable = new SqliteLeases(this.db, this.path, options.clock ?? systemClock);
    this.registry = new SqliteRegistry(this.db, this.path);
  }

  /** The key records and redaction list kept in the same file (core/keys/). */
  keyRecords(): SqliteKeyRecords {
    return new SqliteKeyRecords(this.db, this.path);
  }

  close(): void {
    this.db.close();
    if (this.copy) rmSync(this.copy, { recursive: true, force: true });
  }

  /** The layer records of layered snapshots, in the same file (sqlite-layers.ts). */
  layerIndex(): SqliteLayerIndex {
    return new SqliteLayerIndex(this.db, this.path);
  }

  /** Restore drill results in the same file (sqlite-drills.ts). */
  drillRecords(): SqliteDrillRecords {
    return new SqliteDrillRecords(this.db, this.path);
  }

  /** Storage-class replays kept for the status page, in the same file (sqlite-class-checkpoints.ts). */
  classCheckpoints(): SqliteClassCheckpoints {
    return new SqliteClassCheckpoints(this.db, this.path);
  }

  async commit(snapshot: Snapshot): Promise<void> {
    if (!snapshot.repo || !snapshot.id) throw new UserInputError("a snapshot needs a repo and an id");
    instant(snapshot.takenAt, "takenAt");
    const filed = snapshot.lineage ?? snapshot.repo;
    this.run("commit", () => {
      const existing = findSnapshot(this.db, filed, snapshot.id);
      if (existing === undefined) {
        insertSnapshot(this.db, snapshot);
      } else if (!sameCommit(existing, snapshot)) {
        throw new ConflictError(
          `snapshot ${snapshot.id} of ${snapshot.repo} is already committed with different content`,
        );
      }
    });
  }

  async get(repo: string, id: string): Promise<Snapshot | undefined> {
    return this.translate("get", () => this.find(repo, id));
  }

  async latest(repo: string): Promise<Snapshot | undefined> {
    return this.translate("latest", () =>
      this.one("SELECT record FROM snapshots WHERE repo = ? ORDER BY taken_at DESC, id DESC LIMIT 1", repo),
    );
  }

  async atOrBefore(repo: string, at: string): Promise<Snapshot | undefined> {
    const limit = instant(at, "at");
    return this.translate("atOrBefore", () =>
      this.one(
        "SELECT record FROM snapshots WHERE repo = ? AND taken_at <= ? ORDER BY taken_at DESC, id DESC LIMIT 1",
        repo,
        limit,
      ),
    );
  }

  async list(repo: string): Promise<Snapshot[]> {
    return this.translate("list", () =>
      this.db
        .prepare<[string], { record: string }>(
          "SELECT record FROM snapshots WHERE repo = ? ORDER BY taken_at DESC, id DESC",
        )
        .all(repo)
        .map((row) => JSON.parse(row.record) as Snapshot),
    );
  }

  async listMany(repos: readonly string[]): Promise<SnapshotSummary[][]> {
    const byRepo = new Map<string, SnapshotSummary[]>(repos.map((repo) => [repo, []]));
    // The summary leaves the ref lists and the checkpoint in the database: most of a record's bytes.
    const dropped = SUMMARY_LEFT_OUT.map((field) => `'$.${field}'`).join(", ");
    const rows = this.translate("listMany", () =>
      this.db
        .prepare<[string], { repo: string; record: string }>(
          `SELECT repo, json_remove(record, ${dropped}) AS record FROM snapshots
           WHERE repo IN (SELECT value FROM json_each(?))
           ORDER BY repo, taken_at DESC, id DESC`,
        )
        .all(JSON.stringify([...byRepo.keys()])),
    );
    for (const row of rows) byRepo.get(row.repo)!.push(JSON.parse(row.record) as SnapshotSummary);
    return repos.map((repo) => [...byRepo.get(repo)!]);
  }

  /**
   * Health's read of every repository. Kept while the file is unchanged (by this connection or by
   * another process): `serve` reloads its page with tens of thousands of records, and reading and
   * parsing them again was most of a load. The lists are copies; the summaries are shared, as
   * every reader of them only reads.
   */
  async listAll(): Promise<Map<string, SnapshotSummary[]>> {
    const version = this.translate("listAll", () => {
      const changes = this.db.prepare<[], { n: number }>("SELECT total_changes() AS n").get()!.n;
      return `${String(this.db.pragma("data_version", { simple: true }))}:${changes}`;
    });
    if (this.lastListAll?.version !== version) {
      const repos = await this.repos();
      const lists = await this.listMany(repos);
      this.lastListAll = { version, lists: new Map(repos.map((repo, i) => [repo, lists[i]!])) };
    }
    return new Map([...this.lastListAll.lists].map(([repo, list]) => [repo, [...list]]));
  }

  async repos(): Promise<string[]> {
    return this.translate("repos", () =>
      this.db
        .prepare<[], { repo: string }>("SELECT DISTINCT repo FROM snapshots ORDER BY repo")
        .all()
        .map((row) => row.repo),
    );
  }

  async confirm(repo: string, id: string, at: string): Promise<void> {
    const seen = Date.parse(instant(at, "at"));
    this.update("confirm", repo, id, (s) => {
      // Forward only: a late, replayed confirmation must not make the snapshot look staler.
      if (seen > Date.parse(s.confirmedAt)) s.confirmedAt = at;
    });
  }

  async recordVerification(repo: string, id: string, verification: Verification): Promise<void> {
    this.update("recordVerification", repo, id, (s) => {
      s.verification = { ...verification };
    });
  }

  async setHold(repo: string, id: string, hold: boolean): Promise<void> {
    this.update("setHold", repo, id, (s) => {
      if (hold) s.hold = true;
      else delete s.hold;
    });
  }

  async remove(repo: string, id: string): Promise<void> {
    this.run("remove", () => {
      const existing = this.find(repo, id);
      if (existing?.hold === true) {
        throw new ConflictError(`snapshot ${id} of ${repo} is under legal hold and cannot be removed`);
      }
      this.db.prepare("DELETE FROM snapshots WHERE repo = ? AND id = ?").run(repo, id);
    });
  }

  async acquireLease(repo: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return this.leaseTable.acquire(repo, holder, ttlMs);
  }

  async releaseLease(repo: string, holder: string): Promise<void> {
    this.leaseTable.release(repo, holder);
  }

  async leases(): Promise<Lease[]> {
    return this.leaseTable.held();
  }

  async recordAttempt(repo: string, attempt: BackupAttempt): Promise<void> {
    const at = instant(attempt.at, "at");
    this.run("recordAttempt", () => {
      this.db
        .prepare(
          `INSERT INTO attempts (repo, at, record) VALUES (?, ?, ?)
           ON CONFLICT (repo) DO UPDATE SET at = excluded.at, record = excluded.record
           WHERE excluded.at >= attempts.at`,
        )
        .run(repo, at, JSON.stringify(attempt));
    });
  }

  async attempts(): Promise<Record<string, BackupAttempt>> {
    const rows = this.translate("attempts", () =>
      this.db.prepare<[], { repo: string; record: string }>("SELECT repo, record FROM attempts").all(),
    );
    return Object.fromEntries(rows.map((r) => [r.repo, JSON.parse(r.record) as BackupAttempt]));
  }

  async repositories(): Promise<RepositoryRecord[]> {
    return this.registry.all();
  }

  async repositoriesNamed(name: string): Promise<RepositoryRecord[]> {
    return this.registry.named(name);
  }

  async updateRepository(
    id: number,
    change: (current: RepositoryRecord | undefined) => RepositoryRecord | undefined,
  ): Promise<RepositoryRecord | undefined> {
    return this.registry.update(id, change);
  }

  private find(repo: string, id: string): Snapshot | undefined {
    return findSnapshot(this.db, repo, id);
  }

  private one(sql: string, ...params: string[]): Snapshot | undefined {
    const row = this.db.prepare<string[], { record: string }>(sql).get(...params);
    return row === undefined ? undefined : (JSON.parse(row.record) as Snapshot);
  }

  /** Read-modify-write of one record, in one transaction; NotFoundError if there is none. */
  private update(what: string, repo: string, id: string, change: (snapshot: Snapshot) => void): void {
    this.run(what, () => {
      const snapshot = this.find(repo, id);
      if (snapshot === undefined) throw new NotFoundError(`snapshot ${id} of ${repo} is not in the index`);
      change(snapshot);
      this.db
        .prepare("UPDATE snapshots SET record = ? WHERE repo = ? AND id = ?")
        .run(JSON.stringify(snapshot), repo, id);
    });
  }

  /** One write transaction (sqlite-calls.ts). */
  private run<T>(what: string, work: () => T): T {
    return sqliteWrite(this.db, () => `snapshot index ${this.path}: ${what} failed`, work);
  }

  /** Translates SQLite's errors at the boundary (sqlite-calls.ts); ours pass through. */
  private translate<T>(what: string, work: () => T): T {
    return sqliteCall(() => `snapshot index ${this.path}: ${what} failed`, work);
  }
}
