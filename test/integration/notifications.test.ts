// Notifications end to end through the CLI: a real SMTP server (smtp-server) and a local HTTP
// webhook receive what a failing backup sends, once per incident (a retry or other words send
// nothing), and one recovery when it clears; a failing channel fails neither the backup nor the
// other channel and is tried again next run; status sends capacity and staleness the same way;
// the SMTP password and the webhook's secret path appear in no output.
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../functions/cli/main.js";
import { richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const PASSWORD = "smtp-Pa55word-never-shown";
const SECRET_PATH = "/services/T0AAA/B0BBB/hookSecretXyZ123";

interface Mail {
  from: string;
  to: string[];
  raw: string;
}
const mails: Mail[] = [];
let smtpRefuses = false;
const hooks: Record<string, unknown>[] = [];
let hookStatus = 200;

let smtp: SMTPServer;
let smtpPort: number;
let http: Server;
let httpPort: number;
let ws: TestWorkspace;
let scratch: string;
let good: string;
/** Another good repository, where acme/broken's source is pointed when it is fixed. */
let fixed: string;

class Capture {
  text = "";
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs the CLI; `logs` is everything written to stdout, stderr and process.stderr. */
async function cli(...argv: string[]): Promise<{ code: number; logs: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  let direct = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    direct += String(chunk);
    return true;
  });
  try {
    const code = await main([...argv, "--config", ws.configFile], {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
    });
    return { code, logs: stdout.text + stderr.text + direct };
  } finally {
    spy.mockRestore();
  }
}

/** Points acme/broken's source at `url` (a missing repository, or `fixed`). */
async function writeConfig(url: string): Promise<void> {
  const text = await readFile(ws.configFile, "utf8");
  const next = text.replace(/(name: acme\/broken\n {4}url: )".*"/, `$1${JSON.stringify(url)}`);
  if (next === text && !text.includes(JSON.stringify(url))) throw new Error("acme/broken's url not found");
  await writeFile(ws.configFile, next);
}

beforeAll(async () => {
  smtp = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === "backup" && auth.password === PASSWORD) cb(null, { user: "backup" });
      else cb(new Error("bad login"));
    },
    onMailFrom(_address, _session, cb) {
      if (smtpRefuses) {
        const err = new Error("mailbox unavailable") as Error & { responseCode: number };
        err.responseCode = 550;
        cb(err);
      } else cb();
    },
    onData(stream, session, cb) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          // Quoted-printable soft line breaks undone: the text as a reader sees it.
          raw: raw.replace(/=\r?\n/g, ""),
        });
        cb();
      });
    },
  });
  await new Promise<void>((res) => smtp.listen(0, "127.0.0.1", () => res()));
  smtpPort = (smtp.server.address() as { port: number }).port;
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      if (req.url === SECRET_PATH && req.method === "POST" && hookStatus === 200)
        hooks.push(JSON.parse(body) as Record<string, unknown>);
      res.statusCode = req.url === SECRET_PATH ? hookStatus : 404;
      res.end(hookStatus === 200 ? "ok" : "boom");
    });
  });
  await new Promise<void>((res) => http.listen(0, "127.0.0.1", () => res()));
  httpPort = (http.address() as { port: number }).port;

  scratch = await mkdtemp(join(tmpdir(), "infinity-notify-"));
  good = await richRepo(scratch);
  fixed = await richRepo(await mkdtemp(join(scratch, "fixed-")));
  const notifications = [
    "notifications:",
    "  email:",
    "    to: [ops@example.com]",
    "    from: backup@example.com",
    `    smtp: { host: 127.0.0.1, port: ${smtpPort}, secure: false, user: backup }`,
    "  webhooks:",
    `    - url: http://127.0.0.1:${httpPort}${SECRET_PATH}`,
    "",
  ].join("\n");
  ws = await workspace({ "acme/app": good, "acme/broken": join(scratch, "nowhere.git") }, notifications);
  process.env.SMTP_PASSWORD = PASSWORD;
});

afterAll(async () => {
  delete process.env.SMTP_PASSWORD;
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
  await new Promise<void>((res) => smtp?.close(() => res()));
  await new Promise<void>((res) => http?.close(() => res()));
});

const subject = (m: Mail) => /^Subject: (.*)$/m.exec(m.raw)![1]!.trim();

describe("notifications: one message per incident, and one when it clears", () => {
  it("a failing source sends one mail and one webhook naming the repository and why", async () => {
    const { code, logs } = await cli("backup");
    expect(code).toBe(1);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(["ops@example.com"]);
    expect(mails[0]!.from).toBe("backup@example.com");
    expect(subject(mails[0]!)).toBe("infinity-backup: backup failed: acme/broken");
    expect(mails[0]!.raw).toMatch(/why: .*nowhere\.git/);
    expect(mails[0]!.raw).not.toMatch(/acme\/app/);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ kind: "backup-failed", repo: "acme/broken" });
    expect(hooks[0]).not.toHaveProperty("resolved");
    expect(String(hooks[0]!.text)).toMatch(/backup failed: acme\/broken/);
    expect(String(hooks[0]!.why)).toMatch(/nowhere\.git/);
    expect(Date.parse(String(hooks[0]!.when))).not.toBeNaN();
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain("hookSecretXyZ123");
  });

  it("a retry that fails again sends nothing", async () => {
    expect((await cli("backup")).code).toBe(1);
    expect((await cli("backup", "--repo", "acme/broken")).code).toBe(1);
    expect(mails).toHaveLength(1);
    expect(hooks).toHaveLength(1);
  });

  it("the same incident failing with other words sends nothing", async () => {
    await writeConfig(join(scratch, "nowhere-else.git"));
    expect((await cli("backup")).code).toBe(1);
    expect(mails).toHaveLength(1);
    expect(hooks).toHaveLength(1);
  });

  it("a backup that succeeds again sends one recovery, once", async () => {
    await writeConfig(fixed);
    expect((await cli("backup", "--repo", "acme/broken")).code).toBe(0);
    expect(mails).toHaveLength(2);
    expect(subject(mails[1]!)).toBe("infinity-backup: resolved: backup failed: acme/broken");
    expect(mails[1]!.raw).toMatch(/cleared: a backup of the repository succeeded/);
    expect(hooks).toHaveLength(2);
    expect(hooks[1]).toMatchObject({ kind: "backup-failed", repo: "acme/broken", resolved: true });
    expect((await cli("backup", "--repo", "acme/broken")).code).toBe(0);
    expect(mails).toHaveLength(2);
    expect(hooks).toHaveLength(2);
  });

  it("a webhook answering 500 fails neither the backup nor the mail, is logged by host only, and gets it next run", async () => {
    hookStatus = 500;
    try {
      await writeConfig(join(scratch, "nowhere-3.git"));
      const { code, logs } = await cli("backup", "--repo", "acme/broken");
      expect(code).toBe(1); // the backup's own failure: the notification changes nothing
      expect(mails).toHaveLength(3); // a new incident: it had cleared
      expect(mails[2]!.raw).toMatch(/nowhere-3\.git/);
      expect(hooks).toHaveLength(2);
      expect(logs).toMatch(
        new RegExp(`notification via webhook 127\\.0\\.0\\.1:${httpPort} failed: .*HTTP 500`),
      );
      expect(logs).not.toContain("hookSecretXyZ123");
      expect(logs).not.toContain(PASSWORD);
    } finally {
      hookStatus = 200;
    }
    // The webhook that failed gets the incident on the next run; the mail is not sent again.
    expect((await cli("backup", "--repo", "acme/broken")).code).toBe(1);
    expect(mails).toHaveLength(3);
    expect(hooks).toHaveLength(3);
    expect(String(hooks[2]!.why)).toMatch(/nowhere-3\.git/);
  });

  it("an SMTP server that refuses the recovery fails nothing; the mail is sent on the next run", async () => {
    smtpRefuses = true;
    try {
      await writeConfig(fixed);
      const { code, logs } = await cli("backup", "--repo", "acme/broken");
      expect(code).toBe(0);
      expect(mails).toHaveLength(3);
      expect(hooks).toHaveLength(4);
      expect(hooks[3]).toMatchObject({ repo: "acme/broken", resolved: true });
      expect(logs).toMatch(new RegExp(`notification via email 127\\.0\\.0\\.1:${smtpPort} failed: .*550`));
      expect(logs).not.toContain(PASSWORD);
      expect(logs).not.toContain("hookSecretXyZ123");
    } finally {
      smtpRefuses = false;
    }
    expect((await cli("backup", "--repo", "acme/broken")).code).toBe(0);
    expect(mails).toHaveLength(4);
    expect(subject(mails[3]!)).toBe("infinity-backup: resolved: backup failed: acme/broken");
    expect(hooks).toHaveLength(4);
  });

  it("a healthy run sends nothing; the memory holds no closed incident and no secret", async () => {
    expect((await cli("backup")).code).toBe(0);
    expect(mails).toHaveLength(4);
    expect(hooks).toHaveLength(4);
    const memory = JSON.parse(await readFile(join(ws.dir, "data", "alerts.json"), "utf8"));
    expect(memory).toEqual({});
  });
});

describe("notifications from status", () => {
  it("a capacity rule not met is sent once per channel, and its recovery when the rule is met", async () => {
    const config = await readFile(ws.configFile, "utf8");
    try {
      await writeFile(ws.configFile, `${config}capacity:\n  budgetBytes: 1000\n`);
      const before = { mails: mails.length, hooks: hooks.length };
      await cli("status");
      await cli("status");
      expect(mails.slice(before.mails).map(subject)).toEqual([
        "infinity-backup: capacity warning: capacity.budgetBytes",
      ]);
      expect(hooks.slice(before.hooks)).toEqual([
        expect.objectContaining({
          kind: "capacity",
          repo: "capacity.budgetBytes",
          why: expect.stringMatching(/stored of a 1000 B budget/),
        }),
      ]);
      await writeFile(ws.configFile, `${config}capacity:\n  budgetBytes: 1099511627776\n`);
      await cli("status");
      await cli("status");
      expect(mails.slice(before.mails).map(subject)).toEqual([
        "infinity-backup: capacity warning: capacity.budgetBytes",
        "infinity-backup: resolved: capacity warning: capacity.budgetBytes",
      ]);
      expect(hooks.slice(before.hooks).map((h) => h.resolved ?? false)).toEqual([false, true]);
    } finally {
      await writeFile(ws.configFile, config);
    }
  });

  it("a repository never backed up is sent as stale once", async () => {
    const config = await readFile(ws.configFile, "utf8");
    try {
      await writeFile(
        ws.configFile,
        config.replace("sources:\n", `sources:\n  - name: acme/never\n    url: ${JSON.stringify(fixed)}\n`),
      );
      const before = { mails: mails.length, hooks: hooks.length };
      await cli("status");
      await cli("status");
      expect(mails.slice(before.mails).map(subject)).toEqual([
        "infinity-backup: repository stale: acme/never",
      ]);
      expect(hooks.slice(before.hooks)).toEqual([
        expect.objectContaining({ kind: "repository-stale", repo: "acme/never", why: "no snapshot" }),
      ]);
    } finally {
      await writeFile(ws.configFile, config);
    }
  });
});

describe("a missing SMTP_PASSWORD", () => {
  it("turns the mail off with a clear line and refuses no command", async () => {
    delete process.env.SMTP_PASSWORD;
    try {
      const before = mails.length;
      const { code, logs } = await cli("list");
      expect(code).toBe(0);
      expect(logs).toMatch(
        /notifications by email are off: notifications\.email\.smtp\.user is "backup" but SMTP_PASSWORD is not set/,
      );
      expect(mails).toHaveLength(before);
    } finally {
      process.env.SMTP_PASSWORD = PASSWORD;
    }
  });
});
