// The incident memory of one process (tests; a workload with nowhere shared to keep it).
import type { AlertLedger } from "../../core/ports.js";

export class MemoryAlertLedger implements AlertLedger {
  private readonly open = new Map<string, string>();

  async claim(key: string, at: string, resendBefore: string): Promise<boolean> {
    const last = this.open.get(key);
    if (last !== undefined && last >= resendBefore) return false;
    this.open.set(key, at);
    return true;
  }

  async release(key: string): Promise<string | undefined> {
    const last = this.open.get(key);
    this.open.delete(key);
    return last;
  }

  async record(key: string, at: string): Promise<void> {
    this.open.set(key, at);
  }

  async openIncidents(prefix: string): Promise<Map<string, string>> {
    return new Map([...this.open].filter(([k]) => k.startsWith(prefix)));
  }
}
