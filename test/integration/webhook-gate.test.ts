// githubWebhook served by the Functions Framework's own main.js (as Cloud Functions runs it), in a
// child process whose peak RSS (VmHWM) is read from /proc: unsigned and oversized bodies are
// refused without being buffered or parsed, bad JSON is a small JSON 400, a wrong method 405, and a
// redelivered event is published once. A function the gate does not cover shows the measurement
// is sensitive: the framework buffers its 30 MB body.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { freePort, stopGroup } from "../setup/process.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MAIN = path.join(ROOT, "node_modules/@google-cloud/functions-framework/build/src/main.js");
const SECRET = "whsec-gate-test-do-not-leak";
const MB = 1024 * 1024;

interface Served {
  child: ChildProcess;
  port: number;
  dir: string;
}

async function serve(target: string): Promise<Served> {
  const dir = mkdtempSync(path.join(tmpdir(), "ib-webhook-gate-"));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      MAIN,
      `--target=${target}`,
      `--source=${path.join(ROOT, "test/helpers/webhook-function.ts")}`,
      `--port=${port}`,
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WEBHOOK_TEST_SECRET: SECRET, WEBHOOK_TEST_DIR: dir, NODE_ENV: "test" },
    },
  );
  let out = "";
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`framework did not start:\n${out}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Serving function")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`framework exited (${code}):\n${out}`)));
  });
  child.stdout!.resume();
  return { child, port, dir };
}

/** Peak resident memory of a process so far, in bytes (Linux). */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends `size` bytes of a nested JSON array (`[[[[…`), 64 KiB at a time from one reused buffer, so
 * the sender holds no body. Stops sending once the answer is in; a connection the server closes
 * after answering is not an error.
 */
function send(
  port: number,
  options: { method?: string; size: number; headers?: Record<string, string>; chunked?: boolean },
): Promise<Answer> {
  const chunk = Buffer.alloc(64 * 1024, "[");
  return new Promise((resolve, reject) => {
    let answer: Answer | undefined;
    const req = request({
      host: "127.0.0.1",
      port,
      method: options.method ?? "POST",
      path: "/",
      headers: {
        "content-type": "application/json",
        ...(options.chunked ? {} : { "content-length": String(options.size) }),
        ...options.headers,
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        answer = { status: res.statusCode!, headers: res.headers, body };
        resolve(answer);
      });
    });
    req.on("error", (err) => {
      // EPIPE/ECONNRESET after the answer came, or while it is being read: wait for it.
      setTimeout(() => (answer ? resolve(answer) : reject(err)), 500);
    });
    let sent = 0;
    const pump = () => {
      while (sent < options.size && !answer && !req.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, options.size - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once("drain", pump);
      }
      if (!req.destroyed && !req.writableEnded) req.end();
    };
    pump();
  });
}

const sign = (body: string) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;

function push(deliveryId: string, body?: string): Promise<Answer> {
  const payload = body ?? JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "acme/app" } });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: webhook.port,
        method: "POST",
        path: "/",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": deliveryId,
          "x-hub-signature-256": sign(payload),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function publishedFor(dir: string, deliveryId: string): number {
  let lines: string[] = [];
  try {
    lines = readFileSync(path.join(dir, "published.jsonl"), "utf8").split("\n").filter(Boolean);
  } catch {
    return 0;
  }
  return lines.filter((l) => (JSON.parse(l) as { m: { deliveryId?: string } }).m.deliveryId === deliveryId)
    .length;
}

let webhook: Served;
beforeAll(async () => {
  webhook = await serve("githubWebhook");
  // Warm up (lazy imports, the first connections) so growth measures the requests, not the start.
  await send(webhook.port, { size: MB });
  await push(randomUUID());
}, 60_000);
afterAll(async () => {
  if (webhook) {
    await stopGroup(webhook.child.pid!);
    rmSync(webhook.dir, { recursive: true, force: true });
  }
});

/** A signed delivery of `event` through HTTP, as GitHub sends it. */
function deliver(event: string, payload: unknown): Promise<Answer> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const headers = {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(body),
    };
    const req = request(
      { host: "127.0.0.1", port: webhook.port, method: "POST", path: "/", headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("githubWebhook: inventory events", () => {
  it("applies a rename to the registry and requests a snapshot of the new name; a bad one is a 400", async () => {
    const repository = { id: 9001, full_name: "acme/renamed", name: "renamed", owner: { login: "acme" } };
    const answer = await deliver("repository", {
      action: "renamed",
      repository,
      changes: { repository: { name: { from: "original" } } },
      installation: { id: 12 },
    });
    expect(answer.status, answer.body).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ result: "inventory", requested: ["acme/renamed"] });
    const lines = readFileSync(path.join(webhook.dir, "published.jsonl"), "utf8").split("\n").filter(Boolean);
    expect(lines.map((l) => JSON.parse(l) as { topic: string; m: { repo: string } }).at(-1)).toMatchObject({
      topic: "snapshot-requests",
      m: { repo: "acme/renamed", reason: "event" },
    });
    const index = new SqliteSnapshotIndex({ path: path.join(webhook.dir, "index.sqlite") });
    try {
      expect(await index.repositoriesNamed("acme/original")).toMatchObject([
        { id: 9001, key: "acme/original", name: "acme/renamed", installationId: 12 },
      ]);
    } finally {
      index.close();
    }

    const bad = await deliver("repository", { action: "deleted", repository: { full_name: "acme/x" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/invalid repository payload: repository\.id/);
  }, 30_000);
});

describe("githubWebhook behind the body gate, served by the framework's main.js", () => {
  it("answers 20 concurrent unsigned 30 MB nested arrays 401, holding none of them", async () => {
    const before = peakRss(webhook.child.pid!);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send(webhook.port, { size: 30 * MB })),
    );
    const growth = peakRss(webhook.child.pid!) - before;
    console.log(
      `unsigned 20 x 30 MB: peak RSS ${Math.round(before / MB)} MB -> +${(growth / MB).toFixed(1)} MB`,
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(401));
    expect(JSON.parse(answers[0]!.body)).toEqual({ error: expect.stringContaining("x-hub-signature-256") });
    expect(answers[0]!.body).not.toContain("<");
    // The bar is 100 MB for these 20; one ungated 30 MB body alone costs more than 25 MB.
    expect(growth).toBeLessThan(50 * MB);
  }, 120_000);

  it("answers 20 concurrent signed-looking 30 MB bodies 413 by their Content-Length", async () => {
    const before = peakRss(webhook.child.pid!);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        send(webhook.port, { size: 30 * MB, headers: { "x-hub-signature-256": `sha256=${"0".repeat(64)}` } }),
      ),
    );
    const growth = peakRss(webhook.child.pid!) - before;
    console.log(`declared 20 x 30 MB: +${(growth / MB).toFixed(1)} MB`);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(413));
    expect(JSON.parse(answers[0]!.body)).toEqual({ error: `request body is larger than ${25 * MB} bytes` });
    expect(growth).toBeLessThan(30 * MB);
  }, 120_000);

  it("stops reading a chunked body at 25 MB (413), and holds at most two such bodies at once (503)", async () => {
    const before = peakRss(webhook.child.pid!);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        send(webhook.port, {
          size: 30 * MB,
          chunked: true,
          headers: { "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
        }),
      ),
    );
    const growth = peakRss(webhook.child.pid!) - before;
    console.log(`chunked 6 x 30 MB: +${(growth / MB).toFixed(1)} MB`);
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 413 || s === 503)).toBe(true);
    expect(statuses).toContain(503);
    expect(answers.find((a) => a.status === 503)!.headers["retry-after"]).toBe("30");
    // The budget is 50 MB of bodies; the rest is Node's own buffers.
    expect(growth).toBeLessThan(100 * MB);
  }, 120_000);

  it("answers a signed body that is not JSON with a small JSON 400, and GET with 405", async () => {
    const bad = await push(randomUUID(), '{"repository": [[[');
    expect(bad.status).toBe(400);
    expect(bad.headers["content-type"]).toMatch(/application\/json/);
    expect(JSON.parse(bad.body)).toEqual({ error: "push payload is not valid JSON" });
    const get = await send(webhook.port, { method: "GET", size: 0 });
    expect(get.status).toBe(405);
    expect(get.headers["allow"]).toBe("POST");
    expect(JSON.parse(get.body)).toEqual({ error: "use POST, not GET" });
    const wrong = await send(webhook.port, { size: 100, headers: { "x-hub-signature-256": "sha256=00" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain(SECRET);
  });

  it("publishes a delivery once: a redelivery and ten concurrent copies are answered 202 duplicate", async () => {
    const id = randomUUID();
    const first = await push(id);
    expect(first.status).toBe(202);
    expect(JSON.parse(first.body)).toMatchObject({ result: "snapshot" });
    const again = await push(id);
    expect(again.status).toBe(202);
    expect(JSON.parse(again.body)).toMatchObject({ result: "duplicate" });
    expect(publishedFor(webhook.dir, id)).toBe(1);

    const burst = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => push(burst)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(
      answers.filter((a) => (JSON.parse(a.body) as { result: string }).result === "snapshot"),
    ).toHaveLength(1);
    expect(publishedFor(webhook.dir, burst)).toBe(1);
  });
});

describe("the measurement is sensitive", () => {
  it("a function without the gate buffers a 30 MB body (the framework's body-parser)", async () => {
    const health = await serve("backupHealth");
    try {
      const before = peakRss(health.child.pid!);
      const big = Buffer.alloc(30 * MB, "a");
      await new Promise<void>((resolve) => {
        const req = request(
          {
            host: "127.0.0.1",
            port: health.port,
            method: "POST",
            path: "/",
            headers: { "content-type": "application/octet-stream" },
          },
          (res) => {
            res.resume();
            res.on("end", resolve);
          },
        );
        req.on("error", () => resolve());
        req.end(big);
      });
      const growth = peakRss(health.child.pid!) - before;
      console.log(`ungated 1 x 30 MB raw body: +${(growth / MB).toFixed(1)} MB`);
      expect(growth).toBeGreaterThan(25 * MB);
    } finally {
      await stopGroup(health.child.pid!);
      rmSync(health.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
