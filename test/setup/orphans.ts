// Records which service PIDs (and temp dir) this test run owns, and reaps what a run that died without
// its teardown (SIGKILL, OOM) left: only when that run's process is gone and the PID still runs our binary.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { groupAlive, signalGroup } from "./process.js";

interface Entry {
  name: string;
  pid: number;
  /** A string the process's command line must contain for us to kill it (guards against PID reuse). */
  marker: string;
}

const DIR = path.join(os.tmpdir(), "infinity-backup-test-pids");

interface Record {
  tmpDir: string;
  entries: Entry[];
}

export class PidRegistry {
  private readonly file = path.join(DIR, `${process.pid}.json`);
  private readonly entries: Entry[] = [];

  constructor(private readonly tmpDir: string) {
    mkdirSync(DIR, { recursive: true });
    this.save();
  }

  add(entry: Entry): void {
    this.entries.push(entry);
    this.save();
  }

  private save(): void {
    writeFileSync(this.file, JSON.stringify({ tmpDir: this.tmpDir, entries: this.entries } satisfies Record));
  }

  /** Synchronous kill of every recorded group: safe to call from a process "exit" handler. */
  killAllNow(): void {
    for (const e of this.entries) if (groupAlive(e.pid)) signalGroup(e.pid, "SIGKILL");
  }

  clear(): void {
    rmSync(this.file, { force: true });
  }
}

/** Kills services recorded by test runs whose owning process no longer exists. Returns what it reaped. */
export function reapOrphans(): string[] {
  const reaped: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return reaped;
  }
  for (const f of files) {
    const owner = Number(path.basename(f, ".json"));
    if (owner === process.pid || processAlive(owner)) continue;
    let record: Record = { tmpDir: "", entries: [] };
    try {
      record = JSON.parse(readFileSync(path.join(DIR, f), "utf8")) as Record;
    } catch {
      /* unreadable record: drop it */
    }
    for (const e of record.entries) {
      if (commandLine(e.pid).includes(e.marker)) {
        signalGroup(e.pid, "SIGKILL");
        reaped.push(`${e.name} (pid ${e.pid}, left by test run ${owner})`);
      }
    }
    if (record.tmpDir.includes("infinity-test-")) rmSync(record.tmpDir, { recursive: true, force: true });
    rmSync(path.join(DIR, f), { force: true });
  }
  return reaped;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
