// JsonlAuditLog: one JSON line per event, stamped with the injected clock, in a private file.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonlAuditLog } from "../../functions/adapters/local/jsonl-audit-log.js";
import { BackupError } from "../../functions/core/errors.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { entryHash, GENESIS, verifyChain } from "../../functions/core/audit-chain.js";
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
    expect(JSON.parse(lines[0]!)).toEqual({
      at: "2026-11-27T10:44:55.123Z",
      ...created,
      seq: 1,
      prev: GENESIS,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
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
    expect(entries[0]).toMatchObject({ at: "2026-11-27T10:44:55.123Z", ...created, seq: 1 });
    expect(entries[1]).toMatchObject({ seq: 2, prev: entries[0]!.hash });
  });

  it("reads a missing file as an empty log", async () => {
    expect(await log.readAll()).toEqual([]);
  });

  it("keeps lines whole when many events are recorded without waiting", async () => {
    const big = "x".repeat(100_000);
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.record({ ...created, details: { i, big } })));
    const entries = await log.readAll();
    expect(entries.map((e) => e.details?.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await verifyChain(log.stored())).ok).toBe(true);
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

describe("the audit trail's hash chain", () => {
  let dir: string;
  let file: string;
  let clock: ManualClock;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-audit-chain-"));
    file = path.join(dir, "audit.jsonl");
    clock = new ManualClock("2026-11-27T10:00:00.000Z");
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function writeTen(): Promise<JsonlAuditLog> {
    const log = new JsonlAuditLog({ path: file, clock });
    for (let i = 1; i <= 10; i++) {
      clock.advance(1000);
      await log.record({
        ...created,
        action: i % 2 ? "snapshot.created" : "restore.completed",
        details: { i },
      });
    }
    return log;
  }

  async function editLines(edit: (lines: string[]) => string[]): Promise<void> {
    const lines = (await readFile(file, "utf8")).split("\n").filter(Boolean);
    await writeFile(file, edit(lines).join("\n") + "\n");
  }

  it("verifies an untouched log and reports its head", async () => {
    const log = await writeTen();
    const report = await verifyChain(log.stored());
    expect(report).toMatchObject({ ok: true, entries: 10, unchained: 0, head: { seq: 10 } });
    expect(report.head.hash).toBe((await log.readAll()).at(-1)!.hash);
  });

  it("chains across processes: a second writer continues the first one's chain", async () => {
    await writeTen();
    const other = new JsonlAuditLog({ path: file, clock });
    await Promise.all([other.record(created), new JsonlAuditLog({ path: file, clock }).record(created)]);
    const report = await verifyChain(other.stored());
    expect(report).toMatchObject({ ok: true, entries: 12 });
  });

  it.each([
    [
      "a changed detail",
      (l: string[]) => l.map((x, i) => (i === 4 ? x.replace('"i":5', '"i":50') : x)),
      "line 5",
      /content does not match its hash/,
    ],
    [
      "a changed outcome with its hash recomputed by hand is still caught by the next entry",
      (l: string[]) => l.map((x, i) => (i === 4 ? rehash(x, { outcome: "failure" }) : x)),
      "line 6",
      /prev is not the hash/,
    ],
    ["a removed entry", (l: string[]) => l.filter((_, i) => i !== 3), "line 4", /sequence 5 where 4 was due/],
    [
      "two entries swapped",
      (l: string[]) => [...l.slice(0, 2), l[3]!, l[2]!, ...l.slice(4)],
      "line 3",
      /sequence 4 where 3 was due/,
    ],
    [
      "an inserted unchained entry",
      (l: string[]) => [...l.slice(0, 7), JSON.stringify({ at: "x", ...created }), ...l.slice(7)],
      "line 8",
      /unchained entry after the chain began/,
    ],
    [
      "a line that is not JSON",
      (l: string[]) => [...l.slice(0, 2), "{torn", ...l.slice(2)],
      "line 3",
      /not a JSON object/,
    ],
  ])("names the first bad entry for %s", async (_what, edit, position, reason) => {
    const log = await writeTen();
    await editLines(edit);
    const report = await verifyChain(log.stored());
    expect(report.ok).toBe(false);
    expect(report.firstBad?.position).toBe(position);
    expect(report.firstBad?.reason).toMatch(reason);
  });

  it("covers entries written before the chain existed, and catches a change to them", async () => {
    const legacy = [1, 2, 3].map((i) =>
      JSON.stringify({ at: `2026-11-2${i}T00:00:00.000Z`, ...created, details: { i } }),
    );
    await writeFile(file, legacy.join("\n") + "\n");
    const log = new JsonlAuditLog({ path: file, clock });
    await log.record(created);
    await log.record(created);
    expect(await verifyChain(log.stored())).toMatchObject({ ok: true, entries: 2, unchained: 3 });
    await editLines((l) => [l[0]!.replace('"i":1', '"i":9'), ...l.slice(1)]);
    const report = await verifyChain(log.stored());
    expect(report).toMatchObject({ ok: false, firstBad: { position: "line 4", seq: 1 } });
  });

  it("keeps recording after a torn last write; verify names the torn line", async () => {
    const log = await writeTen();
    await writeFile(file, '{"action":"snapshot.cre', { flag: "a" });
    await log.record(created);
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines[10]).toBe('{"action":"snapshot.cre');
    expect(JSON.parse(lines[11]!)).toMatchObject({ seq: 11, action: "snapshot.created" });
    const report = await verifyChain(log.stored());
    expect(report).toMatchObject({ ok: false, entries: 10, firstBad: { position: "line 11" } });
  });

  it("takes over a lock left by a dead process", async () => {
    const log = await writeTen();
    await writeFile(`${file}.lock`, "999999999");
    await log.record(created);
    expect((await verifyChain(log.stored())).entries).toBe(11);
  });
});

/** A line with fields changed and its own hash recomputed, as a forger who knows the rule would. */
function rehash(line: string, change: Record<string, unknown>): string {
  const value = { ...(JSON.parse(line) as Record<string, unknown>), ...change };
  return JSON.stringify({ ...value, hash: entryHash(value) });
}
