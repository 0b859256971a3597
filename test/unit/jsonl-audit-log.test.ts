// JsonlAuditLog: one JSON line per event, stamped with the injected clock, in a private file.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonlAuditLog } from "../../functions/adapters/local/jsonl-audit-log.js";
import { BackupError } from "../../functions/core/errors.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { ManualClock } from "../contract/snapshot-index.js";

const created: AuditEvent = {
  action: "snapshot.created",
  repo: "acme/widget",
  snapshotId: "20261127T104455123Z-1a2b3c4d",
  actor: "scheduler",
  outcome: "success",
  details: { bytes: 1234, tiers: ["day", "week"] },
};

describe("JsonlAuditLog", () => {
  let dir: string;
  let file: string;
  let clock: ManualClock;
  let log: JsonlAuditLog;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-audit-"));
    file = path.join(dir, "state", "audit", "audit.jsonl");
    clock = new ManualClock("2026-11-27T10:44:55.123Z");
    log = new JsonlAuditLog({ path: file, clock });
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("appends one line per event, stamped with the clock, creating the folders", async () => {
    await log.record(created);
    clock.advance(1000);
    await log.record({ action: "verify.failed", actor: "cli:ana", outcome: "failure" });
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    expect(JSON.parse(lines[0]!)).toEqual({ at: "2026-11-27T10:44:55.123Z", ...created });
    expect(JSON.parse(lines[1]!)).toMatchObject({ at: "2026-11-27T10:44:56.123Z", action: "verify.failed" });
  });

  it.runIf(process.platform !== "win32")("creates the file with mode 0600", async () => {
    await log.record(created);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("reads back every entry in order", async () => {
    await log.record(created);
    await log.record({ ...created, action: "snapshot.unchanged" });
    const entries = await log.readAll();
    expect(entries.map((e) => e.action)).toEqual(["snapshot.created", "snapshot.unchanged"]);
    expect(entries[0]).toEqual({ at: "2026-11-27T10:44:55.123Z", ...created });
  });

  it("reads a missing file as an empty log", async () => {
    expect(await log.readAll()).toEqual([]);
  });

  it("keeps lines whole when many events are recorded without waiting", async () => {
    const big = "x".repeat(100_000);
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.record({ ...created, details: { i, big } })));
    const entries = await log.readAll();
    expect(entries.map((e) => e.details?.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("appends to an existing log without rewriting it", async () => {
    await log.record(created);
    const again = new JsonlAuditLog({ path: file, clock });
    await again.record({ ...created, action: "restore.completed" });
    expect((await again.readAll()).map((e) => e.action)).toEqual(["snapshot.created", "restore.completed"]);
  });

  it("does not throw for details JSON cannot hold", async () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    await log.record({ ...created, details: { count: 10n } });
    await log.record({ ...created, details: cyclic });
    const [withBigint, withCycle] = await log.readAll();
    expect(withBigint?.details).toEqual({ count: "10" });
    expect(withCycle?.details).toEqual({ unserializable: true });
    expect(withCycle?.action).toBe("snapshot.created");
  });

  it("names the file and line of a damaged entry", async () => {
    await log.record(created);
    await writeFile(file, "{broken\n", { flag: "a" });
    const err = await log.readAll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect((err as Error).message).toBe(`audit log ${file} line 2 is not valid JSON`);
  });

  it("rejects with a BackupError naming the file when it cannot append", async () => {
    const folder = path.join(dir, "a-folder");
    await mkdir(folder); // a folder where the file should be: EISDIR, even for root
    const blocked = new JsonlAuditLog({ path: folder, clock });
    const err = await blocked.record(created).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect((err as Error).message).toBe(`could not append to audit log ${folder}`);
    expect((err as Error).cause).toMatchObject({ code: "EISDIR" });
  });
});
