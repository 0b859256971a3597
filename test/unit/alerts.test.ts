// core/alerts.ts: results become alerts, the de-duplication window, the fan-out that survives a
// failing channel; the config's webhook URLs (a secret path allowed, credentials refused); the
// webhook channel's errors name the host only.
import { createServer } from "node:http";
import { networkInterfaces } from "node:os";
import { SMTPServer } from "smtp-server";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JsonAlertLedger } from "../../functions/adapters/local/json-alert-ledger.js";
import { MemoryAlertLedger } from "../../functions/adapters/notify/memory-alert-ledger.js";
import { emailChannel } from "../../functions/adapters/notify/email.js";
import { webhookChannel } from "../../functions/adapters/notify/webhook.js";
import { backupConfigSchema } from "../../functions/config/backup-config.js";
import {
  backupAlerts,
  checkAlerts,
  checksChecked,
  drillAlerts,
  healthAlerts,
} from "../../functions/core/alerts.js";
import type { HealthCheck } from "../../functions/core/health-checks.js";
import { incidentKey, incidentNotifier, type AlertChannel } from "../../functions/core/incidents.js";
import type { Alert, Incident } from "../../functions/core/ports.js";
import { manualClock } from "../helpers/local-app.js";

const when = "2026-12-01T10:00:00.000Z";
const failed = (why: string): Alert => ({ kind: "backup-failed", repo: "acme/app", why, when });
const HOUR = 3600 * 1000;
const recorder = (sent: Alert[]): AlertChannel => ({ name: "hook", send: async (a) => void sent.push(a) });
const fail = (name: string, err: unknown) => {
  throw new Error(`${name} failed: ${String(err)}`);
};

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
          at: when,
          checks: ["restore", "refs"],
        },
        {
          repo: "a/c",
          snapshotId: "s2",
          takenAt: when,
          at: when,
          checks: ["restore", "refs", "fsck", "manifest"],
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

  it("an incident is its kind and repository, whatever the words", () => {
    const stale = (h: number): Alert => ({ kind: "repository-stale", repo: "a/b", why: `${h} h`, when });
    expect(incidentKey(stale(30))).toBe(incidentKey(stale(31)));
    expect(incidentKey(failed("x"))).toBe(incidentKey(failed("y")));
    expect(incidentKey(failed("x"))).not.toBe(incidentKey({ ...failed("x"), kind: "drill-failed" }));
  });
});

describe("one message per incident", () => {
  it("one message per incident: a retry or a new wording sends nothing, a recovery when it clears", async () => {
    const dir = await mkdtemp(join(tmpdir(), "alerts-"));
    try {
      const sent: Alert[] = [];
      const clock = manualClock(when);
      const ledger = new JsonAlertLedger(join(dir, "alerts.json"));
      const n = incidentNotifier([{ channel: recorder(sent), id: "0:hook" }], ledger, clock, fail, HOUR * 6);
      const app = (i: Incident) => i.repo === "acme/app";
      await n.report([failed("x")], app, when);
      clock.advance(HOUR);
      await n.report([failed("x")], app, when); // the retry
      await n.report([failed("y")], app, when); // the same incident, other words
      expect(sent.map((a) => a.why)).toEqual(["x"]);
      // Another repository is another incident; a run that did not check acme/app clears nothing.
      await n.report([{ ...failed("z"), repo: "acme/lib" }], (i) => i.repo === "acme/lib", when);
      expect(sent.map((a) => `${a.repo} ${a.why}`)).toEqual(["acme/app x", "acme/lib z"]);
      // A new ledger over the same file: the memory survives the process. acme/app checked, gone: cleared.
      const again = incidentNotifier(
        [{ channel: recorder(sent), id: "0:hook" }],
        new JsonAlertLedger(join(dir, "alerts.json")),
        clock,
        fail,
      );
      await again.report([], app, "2026-12-01T12:00:00.000Z");
      expect(sent.at(-1)).toEqual({
        kind: "backup-failed",
        repo: "acme/app",
        why: "a backup of the repository succeeded",
        when: "2026-12-01T12:00:00.000Z",
        resolved: true,
      });
      await again.report([], app, when);
      expect(sent).toHaveLength(3); // cleared once
      await again.report([failed("x")], app, when); // back: a new incident, at once
      expect(sent).toHaveLength(4);
      expect(Object.keys(JSON.parse(await readFile(join(dir, "alerts.json"), "utf8")))).toEqual([
        "0:hook\nbackup-failed\nacme/lib",
        "0:hook\nbackup-failed\nacme/app",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an incident still open is sent again once the window has passed, not before", async () => {
    const sent: Alert[] = [];
    const clock = manualClock(when);
    const n = incidentNotifier(
      [{ channel: recorder(sent), id: "0:hook" }],
      new MemoryAlertLedger(),
      clock,
      fail,
      HOUR * 6,
    );
    const all = () => true;
    await n.report([failed("x")], all, when);
    clock.advance(HOUR * 6 - 1);
    await n.report([failed("x")], all, when);
    clock.advance(2);
    await n.report([failed("x")], all, when);
    clock.advance(HOUR);
    await n.report([failed("x")], all, when);
    expect(sent).toHaveLength(2);
  });

  it("two instances sharing the ledger send one message between them, and one recovery", async () => {
    const sent: Alert[] = [];
    const ledger = new MemoryAlertLedger();
    const clock = manualClock(when);
    const instance = () => incidentNotifier([{ channel: recorder(sent), id: "0:hook" }], ledger, clock, fail);
    const all = () => true;
    await Promise.all([
      instance().report([failed("x")], all, when),
      instance().report([failed("x")], all, when),
    ]);
    expect(sent).toHaveLength(1);
    await Promise.all([instance().report([], all, when), instance().report([], all, when)]);
    expect(sent.map((a) => a.resolved ?? false)).toEqual([false, true]);
  });

  it("per channel: a send that failed is tried again next run, a recovery that failed too", async () => {
    const ledger = new MemoryAlertLedger();
    let up = false;
    const sent: string[] = [];
    const failures: string[] = [];
    const flaky = {
      name: "hook",
      send: async (a: Alert) => {
        if (!up) throw new Error("down");
        sent.push(`${a.resolved ? "resolved " : ""}${a.why}`);
      },
    };
    const n = incidentNotifier([{ channel: flaky, id: "0:hook" }], ledger, manualClock(when), (name, err) =>
      failures.push(`${name}: ${(err as Error).message}`),
    );
    const all = () => true;
    await n.report([failed("x")], all, when);
    expect(await ledger.openIncidents("")).toEqual(new Map());
    up = true;
    await n.report([failed("x")], all, when);
    await n.report([failed("x")], all, when);
    up = false;
    await n.report([], all, when);
    expect((await ledger.openIncidents("")).size).toBe(1); // put back
    up = true;
    await n.report([], all, when);
    await n.report([], all, when);
    expect(sent).toEqual(["x", "resolved a backup of the repository succeeded"]);
    expect(failures).toEqual(["hook: down", "hook: down"]);
  });

  it("a failing channel is reported and the others still get the alert", async () => {
    const got: string[] = [];
    const failures: string[] = [];
    const n = incidentNotifier(
      [
        {
          channel: { name: "broken", send: async () => Promise.reject(new Error("refused")) },
          id: "0:broken",
        },
        { channel: { name: "fine", send: async (a) => void got.push(a.repo) }, id: "1:fine" },
      ],
      new MemoryAlertLedger(),
      manualClock(when),
      (name, err) => failures.push(`${name}: ${(err as Error).message}`),
    );
    await n.report([failed("x")], () => true, when);
    expect(got).toEqual(["acme/app"]);
    expect(failures).toEqual(["broken: refused"]);
  });

  it("capacity and dead-letter checks become alerts; a check that did not finish clears nothing", () => {
    const checks: HealthCheck[] = [
      {
        name: "capacity",
        status: "warning",
        reason: "r",
        ms: 1,
        incidents: [{ subject: "capacity.budgetBytes", why: "projected to pass it in 12 days" }],
      },
      { name: "dead-letters", status: "failed", reason: "no answer within 10 s", ms: 1 },
    ];
    expect(checkAlerts(checks, when)).toEqual([
      { kind: "capacity", repo: "capacity.budgetBytes", why: "projected to pass it in 12 days", when },
    ]);
    const checked = checksChecked(checks);
    expect(checked({ kind: "capacity", repo: "capacity.growthBytesPerDay" })).toBe(true);
    expect(checked({ kind: "dead-letter-backlog", repo: "snapshot-requests-dead-letter-drain" })).toBe(false);
    expect(checked({ kind: "repository-stale", repo: "acme/app" })).toBe(false);
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
