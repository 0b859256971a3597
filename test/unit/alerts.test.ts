// core/alerts.ts: results become alerts, the de-duplication window, the fan-out that survives a
// failing channel; the config's webhook URLs (a secret path allowed, credentials refused); the
// webhook channel's errors name the host only.
import { createServer } from "node:http";
import { networkInterfaces } from "node:os";
import { SMTPServer } from "smtp-server";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JsonAlertLedger } from "../../functions/adapters/local/json-alert-ledger.js";
import { emailChannel } from "../../functions/adapters/notify/email.js";
import { webhookChannel } from "../../functions/adapters/notify/webhook.js";
import { backupConfigSchema } from "../../functions/config/backup-config.js";
import {
  alertKey,
  dedupingChannel,
  backupAlerts,
  dedupingNotifier,
  drillAlerts,
  fanOutNotifier,
  healthAlerts,
} from "../../functions/core/alerts.js";
import type { Alert } from "../../functions/core/ports.js";
import { manualClock } from "../helpers/local-app.js";

const when = "2026-12-01T10:00:00.000Z";
const failed = (why: string): Alert => ({ kind: "backup-failed", repo: "acme/app", why, when });

describe("alerts from results", () => {
  it("a failed backup, a failed drill and a stale repository; healthy ones give none", () => {
    const backups = backupAlerts(
      [{ repo: "acme/ok" }, { repo: "acme/bad", error: "git: https://user:hunter2@host/x unreachable" }],
      when,
    );
    expect(backups).toEqual([{ kind: "backup-failed", repo: "acme/bad", why: expect.any(String), when }]);
    expect(backups[0]!.why).not.toContain("hunter2");
    const drills = drillAlerts(
      [
        {
          repo: "a/b",
          snapshotId: "s1",
          takenAt: when,
          verdict: "failed",
          seconds: 1,
          withinRto: true,
          refs: 1,
          bytes: 1,
          detail: "refs differ",
        },
        {
          repo: "a/c",
          snapshotId: "s2",
          takenAt: when,
          verdict: "passed",
          seconds: 1,
          withinRto: true,
          refs: 1,
          bytes: 1,
        },
      ],
      when,
    );
    expect(drills).toEqual([{ kind: "drill-failed", repo: "a/b", snapshot: "s1", why: "refs differ", when }]);
    const health = healthAlerts(
      [
        { repo: "a/old", problems: [{ kind: "stale", secondsSince: 50 * 3600 }] },
        { repo: "a/fine", problems: [] },
      ] as never,
      when,
    );
    expect(health).toEqual([
      { kind: "repository-stale", repo: "a/old", why: "stale: last backed up 50 h ago", when },
    ]);
  });

  it("a stale repository stays one problem while its age grows; other kinds differ by why", () => {
    const stale = (h: number): Alert => ({ kind: "repository-stale", repo: "a/b", why: `${h} h`, when });
    expect(alertKey(stale(30))).toBe(alertKey(stale(31)));
    expect(alertKey(failed("x"))).not.toBe(alertKey(failed("y")));
  });
});

describe("de-duplication", () => {
  it("the same problem once per window, again after it; a different problem at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "alerts-"));
    try {
      const sent: Alert[] = [];
      const clock = manualClock(when);
      const ledger = new JsonAlertLedger(join(dir, "alerts.json"));
      const n = dedupingNotifier({ notify: async (a) => void sent.push(a) }, ledger, clock, 6 * 3600 * 1000);
      await n.notify(failed("x"));
      clock.advance(5 * 3600 * 1000);
      await n.notify(failed("x"));
      expect(sent).toHaveLength(1);
      await n.notify(failed("y"));
      expect(sent).toHaveLength(2);
      clock.advance(3600 * 1000 + 1);
      // A new ledger over the same file: the memory survives the process.
      const again = dedupingNotifier(
        { notify: async (a) => void sent.push(a) },
        new JsonAlertLedger(join(dir, "alerts.json")),
        clock,
      );
      await again.notify(failed("x"));
      await again.notify(failed("y"));
      expect(sent.map((a) => a.why)).toEqual(["x", "y", "x"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("per channel: a send that failed is not remembered, so the next run tries it again", async () => {
    const memory = new Map<string, string>();
    const ledger = {
      lastSent: async (k: string) => memory.get(k),
      record: async (k: string, at: string) => void memory.set(k, at),
    };
    let up = false;
    const sent: string[] = [];
    const channel = dedupingChannel(
      {
        name: "hook",
        send: async (a) => {
          if (!up) throw new Error("down");
          sent.push(a.why);
        },
      },
      "0:hook",
      ledger,
      manualClock(when),
    );
    await expect(channel.send(failed("x"))).rejects.toThrow("down");
    expect(memory.size).toBe(0);
    up = true;
    await channel.send(failed("x"));
    await channel.send(failed("x"));
    expect(sent).toEqual(["x"]);
  });

  it("a failing channel is reported and the others still get the alert", async () => {
    const got: string[] = [];
    const failures: string[] = [];
    const n = fanOutNotifier(
      [
        { name: "broken", send: async () => Promise.reject(new Error("refused")) },
        { name: "fine", send: async (a) => void got.push(a.repo) },
      ],
      (name, err) => failures.push(`${name}: ${(err as Error).message}`),
    );
    await n.notify(failed("x"));
    expect(got).toEqual(["acme/app"]);
    expect(failures).toEqual(["broken: refused"]);
  });
});

describe("webhook URLs", () => {
  const parse = (url: string) =>
    backupConfigSchema.safeParse({ version: 1, notifications: { webhooks: [{ url }] } });

  it("a Slack-style secret path is normal; credentials and plain http elsewhere are refused", () => {
    expect(parse("https://hooks.slack.com/services/T0/B0/abcdefSECRET").success).toBe(true);
    expect(parse("http://127.0.0.1:8080/hook").success).toBe(true);
    const userinfo = parse("https://user:pw@hooks.example.com/x");
    expect(userinfo.success).toBe(false);
    expect(JSON.stringify(userinfo.error?.issues)).toMatch(
      /must not hold credentials \(found user:password@/,
    );
    expect(JSON.stringify(parse("https://hooks.example.com/x?access_token=abc").error?.issues)).toMatch(
      /credential in the query string/,
    );
    expect(JSON.stringify(parse("http://hooks.example.com/x").error?.issues)).toMatch(
      /expected an https:\/\/ URL \(host hooks\.example\.com\)/,
    );
  });

  it("the channel's errors name the host, never the path", async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const channel = webhookChannel(`http://127.0.0.1:${port}/services/T/B/topSecretPath`);
      expect(channel.name).toBe(`webhook 127.0.0.1:${port}`);
      await expect(channel.send(failed("x"))).rejects.toThrow(`webhook 127.0.0.1:${port}: HTTP 503`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    const gone = webhookChannel(`http://127.0.0.1:${port}/services/T/B/topSecretPath`);
    const err = await gone.send(failed("x")).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/not reached \(ECONNREFUSED\)/);
    expect(err?.message).not.toContain("topSecretPath");
  });
});

describe("email channel", () => {
  const ip = Object.values(networkInterfaces())
    .flat()
    .find((i) => i?.family === "IPv4" && !i.internal)?.address;

  it.skipIf(!ip)("never logs in over a connection without TLS to another machine", async () => {
    let logins = 0;
    const server = new SMTPServer({
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (_auth, _session, cb) => {
        logins++;
        cb(null, { user: "x" });
      },
    });
    await new Promise<void>((r) => server.listen(0, ip, () => r()));
    const port = (server.server.address() as { port: number }).port;
    try {
      const channel = emailChannel({
        to: ["ops@example.com"],
        from: "b@example.com",
        host: ip!,
        port,
        secure: false,
        user: "backup",
        password: "pw-not-sent-in-clear",
      });
      const err = await channel.send(failed("x")).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(
        new RegExp(`^email ${ip!.replace(/\./g, "\\.")}:${port}: .*STARTTLS`, "i"),
      );
      expect(err?.message).not.toContain("pw-not-sent-in-clear");
      expect(logins).toBe(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
