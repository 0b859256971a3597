// AuditLog as a JSON Lines file, for local mode: one `{ at, ...event }` line per event, appended
// (never rewritten), readable by the CLI with read().
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { BackupError } from "../../core/errors.js";
import { systemClock, type AuditEvent, type AuditLog, type Clock } from "../../core/ports.js";

/** One line of the log: the event and when it was recorded (ISO-8601 UTC). */
export type AuditEntry = AuditEvent & { at: string };

export class JsonlAuditLog implements AuditLog {
  readonly path: string;
  private readonly clock: Clock;
  /** Appends one at a time, so that lines never interleave even when callers do not wait. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: { path: string; clock?: Clock }) {
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
  }

  async record(event: AuditEvent): Promise<void> {
    const line = `${serialize({ at: this.clock.now().toISOString(), ...event })}\n`;
    const append = this.tail.then(() => this.append(line));
    this.tail = append.catch(() => undefined);
    return append;
  }

  /** Every entry, oldest first. A missing file is an empty log. */
  async *read(): AsyncIterable<AuditEntry> {
    const input = createReadStream(this.path, { encoding: "utf8" });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let number = 0;
    try {
      for await (const line of lines) {
        number += 1;
        if (line.trim() === "") continue;
        try {
          yield JSON.parse(line) as AuditEntry;
        } catch (err) {
          throw new BackupError(`audit log ${this.path} line ${number} is not valid JSON`, { cause: err });
        }
      }
    } catch (err) {
      if (err instanceof BackupError) throw err;
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new BackupError(`could not read audit log ${this.path}`, { cause: err });
    } finally {
      lines.close();
      input.destroy();
    }
  }

  async readAll(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const entry of this.read()) entries.push(entry);
    return entries;
  }

  private async append(line: string): Promise<void> {
    try {
      await fs.mkdir(path.dirname(path.resolve(this.path)), { recursive: true, mode: 0o700 });
      // mode applies only when the file is created; one appendFile call is one write(2) with O_APPEND.
      await fs.appendFile(this.path, line, { mode: 0o600 });
    } catch (err) {
      throw new BackupError(`could not append to audit log ${this.path}`, { cause: err });
    }
  }
}

/** The event as JSON; details that cannot be serialized are replaced, never thrown. */
function serialize(entry: AuditEntry): string {
  const replacer = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);
  try {
    return JSON.stringify(entry, replacer);
  } catch {
    // A cycle in details: the record of the action matters more than its details.
    return JSON.stringify({ ...entry, details: { unserializable: true } }, replacer);
  }
}
