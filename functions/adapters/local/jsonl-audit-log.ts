// AuditLog as a JSON Lines file, for local mode: one chained entry per line (see
// core/audit-chain.ts), appended and never rewritten. Appends from several processes are ordered
// by a lock file next to the log, so the chain never forks; read() gives the entries back.
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { createInterface } from "node:readline";
import {
  chainEntry,
  EMPTY_HEAD,
  unchainedPrefixHead,
  type AuditEntry,
  type ChainHead,
  type StoredEntry,
} from "../../core/audit-chain.js";
import { CONFIG_CHANGED } from "../../core/audit-config.js";
import { BackupError } from "../../core/errors.js";
import {
  systemClock,
  type AuditEvent,
  type AuditLog,
  type AuditReader,
  type Clock,
  type ConfigTrail,
} from "../../core/ports.js";
import { entriesSince, newlineAt } from "./jsonl-audit-days.js";

export type { AuditEntry } from "../../core/audit-chain.js";

/** A lock older than this is taken over even if its holder looks alive (a reused PID). */
const STALE_LOCK_MS = 30_000;
/** How long an append waits for another process's lock before it fails. */
const LOCK_WAIT_MS = 10_000;

export class JsonlAuditLog implements AuditLog, AuditReader, ConfigTrail {
  readonly path: string;
  private readonly clock: Clock;
  /** Appends one at a time, so that lines never interleave even when callers do not wait. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: { path: string; clock?: Clock }) {
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
  }

  async record(event: AuditEvent): Promise<void> {
    const append = this.tail.then(() => this.append(event));
    this.tail = append.catch(() => undefined);
    return append;
  }

  /** The newest config.changed entry is found by reading the log under its lock (see ConfigTrail). */
  async recordConfig(
    decide: (last: AuditEntry | undefined) => AuditEvent | undefined,
  ): Promise<AuditEntry | undefined> {
    const run = this.tail.then(() =>
      this.underLock(async () => {
        const last = await this.lastConfig();
        const event = decide(last);
        const entry = event && (await this.appendLocked(event));
        await this.rememberConfig(entry ?? last);
        return entry;
      }),
    );
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The newest config.changed entry. The note beside the log (`<log>.config.json`: the newest one as
   * of a log size) spares reading the whole log at every start: only what was appended since is
   * read. Without a usable note (none yet, damaged, or a log shorter than it says) the whole log is.
   * The caller holds the lock.
   */
  private async lastConfig(): Promise<AuditEntry | undefined> {
    const note = await this.configNote();
    return this.lastOf(CONFIG_CHANGED, note?.size ?? 0, note?.entry);
  }

  private get configNotePath(): string {
    return `${this.path}.config.json`;
  }

  private async configNote(): Promise<{ size: number; entry?: AuditEntry } | undefined> {
    try {
      const note = JSON.parse(await fs.readFile(this.configNotePath, "utf8")) as {
        size?: unknown;
        entry?: AuditEntry;
      };
      const size = note.size;
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return undefined;
      if (note.entry !== undefined && note.entry?.action !== CONFIG_CHANGED) return undefined;
      // The log only grows, and the note's size ends a line; anything else: read it all.
      if (size > 0 && !(await newlineAt(this.path, size - 1))) return undefined;
      return { size, ...(note.entry ? { entry: note.entry } : {}) };
    } catch {
      return undefined;
    }
  }

  /** Notes `entry` as the newest config.changed as of the log's present size (the lock is held). */
  private async rememberConfig(entry: AuditEntry | undefined): Promise<void> {
    try {
      const { size } = await fs.stat(this.path);
      const text = JSON.stringify({ size, ...(entry ? { entry } : {}) });
      const tmp = `${this.configNotePath}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text, { mode: 0o600 });
      await fs.rename(tmp, this.configNotePath);
    } catch {
      // Only a shortcut: without it the next start reads the whole log.
    }
  }

  /**
   * The newest entry of `action` from byte `from` on (`before`: the newest before it), read line by
   * line (memory stays one line, however long the log).
   */
  private async lastOf(action: string, from = 0, before?: AuditEntry): Promise<AuditEntry | undefined> {
    const marker = `"action":${JSON.stringify(action)}`;
    let last = before;
    for await (const { text } of this.lines(from)) {
      if (!text.includes(marker)) continue;
      try {
        const entry = JSON.parse(text) as AuditEntry;
        if (entry.action === action) last = entry;
      } catch {
        // A damaged line is `audit verify`'s to name; it records no configuration.
      }
    }
    return last;
  }

  /** Every line as stored, oldest first, for verification. A missing file is an empty log. */
  async *stored(): AsyncIterable<StoredEntry> {
    for await (const { number, text } of this.lines()) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      yield { position: `line ${number}`, value, text };
    }
  }

  /** Through the day index beside the log (jsonl-audit-days.ts), in the log's order. */
  async entriesSince(actions: readonly string[], since: string): Promise<AuditEntry[]> {
    return entriesSince(this.path, actions, since);
  }

  /** Every entry, oldest first. A missing file is an empty log. */
  async *read(): AsyncIterable<AuditEntry> {
    for await (const { number, text } of this.lines()) {
      try {
        yield JSON.parse(text) as AuditEntry;
      } catch (err) {
        throw new BackupError(`audit log ${this.path} line ${number} is not valid JSON`, { cause: err });
      }
    }
  }

  async readAll(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const entry of this.read()) entries.push(entry);
    return entries;
  }

  private async *lines(from = 0): AsyncIterable<{ number: number; text: string }> {
    const input = createReadStream(this.path, { encoding: "utf8", start: from });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let number = 0;
    try {
      for await (const text of lines) {
        number += 1;
        if (text.trim() !== "") yield { number, text };
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new BackupError(`could not read audit log ${this.path}`, { cause: err });
    } finally {
      lines.close();
      input.destroy();
    }
  }

  private async append(event: AuditEvent): Promise<void> {
    await this.underLock(() => this.appendLocked(event));
  }

  /** Runs `work` holding the log's lock; any failure is the log's. */
  private async underLock<T>(work: () => Promise<T>): Promise<T> {
    try {
      await fs.mkdir(path.dirname(path.resolve(this.path)), { recursive: true, mode: 0o700 });
      const unlock = await this.lock();
      try {
        return await work();
      } finally {
        await unlock();
      }
    } catch (err) {
      throw new BackupError(`could not append to audit log ${this.path}`, { cause: err });
    }
  }

  /** Appends one chained entry; the caller holds the lock. */
  private async appendLocked(event: AuditEvent): Promise<AuditEntry> {
    const entry = chainEntry(event, this.clock.now(), await this.head());
    // A torn last write has no newline: start on a line of our own.
    const separator = (await endsWithNewline(this.path)) ? "" : "\n";
    // mode applies only when the file is created; one appendFile call is one write(2) with O_APPEND.
    await fs.appendFile(this.path, `${separator}${JSON.stringify(entry)}\n`, { mode: 0o600 });
    return entry;
  }

  /** The last entry's number and hash, read from the end of the file. */
  private async head(): Promise<ChainHead> {
    const last = await lastLine(this.path);
    if (last === undefined) return EMPTY_HEAD;
    let value: Partial<AuditEntry> | undefined;
    try {
      value = JSON.parse(last) as Partial<AuditEntry>;
    } catch {
      value = undefined;
    }
    if (value && typeof value.seq === "number" && typeof value.hash === "string") {
      return { seq: value.seq, hash: value.hash };
    }
    if (value && value.hash === undefined && value.seq === undefined) {
      // A log written before entries were chained: the chain starts from the hash of those lines.
      const unchained: string[] = [];
      for await (const { text } of this.lines()) unchained.push(text);
      return unchainedPrefixHead(unchained);
    }
    // A damaged last line (a torn write, an edit): `audit verify` will name it; recording goes on,
    // numbered after the last good entry and chained to the hash of everything before.
    const all: string[] = [];
    let seq = 0;
    for await (const { text } of this.lines()) {
      all.push(text);
      const n = safeSeq(text);
      if (n !== undefined) seq = n;
    }
    return { seq, hash: unchainedPrefixHead(all).hash };
  }

  /** An exclusive lock file beside the log; a dead or stale holder's lock is taken over. */
  private async lock(): Promise<() => Promise<void>> {
    const file = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await fs.open(file, "wx", 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => fs.rm(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      if (await lockIsAbandoned(file)) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the audit log's lock ${file} is held by another process`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

async function lockIsAbandoned(file: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file)]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 1000; // being written
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? false : Promise.reject(err);
  }
}

/** The file's last non-empty line, read backwards from its end; undefined for a missing or empty file. */
async function lastLine(file: string): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    let window = 64 * 1024;
    for (;;) {
      const start = Math.max(0, size - window);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      const text = buffer.toString("utf8").replace(/\n+$/, "");
      const newline = text.lastIndexOf("\n");
      if (newline >= 0 || start === 0) return text.slice(newline + 1) || undefined;
      window *= 4;
    }
  } finally {
    await handle.close();
  }
}

function safeSeq(text: string): number | undefined {
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    return typeof seq === "number" ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** True for a missing or empty file too: nothing to separate from. */
async function endsWithNewline(file: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    await handle.close();
  }
}
