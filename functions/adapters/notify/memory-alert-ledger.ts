// The de-duplication memory of one process (a cloud instance): lost when the instance ends.
import type { AlertLedger } from "../../core/ports.js";

export class MemoryAlertLedger implements AlertLedger {
  private readonly sent = new Map<string, string>();

  async lastSent(key: string): Promise<string | undefined> {
    return this.sent.get(key);
  }

  async record(key: string, at: string): Promise<void> {
    this.sent.set(key, at);
  }
}
