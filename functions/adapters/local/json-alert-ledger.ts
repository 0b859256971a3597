// The incident memory of notifications on this machine: a small JSON file in the data folder
// (alerts.json), key → when last sent, for the incidents still open. An entry not sent for 32 days
// (longer than the longest reminder window) is dropped on write. Calls of one process are taken in
// turn; two CLI processes at the same instant may both send an incident once.
import { readFile, rename, writeFile } from "node:fs/promises";
import type { AlertLedger } from "../../core/ports.js";

const KEEP_MS = 32 * 24 * 3600 * 1000;

export class JsonAlertLedger implements AlertLedger {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  /** Runs `step` after every earlier call of this ledger, so read-change-write never interleaves. */
  private inTurn<T>(step: () => Promise<T>): Promise<T> {
    const next = this.turn.then(step, step);
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<Record<string, string>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.path, "utf8"));
      return parsed && typeof parsed === "object" && !Array.isArray(parsed)
        ? (parsed as Record<string, string>)
        : {};
    } catch (err) {
      // Missing or unreadable: at worst an incident is sent again.
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) return {};
      throw err;
    }
  }

  private async write(all: Record<string, string>, now: string): Promise<void> {
    const cutoff = Date.parse(now) - KEEP_MS;
    for (const [k, v] of Object.entries(all)) if (!(Date.parse(v) >= cutoff)) delete all[k];
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    await rename(tmp, this.path);
  }

  claim(key: string, at: string, resendBefore: string): Promise<boolean> {
    return this.inTurn(async () => {
      const all = await this.read();
      const last = all[key];
      if (typeof last === "string" && last >= resendBefore) return false;
      all[key] = at;
      await this.write(all, at);
      return true;
    });
  }

  release(key: string): Promise<string | undefined> {
    return this.inTurn(async () => {
      const all = await this.read();
      const last = all[key];
      if (typeof last !== "string") return undefined;
      delete all[key];
      await this.write(all, last);
      return last;
    });
  }

  record(key: string, at: string): Promise<void> {
    return this.inTurn(async () => {
      const all = await this.read();
      all[key] = at;
      await this.write(all, at);
    });
  }

  openIncidents(prefix: string): Promise<Map<string, string>> {
    return this.inTurn(
      async () =>
        new Map(
          Object.entries(await this.read()).filter(([k, v]) => k.startsWith(prefix) && typeof v === "string"),
        ),
    );
  }
}
