// The repo leases of the local index (table leases, schema in sqlite-schema.ts): one holder a
// repository until its expiry, or until the process that holds it is seen gone (holderIsGone).
import { hostname } from "node:os";
import type Database from "better-sqlite3";
import { UserInputError } from "../../core/errors.js";
import type { Clock, Lease } from "../../core/ports.js";
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";

export class SqliteLeases {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly clock: Clock,
  ) {}

  acquire(repo: string, holder: string, ttlMs: number): Lease | undefined {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new UserInputError(`lease ttl must be positive, got ${ttlMs}`);
    return sqliteWrite(this.db, this.failed("acquireLease"), () => {
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

  release(repo: string, holder: string): void {
    sqliteWrite(this.db, this.failed("releaseLease"), () => {
      this.db.prepare("DELETE FROM leases WHERE repo = ? AND holder = ?").run(repo, holder);
    });
  }

  /** The leases held now, by repository. */
  held(): Lease[] {
    const now = this.clock.now().getTime();
    const rows = sqliteCall(this.failed("leases"), () =>
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

  private failed(what: string): () => string {
    return () => `snapshot index ${this.file}: ${what} failed`;
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
