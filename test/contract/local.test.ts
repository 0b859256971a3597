// Runs the port contracts against the local (laptop) adapters, each in a fresh temp folder, plus
// the few behaviours only a folder or a SQLite file has.
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import {
  type InProcessMessage,
  InProcessPublisher,
} from "../../functions/adapters/local/in-process-publisher.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { BackupError, ConflictError, UserInputError } from "../../functions/core/errors.js";
import { observeListing } from "../../functions/core/lineage/inventory.js";
import { LineageIndex } from "../../functions/core/lineage/lineage-index.js";
import { SqliteDeliveryLog } from "../../functions/adapters/local/sqlite-delivery-log.js";
import { JsonAlertLedger } from "../../functions/adapters/local/json-alert-ledger.js";
import { MemoryAlertLedger } from "../../functions/adapters/notify/memory-alert-ledger.js";
import { alertLedgerContract } from "./alert-ledger.js";
import { blobStoreContract } from "./blob-store.js";
import { failingAtOnce, settled, withSlowOpen } from "../helpers/slow-open.js";
import { deliveryLogContract } from "./delivery-log.js";
import { keyWrapperContract } from "./key-wrapper.js";
import { keyRecordsContract } from "./key-records.js";
import { type Delivered, publisherContract } from "./publisher.js";
import { ManualClock, snapshot, snapshotIndexContract } from "./snapshot-index.js";

async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-local-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

blobStoreContract("FsBlobStore", async () => {
  const { dir, cleanup } = await tempDir();
  const clock = new ManualClock();
  return { store: new FsBlobStore({ root: path.join(dir, "blobs"), clock }), clock, cleanup };
});

deliveryLogContract("SqliteDeliveryLog", async () => {
  const { dir, cleanup } = await tempDir();
  const log = new SqliteDeliveryLog(path.join(dir, "state", "deliveries.sqlite"));
  return {
    log,
    cleanup: async () => {
      log.close();
      await cleanup();
    },
  };
});

keyRecordsContract("SqliteKeyRecords", async () => {
  const { dir, cleanup } = await tempDir();
  const index = new SqliteSnapshotIndex({ path: path.join(dir, "index.sqlite") });
  return {
    records: index.keyRecords(),
    cleanup: async () => {
      index.close();
      await cleanup();
    },
  };
});

alertLedgerContract("JsonAlertLedger", async () => {
  const { dir, cleanup } = await tempDir();
  return { ledger: new JsonAlertLedger(path.join(dir, "alerts.json")), cleanup };
});

alertLedgerContract("MemoryAlertLedger", async () => ({
  ledger: new MemoryAlertLedger(),
  cleanup: async () => {},
}));

snapshotIndexContract("SqliteSnapshotIndex", async (clock) => {
  const { dir, cleanup } = await tempDir();
  const index = new SqliteSnapshotIndex({ path: path.join(dir, "state", "index.sqlite"), clock });
  return {
    index,
    cleanup: async () => {
      index.close();
      await cleanup();
    },
  };
});

keyWrapperContract("KeyFileWrapper", async () => {
  const { dir, cleanup } = await tempDir();
  const wrapper = await KeyFileWrapper.open(path.join(dir, "keys", "backup.key"), {
    create: true,
    clock: new ManualClock(),
  });
  return {
    wrapper,
    rotate: async () => {
      await wrapper.rotate();
    },
    cleanup,
  };
});

publisherContract("InProcessPublisher", async () => {
  const publisher = new InProcessPublisher();
  const seen = new Map<string, Delivered[]>();
  const topics = ["snapshot-requests", "snapshot-large", "verify-requests", "prune-requests"] as const;
  const unsubscribe = topics.map((topic) =>
    publisher.subscribe(topic, ({ id, data }) => {
      seen.set(topic, [...(seen.get(topic) ?? []), { id, data }]);
    }),
  );
  return {
    publisher,
    // Delivery is in-process: once the publisher is idle, everything published has arrived.
    received: async (topic) => (await publisher.idle(), [...(seen.get(topic) ?? [])]),
    cleanup: async () => unsubscribe.forEach((stop) => stop()),
  };
});

const text = (value: string) => Readable.from([Buffer.from(value)]);

/** The first schema, as a file written before the attempts table existed holds it. */
const MIGRATIONS_V1 = `CREATE TABLE snapshots (repo TEXT NOT NULL, id TEXT NOT NULL, taken_at TEXT NOT NULL,
  record TEXT NOT NULL, PRIMARY KEY (repo, id)) WITHOUT ROWID;
  CREATE INDEX snapshots_by_time ON snapshots (repo, taken_at, id);
  CREATE TABLE leases (repo TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at_ms INTEGER NOT NULL) WITHOUT ROWID;`;

/** The second step: the attempts table (schema v2, before the repository registry). */
const ATTEMPTS_V2 = `CREATE TABLE attempts (repo TEXT PRIMARY KEY, at TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;`;

describe("FsBlobStore, folder specifics", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: FsBlobStore;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    store = new FsBlobStore({ root: dir, clock: new ManualClock() });
  });
  afterEach(async () => cleanup());

  it("stores the object as a plain file at its key, and leaves no temp file behind", async () => {
    await store.put("repos/acme/w/x.ibk", text("archive"));
    expect((await stat(path.join(dir, "repos", "acme", "w", "x.ibk"))).size).toBe(7);
    expect(await readdir(path.join(dir, ".tmp"))).toEqual([]);
  });

  it("leaves no temp file after a failed body", async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1000);
        throw new Error("boom");
      })(),
    );
    await expect(store.put("a/b", failing)).rejects.toThrow("boom");
    expect(await readdir(path.join(dir, ".tmp"))).toEqual([]);
  });

  it("leaves no temp file when the body fails while the file is still being opened", async () => {
    // A file stream destroyed while its open is pending still creates the file, then closes it;
    // put must not remove its temp file, and reject, before that.
    await withSlowOpen(100, () =>
      expect(store.put("early", failingAtOnce("gone at once"))).rejects.toThrow("gone at once"),
    );
    await settled(100);
    expect(await readdir(path.join(dir, ".tmp"))).toEqual([]);
  });

  it("cleans temp files older than an hour on open, and keeps younger ones", async () => {
    await store.put("warm", text("up"));
    const old = path.join(dir, ".tmp", "dead-put");
    const young = path.join(dir, ".tmp", "live-put");
    await writeFile(old, "partial");
    await writeFile(young, "partial");
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    const reopened = new FsBlobStore({ root: dir });
    expect(await reopened.stat("warm")).toBeDefined(); // stat does not open; put does
    await reopened.put("other", text("x"));
    expect(await readdir(path.join(dir, ".tmp"))).toEqual(["live-put"]);
  });

  it("keeps .tmp and .meta out of listings and refuses them as keys", async () => {
    await store.put("a", text("x"), { metadata: { m: "1" } });
    const keys: string[] = [];
    for await (const info of store.list("")) keys.push(info.key);
    expect(keys).toEqual(["a"]);
    await expect(store.put(".meta/a", text("x"))).rejects.toBeInstanceOf(UserInputError);
    await expect(store.stat(".tmp/x")).rejects.toBeInstanceOf(UserInputError);
  });

  it("refuses a key segment too long for a file name", async () => {
    await expect(store.put(`a/${"x".repeat(256)}`, text("x"))).rejects.toBeInstanceOf(UserInputError);
  });

  it("cannot hold both a key and a key below it, but frees the name after delete", async () => {
    await store.put("a/b", text("x"));
    await expect(store.put("a", text("y"))).rejects.toBeInstanceOf(ConflictError);
    await expect(store.put("a/b/c", text("y"))).rejects.toBeInstanceOf(ConflictError);
    await store.delete("a/b");
    await store.put("a", text("y")); // the emptied folder was pruned
    expect((await store.stat("a"))?.size).toBe(1);
  });

  it("treats a file copied in by hand as an object with no metadata", async () => {
    await store.put("warm", text("up"));
    await writeFile(path.join(dir, "dropped"), "hand");
    expect(await store.stat("dropped")).toMatchObject({
      key: "dropped",
      size: 4,
      storageClass: "LOCAL",
      metadata: {},
    });
  });

  it("reports a damaged sidecar as an error naming the key", async () => {
    await store.put("k", text("x"));
    await writeFile(path.join(dir, ".meta", "k.meta.json"), "{not json");
    await expect(store.stat("k")).rejects.toThrow(/blob k .* damaged/);
  });

  it("keeps sidecars as .meta.json, never under the archive's own .ibk name", async () => {
    await store.put("repos/acme/w/x.ibk", text("archive"), { metadata: { m: "1" } });
    expect(await readdir(path.join(dir, ".meta", "repos", "acme", "w"))).toEqual(["x.ibk.meta.json"]);
  });

  it("reads sidecars a store wrote under the old name, and replaces them on the next change", async () => {
    const key = "repos/acme/w/old.ibk";
    await store.put(key, text("archive"), { metadata: { m: "1" } });
    const folder = path.join(dir, ".meta", "repos", "acme", "w");
    // As an earlier version left it: the sidecar named exactly like the object.
    const sidecar = JSON.parse(await readFile(path.join(folder, "old.ibk.meta.json"), "utf8")) as object;
    await rm(path.join(folder, "old.ibk.meta.json"));
    await writeFile(path.join(folder, "old.ibk"), JSON.stringify({ ...sidecar, storageClass: "NEARLINE" }));
    const reopened = new FsBlobStore({ root: dir, clock: new ManualClock() });
    expect(await reopened.stat(key)).toMatchObject({ storageClass: "NEARLINE", metadata: { m: "1" } });
    const listed: unknown[] = [];
    for await (const info of reopened.list("repos/")) listed.push(info);
    expect(listed).toMatchObject([{ key, storageClass: "NEARLINE" }]);

    await reopened.setLifecycle(key, { storageClass: "COLDLINE" });
    expect(await readdir(folder)).toEqual(["old.ibk.meta.json"]);
    expect(await reopened.stat(key)).toMatchObject({ storageClass: "COLDLINE", metadata: { m: "1" } });

    await writeFile(path.join(folder, "old.ibk"), JSON.stringify(sidecar)); // both names present
    await reopened.delete(key);
    expect(await readdir(path.join(dir, ".meta"))).toEqual([]);
  });

  it("serializes concurrent puts of one key: one wins, the other conflicts, metadata matches", async () => {
    const results = await Promise.allSettled(
      ["1", "2", "3"].map((n) => store.put("race", text(n), { metadata: { n } })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ metadata: Record<string, string> }>).value;
    const body = Buffer.concat(await (await store.get("race")).toArray()).toString("utf8");
    expect((await store.stat("race"))?.metadata).toEqual(winner.metadata);
    expect(body).toBe(winner.metadata.n);
  });
});

describe("SqliteSnapshotIndex, file specifics", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it("persists across reopen, in WAL mode with a schema version", async () => {
    const file = path.join(dir, "index.sqlite");
    const first = new SqliteSnapshotIndex({ path: file, clock: new ManualClock() });
    const s = snapshot({ id: "20261127T000000000Z-00000001" });
    await first.commit(s);
    first.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(7); // v7: storage-class replays
    db.close();
    const second = new SqliteSnapshotIndex({ path: file, clock: new ManualClock() });
    expect(await second.get(s.repo, s.id)).toEqual(s);
    second.close();
  });

  it("upgrades an index written by the first schema in place, keeping its snapshots", async () => {
    const file = path.join(dir, "index.sqlite");
    const old = new Database(file);
    old.exec(MIGRATIONS_V1);
    old.pragma("user_version = 1");
    const s = snapshot({ id: "20261127T000000000Z-00000009" });
    old
      .prepare("INSERT INTO snapshots (repo, id, taken_at, record) VALUES (?, ?, ?, ?)")
      .run(s.repo, s.id, s.takenAt, JSON.stringify(s));
    old.close();
    const index = new SqliteSnapshotIndex({ path: file, clock: new ManualClock() });
    expect(await index.get(s.repo, s.id)).toEqual(s);
    await index.recordAttempt(s.repo, { at: s.takenAt, outcome: "created", snapshotId: s.id });
    expect(Object.keys(await index.attempts())).toEqual([s.repo]);
    index.close();
  });

  it("upgrades a v2 index (no registry) in place: its history continues across a rename", async () => {
    const file = path.join(dir, "index.sqlite");
    const old = new Database(file);
    old.exec(MIGRATIONS_V1);
    old.exec(ATTEMPTS_V2);
    old.pragma("user_version = 2");
    const s = snapshot({ id: "20261127T000000000Z-0000000a", repo: "acme/widget" });
    old
      .prepare("INSERT INTO snapshots (repo, id, taken_at, record) VALUES (?, ?, ?, ?)")
      .run(s.repo, s.id, s.takenAt, JSON.stringify(s));
    old
      .prepare("INSERT INTO attempts (repo, at, record) VALUES (?, ?, ?)")
      .run(s.repo, s.takenAt, JSON.stringify({ at: s.takenAt, outcome: "created", snapshotId: s.id }));
    old.close();
    const adapter = new SqliteSnapshotIndex({ path: file, clock: new ManualClock() });
    const db = new Database(file, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(7); // v7: storage-class replays
    db.close();
    const index = new LineageIndex(adapter);
    expect(await index.get(s.repo, s.id)).toEqual(s);
    await observeListing(
      index,
      [{ name: "acme/widget", url: "u", id: 77 }],
      new Date("2026-11-28T00:00:00Z"),
    );
    await observeListing(
      index,
      [{ name: "acme/renamed", url: "u", id: 77 }],
      new Date("2026-11-29T00:00:00Z"),
    );
    expect(await index.list("acme/renamed")).toEqual([s]);
    expect(await index.repos()).toEqual(["acme/renamed"]);
    expect(Object.keys(await index.attempts())).toEqual(["acme/renamed"]);
    adapter.close();
  });

  it("refuses a file from a newer schema, naming it", async () => {
    const file = path.join(dir, "index.sqlite");
    const db = new Database(file);
    db.pragma("user_version = 99");
    db.close();
    expect(() => new SqliteSnapshotIndex({ path: file })).toThrow(/index\.sqlite has schema version 99/);
  });

  it("refuses a file that is not a database, with the path and the cause", async () => {
    const file = path.join(dir, "index.sqlite");
    await writeFile(file, "this is not sqlite, but it is long enough to have a header".repeat(20));
    let error: unknown;
    try {
      new SqliteSnapshotIndex({ path: file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BackupError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).cause).toBeDefined();
  });

  it("answers listAll from memory only while the file is unchanged, by this handle or another", async () => {
    const file = path.join(dir, "index.sqlite");
    const a = new SqliteSnapshotIndex({ path: file, clock: new ManualClock() });
    const b = new SqliteSnapshotIndex({ path: file, clock: new ManualClock() });
    const first = snapshot({ id: "20261127T000000000Z-00000001" });
    await a.commit(first);
    const confirmedAt = (index: SqliteSnapshotIndex) =>
      index.listAll().then((all) => all.get(first.repo)?.[0]?.confirmedAt);
    expect(await confirmedAt(a)).toBe(first.confirmedAt);
    // Another handle (another process: a backup beside `serve`) confirms, then commits.
    await b.confirm(first.repo, first.id, "2026-11-28T00:00:00.000Z");
    expect(await confirmedAt(a)).toBe("2026-11-28T00:00:00.000Z");
    await b.commit(snapshot({ id: "20261128T000000000Z-00000002", repo: "acme/other" }));
    expect([...(await a.listAll()).keys()]).toEqual(["acme/other", "acme/widget"]);
    // This handle's own write.
    await a.confirm(first.repo, first.id, "2026-11-29T00:00:00.000Z");
    expect(await confirmedAt(a)).toBe("2026-11-29T00:00:00.000Z");
    // A caller changing its answer changes no later one.
    (await a.listAll()).get(first.repo)!.length = 0;
    expect((await a.listAll()).get(first.repo)).toHaveLength(1);
    a.close();
    b.close();
  });

  it("shares leases between two handles on one file", async () => {
    const file = path.join(dir, "index.sqlite");
    const clock = new ManualClock();
    const a = new SqliteSnapshotIndex({ path: file, clock });
    const b = new SqliteSnapshotIndex({ path: file, clock });
    expect(await a.acquireLease("acme/w", "a", 60_000)).toBeDefined();
    expect(await b.acquireLease("acme/w", "b", 60_000)).toBeUndefined();
    a.close();
    b.close();
  });
});

describe("InProcessPublisher, in-process specifics", () => {
  const request = (i: number) => ({
    v: 1,
    repo: `acme/r${i}`,
    reason: "push",
    requestedAt: "2026-11-27T00:00:00Z",
  });

  it("queues until drained, and drain empties the queue", async () => {
    const publisher = new InProcessPublisher();
    const ids = await publisher.publish("snapshot-requests", [request(1), request(2)]);
    expect(publisher.drain("verify-requests")).toEqual([]);
    expect(publisher.drain("snapshot-requests")).toEqual([
      { id: ids[0], topic: "snapshot-requests", data: request(1) },
      { id: ids[1], topic: "snapshot-requests", data: request(2) },
    ]);
    expect(publisher.drain("snapshot-requests")).toEqual([]);
  });

  it("delivers what was queued before subscribing, in order, and none of it again", async () => {
    const publisher = new InProcessPublisher();
    await publisher.publish("snapshot-requests", [request(1), request(2)]);
    const got: unknown[] = [];
    publisher.subscribe("snapshot-requests", (m) => void got.push(m.data));
    await publisher.publish("snapshot-requests", [request(3)]);
    await publisher.idle();
    expect(got).toEqual([request(1), request(2), request(3)]);
    expect(publisher.drain("snapshot-requests")).toEqual([]);
  });

  it("keeps a message whose handler threw, with the error, and goes on with the next", async () => {
    const publisher = new InProcessPublisher();
    const got: unknown[] = [];
    publisher.subscribe("snapshot-requests", async (m) => {
      if ((m.data as { repo: string }).repo === "acme/r2") throw new Error("handler failed");
      got.push(m.data);
    });
    const ids = await publisher.publish("snapshot-requests", [request(1), request(2), request(3)]);
    await publisher.idle();
    expect(got).toEqual([request(1), request(3)]);
    const left: InProcessMessage[] = publisher.drain("snapshot-requests");
    expect(left).toMatchObject([{ id: ids[1], data: request(2), error: new Error("handler failed") }]);
    expect(publisher.drain("snapshot-requests")).toEqual([]);
  });

  it("calls handlers after publish returns, so a handler can publish onwards", async () => {
    const publisher = new InProcessPublisher();
    const verified: unknown[] = [];
    publisher.subscribe("snapshot-requests", async (m) => {
      const { repo } = m.data as { repo: string };
      await publisher.publish("verify-requests", [{ v: 1, repo, snapshotId: "s1" }]);
    });
    publisher.subscribe("verify-requests", (m) => void verified.push(m.data));
    const publishing = publisher.publish("snapshot-requests", [request(1)]);
    expect(verified).toEqual([]); // not called from inside publish
    await publishing;
    await publisher.idle();
    expect(verified).toEqual([{ v: 1, repo: "acme/r1", snapshotId: "s1", level: "deep" }]);
  });

  it("takes one subscriber per topic, and queues again after it unsubscribes", async () => {
    const publisher = new InProcessPublisher();
    const stop = publisher.subscribe("prune-requests", () => {});
    expect(() => publisher.subscribe("prune-requests", () => {})).toThrow(/already has a subscriber/);
    stop();
    await publisher.publish("prune-requests", [{ v: 1 }]);
    await publisher.idle();
    expect(publisher.drain("prune-requests").map((m) => m.data)).toEqual([{ v: 1, dryRun: false }]);
  });
});
