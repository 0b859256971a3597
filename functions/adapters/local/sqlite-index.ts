// SnapshotIndex in one SQLite file, for local mode: the snapshot records and the repo leases.
// better-sqlite3 is synchronous; each call is short, so it sits behind the async port as is.
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as path from "node:path";
import { hostname, tmpdir } from "node:os";
import Database from "better-sqlite3";
import {
  BackupError,
  ConflictError,
  NotFoundError,
  UserInputError,
  describeError,
} from "../../core/errors.js";
import {
  SUMMARY_LEFT_OUT,
  type RepositoryRecord,
  type Snapshot,
  type SnapshotSummary,
  type Verification,
} from "../../core/model.js";
import { namesOf } from "../../core/lineage/registry.js";
import { SqliteKeyRecords } from "./sqlite-key-records.js";
import { SqliteLayerIndex } from "./sqlite-layers.js";
import { SqliteDrillRecords } from "./sqlite-drills.js";
import { findSnapshot, insertSnapshot, instant } from "./sqlite-snapshot-rows.js";
import { sameCommit } from "../../core/snapshot-identity.js";
import {
  systemClock,
  type BackupAttempt,
  type Clock,
  type Lease,
  type SnapshotIndex,
} from "../../core/ports.js";

/** Schema steps; step i takes the file from user_version i to i + 1. Only ever append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE snapshots (
     repo TEXT NOT NULL,
     id TEXT NOT NULL,
     taken_at TEXT NOT NULL, -- takenAt normalized (toISOString), so text order is time order
     record TEXT NOT NULL,   -- the Snapshot as JSON, exactly as committed and then updated
     PRIMARY KEY (repo, id)
   ) WITHOUT ROWID;
   CREATE INDEX snapshots_by_time ON snapshots (repo, taken_at, id);
   CREATE TABLE leases (
     repo TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at_ms INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  `CREATE TABLE attempts (
     repo TEXT PRIMARY KEY,
     at TEXT NOT NULL,       -- the attempt's start, normalized (toISOString)
     record TEXT NOT NULL    -- the BackupAttempt as JSON
   ) WITHOUT ROWID;`,
  // The repository registry (core/lineage/): records by the host's id, and every name each record
  // answers to (key, current and former names). Snapshots keep their table: `repo` is the lineage key.
  `CREATE TABLE repositories (
     id INTEGER PRIMARY KEY,
     record TEXT NOT NULL    -- the RepositoryRecord as JSON
   );
   CREATE TABLE repository_names (
     name TEXT NOT NULL,
     id INTEGER NOT NULL REFERENCES repositories (id),
     PRIMARY KEY (name, id)
   ) WITHOUT ROWID;`,
  // Key records (core/keys/): each repository's wrapped keys, each archive's wrapped data key, and
  // the redaction list (sqlite-key-records.ts).
  `CREATE TABLE repository_keys (
     repo TEXT PRIMARY KEY,  -- the lineage key
     record TEXT NOT NULL    -- the RepositoryKeySet as JSON
   ) WITHOUT ROWID;
   CREATE TABLE data_keys (
     repo TEXT NOT NULL,
     snapshot_id TEXT NOT NULL,
     key_id TEXT NOT NULL,   -- the repository key that wrapped it
     wrapped TEXT NOT NULL,  -- base64 of 61 bytes (docs/FORMAT.md)
     PRIMARY KEY (repo, snapshot_id)
   ) WITHOUT ROWID;
   CREATE TABLE redactions (
     login TEXT PRIMARY KEY, -- lower case
     record TEXT NOT NULL    -- the Redaction as JSON
   ) WITHOUT ROWID;`,
  // Shared pack layers (sqlite-layers.ts): each lineage's layer records and its generation.
  `CREATE TABLE layers (
     repo TEXT NOT NULL,     -- the lineage key
     id TEXT NOT NULL,
     created_at TEXT NOT NULL, -- createdAt normalized (toISOString)
     record TEXT NOT NULL,   -- the Layer as JSON
     PRIMARY KEY (repo, id)
   ) WITHOUT ROWID;
   CREATE TABLE layer_state (
     repo TEXT PRIMARY KEY,  -- the lineage key
     generation INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Restore drill results (sqlite-drills.ts): one row per drill of a repository.
  `CREATE TABLE drills (
     repo TEXT NOT NULL,     -- the lineage key
     at TEXT NOT NULL,       -- when the drill ended, normalized (toISOString)
     snapshot_id TEXT NOT NULL,
     record TEXT NOT NULL,   -- the DrillRecord as JSON
     PRIMARY KEY (repo, at, snapshot_id)
   ) WITHOUT ROWID;
   CREATE INDEX drills_by_time ON drills (at);`,
];

/** Brings the file up to the newest schema; refuses a file written by a newer version. */
export function migrate(db: Database.Database, file = db.name): void {
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new BackupError(
        `snapshot index ${file} has schema version ${version}, newer than this program knows ` +
          `(${MIGRATIONS.length}); upgrade infinity-backup`,
        { permanent: true },
      );
    }
    for (const [step, sql] of MIGRATIONS.entries()) if (step >= version) db.exec(sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate(); // immediate: two processes opening a new file at once migrate one after the other
}

/**
 * Opens a copy of the file (and its write-ahead log, which may hold the last commits) read-only:
 * SQLite cannot open a WAL file in place without writing its -shm beside it, which a read-only
 * folder refuses and a writable one should not get. The index is small; the copy is private.
 */
function openCopy(file: string): { db: Database.Database; copy: string } {
  if (!existsSync(file)) throw new NotFoundError(`no snapshot index at ${file}`);
  // Named as core/scratch.ts names scratch, so that a later run sweeps a killed run's copy.
  const copy = mkdtempSync(path.join(tmpdir(), `infinity-scratch-index.${process.pid}.`));
  try {
    const target = path.join(copy, "index.sqlite");
    copyFileSync(file, target);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${target}-wal`);
    return { db: new Database(target, { readonly: true, fileMustExist: true }), copy };
  } catch (err) {
    rmSync(copy, { recursive: true, force: true });
    throw err;
  }
}

/** A file opened read-only cannot be migrated: one newer than this program is refused. */
function checkVersion(db: Database.Database, file: string): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new BackupError(
      `snapshot index ${file} has schema version ${version}, newer than this program knows ` +
        `(${MIGRATIONS.length}); upgrade infinity-backup`,
      { permanent: true },
    );
  }
}

export class SqliteSnapshotIndex implements SnapshotIndex {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  /** The private copy a read-only index is read from, removed on close. */
  private readonly copy: string | undefined;

  /**
   * `readOnly`: open an existing file for reading only (a read-only copy of the data folder); it
   * is never created, migrated or written, and a write fails at once, permanently.
   */
  constructor(options: { path: string; clock?: Clock; readOnly?: boolean }) {
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
    try {
      if (options.readOnly) {
        ({ db: this.db, copy: this.copy } = openCopy(this.path));
        checkVersion(this.db, this.path);
        return;
      }
      if (this.path !== ":memory:") mkdirSync(path.dirname(path.resolve(this.path)), { recursive: true });
      this.db = new Database(this.path);
    } catch (err) {
      throw new BackupError(`could not open the snapshot index ${this.path}: ${describeError(err)}`, {
        cause: err,
      });
    }
    try {
      this.db.pragma("journal_mode = WAL"); // readers (the CLI) never block the writer
      this.db.pragma("synchronous = FULL"); // a snapshot exists once commit resolves, power cut or not
      migrate(this.db, this.path);
    } catch (err) {
      this.db.close();
      if (err instanceof BackupError) throw err;
      throw new BackupError(`could not open the snapshot index ${this.path}: ${describeError(err)}`, {
        cause: err,
      });
    }
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
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new UserInputError(`lease ttl must be positive, got ${ttlMs}`);
    return this.run("acquireLease", () => {
      const now = this.clock.now().getTime();
      const current = this.db
        .prepare<[string], { holder: string; expires_at_ms: number }>(
          "SELECT holder, expires_at_ms FROM leases WHERE repo = ?",
        )
        .get(repo);
      // A lease is held up to, not including, its expiresAt.
      const live =
        current !== undefined &&
        current.holder !== holder &&
        current.expires_at_ms > now &&
        !holderIsGone(current.holder);
      if (live) return undefined;
      const expiresAt = now + Math.ceil(ttlMs);
      this.db
        .prepare(
          `INSERT INTO leases (repo, holder, expires_at_ms) VALUES (?, ?, ?)
           ON CONFLICT (repo) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms`,
        )
        .run(repo, holder, expiresAt);
      return { repo, holder, expiresAt: new Date(expiresAt).toISOString() };
    });
  }

  async releaseLease(repo: string, holder: string): Promise<void> {
    this.run("releaseLease", () => {
      this.db.prepare("DELETE FROM leases WHERE repo = ? AND holder = ?").run(repo, holder);
    });
  }

  async leases(): Promise<Lease[]> {
    const now = this.clock.now().getTime();
    const rows = this.translate("leases", () =>
      this.db
        .prepare<[number], { repo: string; holder: string; expires_at_ms: number }>(
          "SELECT repo, holder, expires_at_ms FROM leases WHERE expires_at_ms > ? ORDER BY repo",
        )
        .all(now),
    );
    return rows
      .filter((r) => !holderIsGone(r.holder))
      .map((r) => ({ repo: r.repo, holder: r.holder, expiresAt: new Date(r.expires_at_ms).toISOString() }));
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
    return this.translate("repositories", () =>
      this.db
        .prepare<[], { record: string }>("SELECT record FROM repositories ORDER BY id")
        .all()
        .map((row) => JSON.parse(row.record) as RepositoryRecord),
    );
  }

  async repositoriesNamed(name: string): Promise<RepositoryRecord[]> {
    return this.translate("repositoriesNamed", () =>
      this.db
        .prepare<[string], { record: string }>(
          `SELECT record FROM repositories
           WHERE id IN (SELECT id FROM repository_names WHERE name = ?) ORDER BY id`,
        )
        .all(name)
        .map((row) => JSON.parse(row.record) as RepositoryRecord),
    );
  }

  async updateRepository(
    id: number,
    change: (current: RepositoryRecord | undefined) => RepositoryRecord | undefined,
  ): Promise<RepositoryRecord | undefined> {
    if (!Number.isSafeInteger(id)) throw new UserInputError(`repository id ${id} is not an integer`);
    return this.run("updateRepository", () => {
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

/**
 * Whether a holder named "<id>@<host>:<pid>" (core/lease.ts) is a process of this machine that no
 * longer runs: a local index is shared only by processes of one machine, so a killed run's lease
 * is taken at once instead of after its expiry. Any other form, or another host, counts as alive.
 */
function holderIsGone(holder: string): boolean {
  const match = /@([^@:]+):(\d+)$/.exec(holder);
  if (!match || match[1] !== hostname()) return false;
  try {
    process.kill(Number(match[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
