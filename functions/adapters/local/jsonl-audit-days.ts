// The local audit log's index by day, for reads of a recent window (AuditReader.entriesSince):
// beside the log, `<log>.days.json` notes for the log up to a size where each day first appears
// (the byte offset of the first line whose day is later than every line before it). A window read
// starts at the offset of its first day and reads on to the end, so it costs the window's lines,
// not the log's. The reader keeps the note (writers stay as they are, and a log written by any
// version is indexed): what was appended since the note's size is read anyway, and noted.
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import { inWindow, type AuditEntry } from "../../core/audit-chain.js";

/** The note: the log's size it covers (ending a line), and [day, offset] with days ascending. */
interface DayNote {
  size: number;
  days: [string, number][];
}

const EMPTY: DayNote = { size: 0, days: [] };

/** `<log>.days.json`: the note of `log`. */
export function dayNotePath(log: string): string {
  return `${log}.days.json`;
}

/**
 * The entries of `actions` at or after `since` in the log at `log`, in the log's order. A note
 * that does not fit the log (a log replaced or cut) is dropped and the log read whole once.
 */
export async function entriesSince(
  log: string,
  actions: readonly string[],
  since: string,
): Promise<AuditEntry[]> {
  const wanted = new Set(actions);
  const note = await readNote(log);
  const found = note && (await scan(log, note, wanted, since));
  return found ?? (await scan(log, EMPTY, wanted, since))!;
}

/**
 * Reads from the offset where `since`'s day starts (or from the note's size, when the note knows
 * no day that late) to the end, notes the days of what lies past the note's size, and answers the
 * window's entries; undefined when the note proves wrong (its offset does not start that day).
 */
async function scan(
  log: string,
  note: DayNote,
  wanted: ReadonlySet<string>,
  since: string,
): Promise<AuditEntry[] | undefined> {
  const day = since.slice(0, 10);
  const start = note.days.find(([d]) => d >= day);
  const from = start ? start[1] : note.size;
  const days = [...note.days];
  let latest = days.at(-1)?.[0] ?? "";
  let size = note.size;
  const found: AuditEntry[] = [];
  let first = true;
  for await (const { offset, end, text } of linesFrom(log, from)) {
    const value = parse(text);
    const at = typeof value?.at === "string" ? value.at.slice(0, 10) : undefined;
    if (first && start && at !== start[0]) return undefined;
    first = false;
    if (end === undefined) break; // a line being written: neither indexed nor read
    if (offset >= note.size) {
      if (at !== undefined && at > latest) days.push([(latest = at), offset]);
      size = end;
    }
    if (inWindow(value, wanted, since)) found.push(value);
  }
  if (start && first) return undefined; // the note names an offset past the log's end
  if (size > note.size) await writeNote(log, { size, days });
  return found;
}

function parse(text: string): Partial<AuditEntry> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Partial<AuditEntry>) : undefined;
  } catch {
    return undefined;
  }
}

/** The note, if it is one and still fits the log (it only grows, and the note's size ends a line). */
async function readNote(log: string): Promise<DayNote | undefined> {
  try {
    const note = JSON.parse(await fs.readFile(dayNotePath(log), "utf8")) as Partial<DayNote>;
    const { size, days } = note;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0 || !Array.isArray(days))
      return undefined;
    const ascending = days.every(
      (p, i) =>
        Array.isArray(p) &&
        typeof p[0] === "string" &&
        Number.isSafeInteger(p[1]) &&
        p[1] >= 0 &&
        p[1] < size &&
        (i === 0 || (p[0] > days[i - 1]![0] && p[1] > days[i - 1]![1])),
    );
    if (!ascending) return undefined;
    if (size > 0 && !(await newlineAt(log, size - 1))) return undefined;
    return { size, days };
  } catch {
    return undefined;
  }
}

/** Only a shortcut: a note not written means the next read reads more. */
async function writeNote(log: string, note: DayNote): Promise<void> {
  const tmp = `${dayNotePath(log)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(note), { mode: 0o600 });
    await fs.rename(tmp, dayNotePath(log));
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/**
 * The log's lines from byte `from` (which starts a line), with their offsets: `end` is the offset
 * after the line's newline, undefined for a last line without one. Memory stays one chunk and one
 * line. A missing log has no lines.
 */
async function* linesFrom(
  log: string,
  from: number,
): AsyncIterable<{ offset: number; end?: number; text: string }> {
  const input = createReadStream(log, { start: from });
  let pending: Buffer[] = [];
  let offset = from;
  let position = from;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let at = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, at)) {
        pending.push(chunk.subarray(at, nl));
        const end = position + nl + 1;
        const text = Buffer.concat(pending).toString("utf8");
        pending = [];
        if (text.trim() !== "") yield { offset, end, text };
        offset = end;
        at = nl + 1;
      }
      if (at < chunk.length) pending.push(chunk.subarray(at));
      position += chunk.length;
    }
    const rest = Buffer.concat(pending).toString("utf8");
    if (rest.trim() !== "") yield { offset, text: rest };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  } finally {
    input.destroy();
  }
}

/** Whether the byte at `position` of `file` is a newline (false past its end, or no file). */
export async function newlineAt(file: string, position: number): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch {
    return false;
  }
  try {
    const byte = Buffer.alloc(1);
    const { bytesRead } = await handle.read(byte, 0, 1, position);
    return bytesRead === 1 && byte[0] === 0x0a;
  } finally {
    await handle.close();
  }
}
