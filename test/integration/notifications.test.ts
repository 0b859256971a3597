// Notifications end to end through the CLI: a real SMTP server (smtp-server) and a local HTTP
// webhook receive what a failing backup sends; the same problem is not sent twice within the
// window, a different one is; a failing channel fails neither the backup nor the other channel;
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

async function writeConfig(brokenUrl: string): Promise<void> {
  const text = await readFile(ws.configFile, "utf8");
  await writeFile(ws.configFile, text.replace(/url: ".*nowhere[^"]*"/, `url: ${JSON.stringify(brokenUrl)}`));
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

describe("notifications", () => {
  it("a failing source sends one mail and one webhook naming the repository and why", async () => {
    const { code, logs } = await cli("backup");
    expect(code).toBe(1);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(["ops@example.com"]);
    expect(mails[0]!.from).toBe("backup@example.com");
    expect(mails[0]!.raw).toMatch(/^Subject: infinity-backup: backup failed: acme\/broken/m);
    expect(mails[0]!.raw).toMatch(/why: .*nowhere\.git/);
    expect(mails[0]!.raw).not.toMatch(/acme\/app/);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ kind: "backup-failed", repo: "acme/broken" });
    expect(String(hooks[0]!.text)).toMatch(/backup failed: acme\/broken/);
    expect(String(hooks[0]!.why)).toMatch(/nowhere\.git/);
    expect(Date.parse(String(hooks[0]!.when))).not.toBeNaN();
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain("hookSecretXyZ123");
  });

  it("the same problem again within the window sends nothing", async () => {
    const { code } = await cli("backup");
    expect(code).toBe(1);
    expect(mails).toHaveLength(1);
    expect(hooks).toHaveLength(1);
  });

  it("a different problem sends one more", async () => {
    await writeConfig(join(scratch, "nowhere-else.git"));
    const { code } = await cli("backup");
    expect(code).toBe(1);
    expect(mails).toHaveLength(2);
    expect(mails[1]!.raw).toMatch(/nowhere-else\.git/);
    expect(hooks).toHaveLength(2);
    expect(hooks[1]).toMatchObject({ kind: "backup-failed", repo: "acme/broken" });
  });

  it("a webhook answering 500 fails neither the backup nor the mail, and is logged by host only", async () => {
    hookStatus = 500;
    try {
      await writeConfig(join(scratch, "nowhere-3.git"));
      const { code, logs } = await cli("backup");
      expect(code).toBe(1); // acme/broken, as before: the notification changes nothing
      expect(mails).toHaveLength(3);
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
    // The webhook that failed gets the problem on the next run; the mail is not sent again.
    expect((await cli("backup", "--repo", "acme/broken")).code).toBe(1);
    expect(mails).toHaveLength(3);
    expect(hooks).toHaveLength(3);
    expect(String(hooks[2]!.why)).toMatch(/nowhere-3\.git/);
  });

  it("an SMTP server that refuses fails neither the backup nor the webhook; no secret in the logs", async () => {
    smtpRefuses = true;
    try {
      await writeConfig(join(scratch, "nowhere-4.git"));
      const { code, logs } = await cli("backup", "--repo", "acme/broken");
      expect(code).toBe(1);
      expect(mails).toHaveLength(3);
      expect(hooks).toHaveLength(4);
      expect(String(hooks[3]!.why)).toMatch(/nowhere-4\.git/);
      expect(logs).toMatch(new RegExp(`notification via email 127\\.0\\.0\\.1:${smtpPort} failed: .*550`));
      expect(logs).not.toContain(PASSWORD);
      expect(logs).not.toContain("hookSecretXyZ123");
    } finally {
      smtpRefuses = false;
    }
  });

  it("a healthy run sends nothing; the memory is a small file in the data folder", async () => {
    const { code } = await cli("backup", "--repo", "acme/app");
    expect(code).toBe(0);
    expect(mails).toHaveLength(3);
    expect(hooks).toHaveLength(4);
    const memory = JSON.parse(await readFile(join(ws.dir, "data", "alerts.json"), "utf8"));
    // Per channel: mail for nowhere, -else, -3 (not -4: refused); webhook for all four.
    expect(Object.keys(memory)).toHaveLength(7);
    expect(JSON.stringify(memory)).not.toContain("hookSecretXyZ123");
  });
});

describe("notifications from status", () => {
  it("a repository never backed up is sent as stale once; the mail refused earlier is sent now", async () => {
    const before = { mails: mails.length, hooks: hooks.length };
    await cli("status");
    // Mail: the stale repository, and the failed attempt the SMTP server refused before (its
    // channel did not remember it). Webhook: the stale repository only (it had the attempt).
    expect(mails).toHaveLength(before.mails + 2);
    expect(hooks).toHaveLength(before.hooks + 1);
    const subjects = mails.slice(-2).map((m) => /^Subject: (.*)$/m.exec(m.raw)![1]!.trim());
    expect(subjects.sort()).toEqual([
      "infinity-backup: backup failed: acme/broken",
      "infinity-backup: repository stale: acme/broken",
    ]);
    expect(mails.slice(-2).some((m) => /nowhere-4\.git/.test(m.raw))).toBe(true);
    expect(hooks.at(-1)).toMatchObject({ kind: "repository-stale", repo: "acme/broken", why: "no snapshot" });
    await cli("status");
    expect(mails).toHaveLength(before.mails + 2);
    expect(hooks).toHaveLength(before.hooks + 1);
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
