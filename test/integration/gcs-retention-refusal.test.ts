// Cloud Storage's refusal to delete a retained object, as the service words it. fake-gcs-server
// stores retention but enforces none (docs/TESTING.md), so a thin proxy in front of it enforces
// what Google does: a DELETE of an object under object retention, a bucket retention policy or a
// hold answers 403 with Google's JSON error (reason "retentionPolicyNotMet"), on the proxy's own
// clock. The real client parses it; the adapter must read it as RetainedError, and prune must keep
// what the store refused and take it once the retention has ended.
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcsBlobStore } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { RetainedError } from "../../functions/core/errors.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { emulators, uniqueName } from "../helpers/emulators.js";

/** An enforcing proxy: its clock, the bucket retention period it applies, and what it refused. */
interface Enforcer {
  url: string;
  now: number;
  bucketRetentionSeconds: number;
  refused: { key: string; body: unknown }[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Why Google would refuse to delete this object now, in its own error shape, or undefined. */
function refusal(bucket: string, key: string, meta: Record<string, unknown>, e: Enforcer) {
  const retention = meta.retention as { retainUntilTime?: string } | undefined;
  const created = Date.parse(String(meta.timeCreated));
  const until = Math.max(
    retention?.retainUntilTime ? Date.parse(retention.retainUntilTime) : 0,
    e.bucketRetentionSeconds ? created + e.bucketRetentionSeconds * 1000 : 0,
  );
  const held = meta.temporaryHold === true || meta.eventBasedHold === true;
  if (!held && until <= e.now) return undefined;
  const message = held
    ? `Object '${bucket}/${key}' is under active hold and cannot be deleted, overwritten or archived until the hold is removed.`
    : `Object '${bucket}/${key}' is subject to object retention or the bucket's retention policy and cannot be deleted or overwritten until ${new Date(until).toISOString()}`;
  return {
    error: { code: 403, message, errors: [{ message, domain: "global", reason: "retentionPolicyNotMet" }] },
  };
}

async function startEnforcer(upstream: string): Promise<Enforcer> {
  const enforcer = { now: Date.now(), bucketRetentionSeconds: 0, refused: [] } as unknown as Enforcer;
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url!, upstream);
    const object = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/?]+)$/.exec(url.pathname);
    if (req.method === "DELETE" && object) {
      const [, bucket, encoded] = object as unknown as [string, string, string];
      const meta = await fetch(new URL(`/storage/v1/b/${bucket}/o/${encoded}`, upstream));
      if (meta.ok) {
        const why = refusal(
          bucket,
          decodeURIComponent(encoded),
          (await meta.json()) as Record<string, unknown>,
          enforcer,
        );
        if (why) {
          enforcer.refused.push({ key: decodeURIComponent(encoded), body: why });
          res.writeHead(403, { "content-type": "application/json; charset=UTF-8" });
          res.end(JSON.stringify(why));
          return;
        }
      }
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(
        ([name]) => !["host", "content-length", "connection"].includes(name),
      ),
    ) as Record<string, string>;
    const answer = await fetch(url, {
      method: req.method!,
      headers,
      ...(body.length ? { body: new Uint8Array(body) } : {}),
      redirect: "manual",
    });
    const out = Buffer.from(await answer.arrayBuffer());
    const back: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name))
        back[name] = name === "location" ? value.replace(upstream, enforcer.url) : value;
    });
    res.writeHead(answer.status, back);
    res.end(out);
  };
  const server: Server = createServer((req, res) => {
    forward(req, res).catch((err: unknown) => {
      res.writeHead(502);
      res.end(String(err));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  enforcer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  enforcer.close = () => new Promise((resolve) => server.close(() => resolve()));
  return enforcer;
}

const body = (text = "archive") => Readable.from([Buffer.from(text)]);

describe("Cloud Storage's retention refusal, through the real client", () => {
  let enforcer: Enforcer;
  let storage: Storage;
  let store: GcsBlobStore;
  let scratch: string;
  const bucket = uniqueName("refusing");

  beforeAll(async () => {
    const { storageUrl, projectId } = emulators();
    enforcer = await startEnforcer(storageUrl);
    // STORAGE_EMULATOR_HOST would send the JSON API calls past the proxy, straight to the emulator.
    const saved = process.env.STORAGE_EMULATOR_HOST;
    delete process.env.STORAGE_EMULATOR_HOST;
    try {
      storage = new Storage({ apiEndpoint: enforcer.url, projectId });
    } finally {
      process.env.STORAGE_EMULATOR_HOST = saved;
    }
    await storage.createBucket(bucket);
    store = new GcsBlobStore({ storage, bucket });
    scratch = await mkdtemp(join(tmpdir(), "infinity-refusal-"));
  });

  afterAll(async () => {
    await enforcer?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("an object under retention: the 403 is RetainedError naming the date; the object stays; after the date it goes", async () => {
    const key = "repos/acme/app/2026/01/01/20260101T000000000Z-0000000a.ibk";
    await store.put(key, body(), { retainUntil: "2099-01-01T00:00:00Z" });
    const err = await store.delete(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetainedError);
    expect((err as Error).message).toMatch(/retained until 2099-01-01T00:00:00.000Z; it is not deleted/);
    expect(enforcer.refused.map((r) => r.key)).toEqual([key]);
    expect(await store.stat(key)).toBeDefined();
    enforcer.now = Date.parse("2099-01-02T00:00:00Z");
    await store.delete(key);
    expect(await store.stat(key)).toBeUndefined();
    enforcer.now = Date.now();
  });

  it("a bucket retention policy the object's metadata does not show: Google's reason alone makes it RetainedError", async () => {
    const key = "repos/acme/app/2026/01/01/20260101T000000000Z-0000000b.ibk";
    await store.put(key, body());
    enforcer.bucketRetentionSeconds = 86_400;
    try {
      expect((await store.stat(key))?.retainUntil).toBeUndefined();
      const err = await store.delete(key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetainedError);
      expect((err as Error).message).toMatch(/under retention or hold \(Object '.*' is subject to/);
      expect(await store.stat(key)).toBeDefined();
    } finally {
      enforcer.bucketRetentionSeconds = 0;
    }
  });

  it("prune keeps an orphan the bucket still retains and collects it once the retention has ended", async () => {
    const key = "repos/acme/orphans/2026/01/01/20260101T000000000Z-0000000c.ibk";
    await store.put(key, body("orphan"));
    const index = new SqliteSnapshotIndex({ path: join(scratch, "index.sqlite") });
    const events: AuditEvent[] = [];
    const deps = {
      store,
      index,
      keys: undefined as never, // prune never opens an archive
      audit: { record: async (e: AuditEvent) => void events.push(e) },
      clock: { now: () => new Date(enforcer.now) },
    };
    enforcer.bucketRetentionSeconds = 3 * 86_400;
    try {
      const run = {
        dryRun: false,
        actor: "test",
        orphanGraceMs: 1,
        now: new Date(Date.now() + 2 * 86_400_000),
      };
      const first = await pruneRepo(deps, "acme/orphans", DEFAULT_RETENTION_POLICY, run);
      expect(first.orphans).toEqual([]);
      expect(await store.stat(key)).toBeDefined();
      expect(enforcer.refused.at(-1)).toMatchObject({
        key,
        body: { error: { code: 403, errors: [{ reason: "retentionPolicyNotMet" }] } },
      });
      enforcer.now = Date.now() + 4 * 86_400_000;
      const later = await pruneRepo(deps, "acme/orphans", DEFAULT_RETENTION_POLICY, {
        ...run,
        now: new Date(enforcer.now),
      });
      expect(later.orphans.map((o) => o.key)).toEqual([key]);
      expect(await store.stat(key)).toBeUndefined();
      expect(events.filter((e) => e.action === "prune.orphan").map((e) => e.details?.objectKey)).toEqual([
        key,
      ]);
    } finally {
      enforcer.bucketRetentionSeconds = 0;
      enforcer.now = Date.now();
      index.close();
    }
  });
});
