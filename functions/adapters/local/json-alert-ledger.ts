// The de-duplication memory of notifications on this machine: a small JSON file in the data folder
// (alerts.json), key → when last sent. Entries older than a week are dropped on write.
import { readFile, rename, writeFile } from "node:fs/promises";
import type { AlertLedger } from "../../core/ports.js";

const KEEP_MS = 7 * 24 * 3600 * 1000;

export class JsonAlertLedger implements AlertLedger {
  constructor(private readonly path: string) {}

  private async read(): Promise<Record<string, string>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.path, "utf8"));
      return parsed && typeof parsed === "object" && !Array.isArray(parsed)
        ? (parsed as Record<string, string>)
        : {};
    } catch (err) {
      // Missing or unreadable: at worst an alert is sent again.
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) return {};
      throw err;
    }
  }

  async lastSent(key: string): Promise<string | undefined> {
    const v = (await this.read())[key];
    return typeof v === "string" ? v : undefined;
  }

  async record(key: string, at: string): Promise<void> {
    const all = await this.read();
    all[key] = at;
    const cutoff = Date.parse(at) - KEEP_MS;
    for (const [k, v] of Object.entries(all)) if (!(Date.parse(v) >= cutoff)) delete all[k];
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    await rename(tmp, this.path);
  }
}
