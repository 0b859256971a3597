// The SQLite adapters' error boundary: SQLite's errors become BackupErrors that say where and
// what (ours pass through), and a read-only file is permanent, since retrying cannot help.
import type Database from "better-sqlite3";
import { BackupError, describeError } from "../../core/errors.js";

/** Runs `work`, translating a SQLite error into a BackupError headed by `failed()`. */
export function sqliteCall<T>(failed: () => string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof BackupError) throw err;
    const readOnly = String((err as { code?: unknown }).code).startsWith("SQLITE_READONLY");
    throw new BackupError(`${failed()}: ${describeError(err)}`, { cause: err, permanent: readOnly });
  }
}

/** One write transaction, immediate, so that read-modify-write is safe across processes too. */
export function sqliteWrite<T>(db: Database.Database, failed: () => string, work: () => T): T {
  return sqliteCall(failed, () => db.transaction(work).immediate());
}
