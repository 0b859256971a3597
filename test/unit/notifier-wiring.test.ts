// wiring.ts buildNotifier: a ledger that cannot be read or written never silences an alert. With the
// open incidents unread, every alert goes to its claim as before; the failure is told, scrubbed.
import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryAlertLedger } from "../../functions/adapters/notify/memory-alert-ledger.js";
import { backupConfigSchema } from "../../functions/config/backup-config.js";
import type { Settings } from "../../functions/config/settings.js";
import type { Alert } from "../../functions/core/ports.js";
import { buildNotifier } from "../../functions/wiring.js";
import { manualClock } from "../helpers/local-app.js";

const when = "2026-12-01T10:00:00.000Z";
const stale = (repo: string): Alert => ({ kind: "repository-stale", repo, why: "stale", when });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A local webhook receiver: the repositories of the alerts it got. */
async function receiver(): Promise<{ url: string; got: string[] }> {
  const got: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      got.push((JSON.parse(body) as { repo: string }).repo);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook/secretPath`, got };
}

describe("the notifier's ledger wrapper", () => {
  it("open incidents that cannot be read: every alert goes to its claim, which still decides; the failure is told", async () => {
    const hook = await receiver();
    const settings = {
      backup: backupConfigSchema.parse({ version: 1, notifications: { webhooks: [{ url: hook.url }] } }),
    } as unknown as Settings; // buildNotifier reads only backup.notifications for webhooks
    const inner = new MemoryAlertLedger();
    await inner.record(`0:webhook 127.0.0.1:${new URL(hook.url).port}\nrepository-stale\nacme/a`, when);
    let claims = 0;
    const ledger = {
      claim: (key: string, at: string, before: string) => (claims++, inner.claim(key, at, before)),
      release: (key: string) => inner.release(key),
      record: (key: string, at: string) => inner.record(key, at),
      openIncidents: () => Promise.reject(new Error(`index unreachable at ${hook.url}`)),
    };
    const told: string[] = [];
    const notifier = await buildNotifier(
      settings,
      {},
      {
        ledger,
        clock: manualClock(when),
        tell: (line) => told.push(line),
        email: false,
      },
    );
    await notifier.report([stale("acme/a"), stale("acme/b")], () => true, when);
    // acme/a is open and sent: its claim, not the failed read, decides; acme/b is new and sent.
    expect(claims).toBe(2);
    expect(hook.got).toEqual(["acme/b"]);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^notification memory read failed: index unreachable at /);
    expect(told[0]).not.toContain("secretPath");
  });
});
