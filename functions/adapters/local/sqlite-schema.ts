// The local index's SQLite file: its schema (one list of steps, only ever appended) and how it is
// opened, for writing (created and migrated) or for reading only (a private copy, never written).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import Database from "better-sqlite3";
import { BackupError, NotFoundError, describeError } from "../../core/errors.js";

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
  // Storage-class replays kept for the status page (sqlite-class-checkpoints.ts).
  `CREATE TABLE class_checkpoints (
     repo TEXT PRIMARY KEY,  -- the lineage key
     checkpoint TEXT NOT NULL -- core/expected-classes.ts replayCheckpoint
   ) WITHOUT ROWID;`,
];

/** The file's schema version; one newer than this program knows is refused, permanently. */
function knownVersion(db: Database.Database, file: string): number {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new BackupError(
      `snapshot index ${file} has schema version ${version}, newer than this program knows ` +
        `(${MIGRATIONS.length}); upgrade infinity-backup`,
      { permanent: true },
    );
  }
  return version;
}

/** Brings the file up to the newest schema; refuses a file written by a newer version. */
export function migrate(db: Database.Database, file = db.name): void {
  db.transaction(() => {
    const version = knownVersion(db, file);
    for (const [step, sql] of MIGRATIONS.entries()) if (step >= version) db.exec(sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate(); // immediate: two processes opening a new file at once migrate one after the other
}

/**
 * Opens a copy of the file (and its write-ahead log, which may hold the last commits) read-only:
 * SQLite cannot open a WAL file in place without writing its -shm beside it, which a read-only
 * folder refuses and a writable one should not get. The index is small; the copy is private.
 */
function openCopy(file: string): OpenedIndex {
  if (!existsSync(file)) throw new NotFoundError(`no snapshot index at ${file}`);
  // Named as core/scratch.ts names scratch, so that a later run sweeps a killed run's copy.
  const copy = mkdtempSync(path.join(tmpdir(), `infinity-scratch-index.${process.pid}.`));
  try {
    const target = path.join(copy, "index.sqlite");
    copyFileSync(file, target);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${target}-wal`);
    const db = new Database(target, { readonly: true, fileMustExist: true });
    try {
      knownVersion(db, file); // a file opened read-only cannot be migrated
    } catch (err) {
      db.close();
      throw err;
    }
    return { db, copy };
  } catch (err) {
    rmSync(copy, { recursive: true, force: true });
    throw err;
  }
}

/** An open index file; `copy` is the private folder a read-only one is read from (removed on close). */
export interface OpenedIndex {
  db: Database.Database;
  copy?: string;
}

/**
 * Opens the index file at `file`. `readOnly`: an existing file, for reading only (a read-only copy
 * of the data folder); it is never created, migrated or written. Otherwise the file (and its
 * folder) is created if missing and brought up to the newest schema.
 */
export function openIndexFile(file: string, readOnly = false): OpenedIndex {
  let db: Database.Database;
  try {
    if (readOnly) return openCopy(file);
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
  } catch (err) {
    throw new BackupError(`could not open the snapshot index ${file}: ${describeError(err)}`, { cause: err });
  }
  try {
    db.pragma("journal_mode = WAL"); // readers (the CLI) never block the writer
    db.pragma("synchronous = FULL"); // a snapshot exists once commit resolves, power cut or not
    migrate(db, file);
  } catch (err) {
    db.close();
    if (err instanceof BackupError) throw err;
    throw new BackupError(`could not open the snapshot index ${file}: ${describeError(err)}`, { cause: err });
  }
  return { db };
}
