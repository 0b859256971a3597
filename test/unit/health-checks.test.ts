// The named health checks against real local adapters wrapped in the fault wrappers: a store that
// fails writes, a key wrapper that gives other bytes back, a slow index; and the probe leaves
// nothing behind.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Request, Response } from "@google-cloud/functions-framework";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CloudApp } from "../../functions/app.js";
import { loadSettings } from "../../functions/config/settings.js";
import { healthHandler } from "../../functions/handlers/health.js";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { runHealthChecks, type HealthCheck } from "../../functions/core/health-checks.js";
import { healthReport, type HealthReport } from "../../functions/core/health.js";
import type { Snapshot } from "../../functions/core/model.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { snapshot } from "../contract/snapshot-index.js";
import { delay, failAlways, faultyIndex, faultyKeys, faultyStore, permanent } from "../helpers/faults.js";

const NOW = new Date("2026-12-01T12:00:00Z");
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const clock = { now: () => NOW };

let dir: string;
let store: FsBlobStore;
let keys: KeyFileWrapper;
let index: SqliteSnapshotIndex;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ib-checks-"));
  store = new FsBlobStore({ root: join(dir, "archives") });
  keys = await KeyFileWrapper.open(join(dir, "key.json"), { create: true });
  index = new SqliteSnapshotIndex({ path: join(dir, "index.sqlite") });
});
afterEach(async () => {
  index.close?.();
  await rm(dir, { recursive: true, force: true });
});

async function report(): Promise<HealthReport> {
  return healthReport(
    { index, clock },
    {
      expected: [],
      policy: DEFAULT_RETENTION_POLICY,
      prices: DEFAULT_PRICING,
      pricingSource: "built-in",
      newObjectClass: "LOCAL",
    },
  );
}

const byName = (checks: HealthCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

async function listAll(): Promise<string[]> {
  const keysFound: string[] = [];
  for await (const o of store.list("")) keysFound.push(o.key);
  return keysFound;
}

function verified(repo: string, secondsAgo: number, verdict: "ok" | "failed", size = 1000): Snapshot {
  return {
    ...snapshot({ id: `s-${repo.replace("/", "-")}`, repo, takenAt: ago(secondsAgo), size }),
    confirmedAt: ago(secondsAgo),
    verification: {
      verdict,
      level: "deep",
      at: ago(secondsAgo),
      ...(verdict === "failed" ? { detail: "bad" } : {}),
    },
  };
}

describe("runHealthChecks", () => {
  it("all ok over working adapters, and the storage probe leaves nothing behind", async () => {
    await index.commit(verified("acme/app", 60, "ok"));
    const checks = byName(
      await runHealthChecks(
        { index, store, keys, diskSpace: async () => ({ freeBytes: 5e9, totalBytes: 1e10 }) },
        await report(),
      ),
    );
    expect(Object.keys(checks).sort()).toEqual(
      ["capacity", "index", "key", "stale", "storage", "verification"].sort(),
    );
    for (const c of Object.values(checks)) expect([c.name, c.status]).toEqual([c.name, "ok"]);
    expect(checks.index!.reason).toMatch(/^answered a one-record read in \d+ ms$/);
    expect(await listAll()).toEqual([]);
  });

  it("a store that fails writes: storage failed with the reason, nothing left", async () => {
    const broken = faultyStore(store, failAlways("put", permanent("disk is read-only")));
    const checks = byName(await runHealthChecks({ index, store: broken }, await report()));
    expect(checks.storage!.status).toBe("failed");
    expect(checks.storage!.reason).toBe("could not write a probe object: disk is read-only");
    expect(await listAll()).toEqual([]);
  });

  it("a store whose read fails after the write: failed, and the probe is still deleted", async () => {
    const broken = faultyStore(store, failAlways("get", permanent("read refused")));
    const checks = byName(await runHealthChecks({ index, store: broken }, await report()));
    expect(checks.storage!.status).toBe("failed");
    expect(checks.storage!.reason).toBe("could not read a probe object: read refused");
    expect(broken.faults.calls.delete).toBe(1);
    expect(await listAll()).toEqual([]);
  });

  it("a store opened read-only: a warning, and nothing is written", async () => {
    const watched = faultyStore(store);
    const checks = byName(
      await runHealthChecks({ index, store: watched, storeReadOnly: true }, await report()),
    );
    expect(checks.storage).toMatchObject({
      status: "warning",
      reason: expect.stringMatching(/^opened read-only/),
    });
    expect([watched.faults.calls.put, watched.faults.calls.list]).toEqual([undefined, 1]);
  });

  it("a key wrapper that gives other bytes back: key failed", async () => {
    const liar = faultyKeys({
      wrap: (k: Buffer) => keys.wrap(k),
      unwrap: async (w) => {
        const b = Buffer.from(await keys.unwrap(w));
        b[0] = b[0]! ^ 1;
        return b;
      },
    });
    const checks = byName(await runHealthChecks({ index, keys: liar }, await report()));
    expect(checks.key!.status).toBe("failed");
    expect(checks.key!.reason).toMatch(/^key local:[0-9a-f]+ unwrapped other bytes than it wrapped$/);
  });

  it("a slow index times out without holding up the others", async () => {
    const slow = faultyIndex(index, delay("get", 2000));
    const started = Date.now();
    const checks = byName(await runHealthChecks({ index: slow, keys }, await report(), { timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(checks.index).toMatchObject({ status: "failed", reason: "no answer within 0.2 s" });
    expect(checks.key!.status).toBe("ok");
  });

  it("probes the ports while the report is still being made, and checks the report once it is", async () => {
    await index.commit(verified("acme/app", 3 * 86_400, "ok"));
    const probed: string[] = [];
    const watched = new Proxy(index, {
      get(target, key, receiver) {
        if (key === "get") probed.push("index");
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    let deliver!: (r: Awaited<ReturnType<typeof report>>) => void;
    const pending = new Promise<Awaited<ReturnType<typeof report>>>((resolve) => (deliver = resolve));
    const running = runHealthChecks({ index: watched, keys }, pending, { timeoutMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    // The index was asked before the report came, and the wait did not count against the report's checks.
    expect(probed).toEqual(["index"]);
    deliver(await report());
    const checks = byName(await running);
    expect(checks.index!.status).toBe("ok");
    expect(checks.key!.status).toBe("ok");
    expect(checks.stale).toMatchObject({ status: "failed" });
    expect(checks.verification!.status).toBe("ok");
    expect(checks.capacity!.status).not.toBe("failed");
  });

  it("a throwing check is failed with its reason scrubbed of credentials", async () => {
    const checks = byName(
      await runHealthChecks(
        {
          index,
          rateLimit: () =>
            Promise.reject(new Error("GET https://x-access-token:ghs_SECRETSECRET@api.github.com failed")),
        },
        await report(),
      ),
    );
    expect(checks.github!.status).toBe("failed");
    expect(checks.github!.reason).not.toContain("ghs_SECRETSECRET");
  });

  it("GitHub rate limit: ok above 10 %, warning under", async () => {
    const run = async (remaining: number) =>
      byName(
        await runHealthChecks({ index, rateLimit: async () => ({ limit: 5000, remaining }) }, await report()),
      ).github!;
    expect((await run(4000)).status).toBe("ok");
    const low = await run(100);
    expect(low.status).toBe("warning");
    expect(low.reason).toContain("100 of 5000");
  });

  it("capacity against the budget (80 % warns, 100 % fails) and the disk's free space", async () => {
    await index.commit(verified("acme/app", 60, "ok", 900));
    const r = await report();
    const cap = async (budgetBytes: number, freeBytes = 1e9) =>
      byName(
        await runHealthChecks({ index, diskSpace: async () => ({ freeBytes, totalBytes: 2e9 }) }, r, {
          budgetBytes,
        }),
      ).capacity!;
    expect((await cap(10_000_000)).status).toBe("ok");
    expect((await cap(1000)).status).toBe("warning");
    // A daily 900 B archive: the cost report's projection passes 10,000 B within the 30 days warned of.
    const soon = await cap(10_000);
    expect(soon.status).toBe("warning");
    expect(soon.reason).toMatch(
      /^900 B stored of a 9\.8 KiB budget \(9 %\); projected to pass it in \d+ days/,
    );
    expect(soon.incidents).toEqual([
      { subject: "capacity.budgetBytes", why: expect.stringMatching(/projected/) },
    ]);
    const full = await cap(900);
    expect(full.status).toBe("failed");
    expect(full.reason).toMatch(/^900 B stored of a 900 B budget \(100 %\); /);
    const disk = await cap(10_000_000, 1e8);
    expect(disk.status).toBe("warning");
    expect(disk.reason).toContain("95.4 MiB free");
    expect((await cap(10_000_000, 1500)).status).toBe("warning"); // under twice the largest archive
  });

  it("stale repositories and failed verifications are counted", async () => {
    await index.commit(verified("acme/old", 3 * 86_400, "ok"));
    await index.commit(verified("acme/bad", 60, "failed"));
    await index.commit(verified("acme/good", 60, "ok"));
    const checks = byName(await runHealthChecks({ index }, await report()));
    expect(checks.stale).toMatchObject({ status: "failed", reason: "1 stale: acme/old" });
    expect(checks.verification).toMatchObject({
      status: "failed",
      reason: "1 failed verification: acme/bad",
    });
  });
});

describe("backupHealth's checks", () => {
  it("runs the index-only checks (no storage, key or GitHub) and answers them in checks: [...]", async () => {
    await index.commit(verified("acme/app", 60, "ok"));
    const config = fileURLToPath(new URL("../../config/backup-config.yaml", import.meta.url));
    const settings = await loadSettings(config, { BACKUP_LOCATION: "gs://archives" });
    const sent: unknown[] = [];
    const app = { clock, index, settings, notifier: { report: async (a: unknown) => void sent.push(a) } };
    const res = { code: 0, body: undefined as unknown };
    const response = {
      status(code: number) {
        res.code = code;
        return response;
      },
      json(body: unknown) {
        res.body = body;
      },
    };
    await healthHandler(async () => app as unknown as CloudApp)(
      {} as Request,
      response as unknown as Response,
    );
    const body = res.body as { ok: boolean; checks: HealthCheck[] };
    expect(body.checks.map((c) => [c.name, c.status])).toEqual([
      ["index", "ok"],
      ["capacity", "ok"],
      ["stale", "ok"],
      ["verification", "ok"],
    ]);
    expect([res.code, body.ok]).toEqual([200, true]);
  });
});
