// Prune against the local adapters, over two months of real snapshots of a real repository taken on a
// manual clock: what a run removes and keeps (expiry, class), that a dry run changes nothing, that an
// interrupted run never leaves a record naming a missing object, orphans, holds, and the two commands.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { costCommand } from "../../functions/cli/commands/cost.js";
import { pruneCommand } from "../../functions/cli/commands/prune.js";
import type { CommandOptions, Context } from "../../functions/cli/context.js";
import { ProgressLine } from "../../functions/cli/progress.js";
import { applyRetentionEnv, loadPrunePolicy } from "../../functions/config/retention-env.js";
import { BackupError } from "../../functions/core/errors.js";
import type { BlobInfo, BlobStore } from "../../functions/core/ports.js";
import { pruneAll, pruneRepo } from "../../functions/core/prune.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { openApp, type App } from "../../functions/wiring.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const HOUR = 3_600_000;
/** Snapshot times, each after a push. Sundays: 11-30, 12-07, 01-04, 01-25. 2025-12-31 is in ISO week 2026-W01. */
const TAKEN = [
  "2025-11-28T00:00:00.000Z",
  "2025-11-30T00:00:00.000Z",
  "2025-12-02T00:00:00.000Z",
  "2025-12-07T00:00:00.000Z",
  "2025-12-08T00:00:00.000Z",
  "2025-12-10T00:00:00.000Z",
  "2025-12-10T12:00:00.000Z",
  "2025-12-31T00:00:00.000Z",
  "2026-01-01T00:00:00.000Z",
  "2026-01-04T00:00:00.000Z",
  "2026-01-20T00:00:00.000Z",
  "2026-01-20T09:00:00.000Z",
  "2026-01-25T00:00:00.000Z",
  "2026-01-26T00:00:00.000Z",
];
/** The daily prune, an hour after the 00:00 snapshot: the reference is 01-26 00:00, one hour back. */
const PRUNE_AT = "2026-01-26T01:00:00.000Z";

/**
 * Worked out by hand from the default policy (within 48h, daily 30d, weekly 90d, monthly 1y, yearly
 * 7y). keepUntil is takenAt + the longest window + the hour since the reference; null for the newest.
 * The class comes from what is kept for sure once the next snapshot lands (storage-tiers.ts).
 */
const EXPECTED_KEPT: Record<string, { until: string | null; storageClass: string }> = {
  "2025-11-28T00:00:00.000Z": { until: "2032-11-28T01:00:00.000Z", storageClass: "ARCHIVE" }, // oldest yearly 2025
  "2025-11-30T00:00:00.000Z": { until: "2026-11-30T01:00:00.000Z", storageClass: "COLDLINE" }, // monthly 2025-11
  "2025-12-07T00:00:00.000Z": { until: "2026-03-07T01:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2025-W49
  "2025-12-10T12:00:00.000Z": { until: "2026-03-10T13:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2025-W50
  "2025-12-31T00:00:00.000Z": { until: "2032-12-31T01:00:00.000Z", storageClass: "ARCHIVE" }, // yearly 2025
  "2026-01-01T00:00:00.000Z": { until: "2026-01-31T01:00:00.000Z", storageClass: "LOCAL" }, // daily: 5 more days
  "2026-01-04T00:00:00.000Z": { until: "2026-04-04T01:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2026-W01
  "2026-01-20T09:00:00.000Z": { until: "2026-02-19T10:00:00.000Z", storageClass: "LOCAL" }, // daily: 24 more days
  "2026-01-25T00:00:00.000Z": { until: "2026-04-25T01:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2026-W04
  "2026-01-26T00:00:00.000Z": { until: null, storageClass: "LOCAL" }, // newest: open-ended
};
const EXPECTED_REMOVED = [
  "2026-01-20T00:00:00.000Z",
  "2025-12-10T00:00:00.000Z",
  "2025-12-08T00:00:00.000Z",
  "2025-12-02T00:00:00.000Z",
];

let scratch: string;
let base: TestWorkspace;
/** takenAt -> snapshot id, the same in every copy of the base workspace. */
const idAt = new Map<string, string>();
const open: { app: App; dir: string }[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-prune-"));
  const source = await richRepo(scratch);
  base = await workspace({ [REPO]: source });
  const clock = manualClock(TAKEN[0]);
  const app = await base.open(clock);
  try {
    const [repo] = await app.sources.listRepos();
    const remote = await app.sources.gitRemote(repo!);
    for (const [i, at] of TAKEN.entries()) {
      await pushCommit(source, "main", "history.txt", `change ${i}\n`);
      clock.set(at);
      const outcome = await snapshotRepo(app, REPO, remote, { actor: "test" });
      expect(outcome.outcome).toBe("created");
      idAt.set(at, outcome.snapshot.id);
    }
  } finally {
    await app.close();
  }
}, 120_000);

afterAll(async () => {
  for (const { app, dir } of open) {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
  await base?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the base workspace (config, index, archives, key, audit log), opened at PRUNE_AT. */
async function fresh(at = PRUNE_AT) {
  const dir = await mkdtemp(join(tmpdir(), "infinity-prune-ws-"));
  await cp(base.dir, dir, { recursive: true });
  const clock = manualClock(at);
  const configFile = join(dir, "config", "backup-config.yaml");
  const app = await openApp(configFile, { clock, env: {} });
  open.push({ app, dir });
  return { app, clock, configFile, dir };
}

async function listAll(store: BlobStore, prefix = "repos/"): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of store.list(prefix)) out.push(info);
  return out;
}

/** Everything a prune could change: the records, the objects with their lifecycle, the audit log. */
async function state(app: App) {
  const records = await app.index.list(REPO);
  const objects = await listAll(app.store);
  const stats = await Promise.all(objects.map((o) => app.store.stat(o.key)));
  const audit = await readFile(join(app.dataDir, "audit.jsonl"), "utf8");
  return { records, objects, stats, audit };
}

async function auditEvents(
  app: App,
): Promise<{ action: string; outcome: string; snapshotId?: string; details?: Record<string, unknown> }[]> {
  const text = await readFile(join(app.dataDir, "audit.jsonl"), "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

async function expectNoDanglingRecords(app: App): Promise<void> {
  for (const record of await app.index.list(REPO)) {
    expect(await app.store.stat(record.objectKey), `object of ${record.id}`).toBeDefined();
  }
}

const put = (app: App, key: string) => app.store.put(key, Readable.from([Buffer.from("not a snapshot")]));

describe("pruneRepo on the local adapters", () => {
  it("removes what the policy lets go, records and objects, and audits each deletion", async () => {
    const { app } = await fresh();
    const before = await app.index.list(REPO);
    const report = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });

    expect(report.remove.map((r) => r.snapshot.takenAt)).toEqual(EXPECTED_REMOVED);
    const after = await app.index.list(REPO);
    expect(after.map((s) => s.takenAt).sort()).toEqual(Object.keys(EXPECTED_KEPT).sort());
    for (const removed of report.remove) {
      expect(await app.index.get(REPO, removed.snapshot.id)).toBeUndefined();
      expect(await app.store.stat(removed.snapshot.objectKey)).toBeUndefined();
    }
    const freed = before
      .filter((s) => EXPECTED_REMOVED.includes(s.takenAt))
      .reduce((sum, s) => sum + s.size, 0);
    expect(report.bytesFreed).toBe(freed);

    const deletions = (await auditEvents(app)).filter((e) => e.action === "prune.deleted");
    expect(deletions.map((e) => e.snapshotId).sort()).toEqual(
      EXPECTED_REMOVED.map((at) => idAt.get(at)).sort(),
    );
    expect(deletions.every((e) => e.outcome === "success")).toBe(true);
    const jan20 = deletions.find((e) => e.snapshotId === idAt.get("2026-01-20T00:00:00.000Z"));
    expect(jan20?.details?.reasons).toEqual([
      "older than 48h",
      `daily 2026-01-20 kept by newer ${idAt.get("2026-01-20T09:00:00.000Z")}`,
      `weekly 2026-W04 kept by newer ${idAt.get("2026-01-25T00:00:00.000Z")}`,
      `monthly 2026-01 kept by newer ${idAt.get("2026-01-26T00:00:00.000Z")}`,
      `yearly 2026 kept by newer ${idAt.get("2026-01-26T00:00:00.000Z")}`,
    ]);
    expect(jan20?.details?.objectKey).toMatch(/^repos\/acme\/app\/2026\/01\/20\//);
    const dec2 = deletions.find((e) => e.snapshotId === idAt.get("2025-12-02T00:00:00.000Z"));
    expect(dec2?.details?.reasons).toContain("outside daily 30d");
  });

  it("moves each kept archive's expiry forward and into the class that fits, checked with stat", async () => {
    const { app } = await fresh();
    const report = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    for (const record of await app.index.list(REPO)) {
      const expected = EXPECTED_KEPT[record.takenAt]!;
      const info = await app.store.stat(record.objectKey);
      expect({ at: record.takenAt, expiresAt: info?.expiresAt, storageClass: info?.storageClass }).toEqual({
        at: record.takenAt,
        expiresAt: expected.until ?? undefined,
        storageClass: expected.storageClass,
      });
    }
    expect(report.moves).toEqual({ "LOCAL -> ARCHIVE": 2, "LOCAL -> COLDLINE": 1, "LOCAL -> NEARLINE": 4 });
    const newest = report.keep[0]!;
    expect(newest.reasons).toEqual([
      "newest",
      "within 48h",
      "daily 2026-01-26",
      "weekly 2026-W05",
      "monthly 2026-01",
      "yearly 2026",
    ]);
    expect(newest.keepUntil).toBeNull();

    // The next day's prune sends nothing new: expiries only move forward, classes only get colder.
    const again = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    expect(again.remove).toEqual([]);
    expect(again.moves).toEqual({});
    expect(again.expiriesExtended).toBe(0);
  });

  it("a dry run returns the plan and changes nothing: records, objects, lifecycle, audit log", async () => {
    const { app } = await fresh();
    const before = await state(app);
    const dry = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: true, actor: "test" });
    expect(await state(app)).toEqual(before);
    expect(dry.dryRun).toBe(true);
    expect(dry.remove.map((r) => r.snapshot.takenAt)).toEqual(EXPECTED_REMOVED);
    expect(dry.keep.map((k) => k.snapshot.takenAt).sort()).toEqual(Object.keys(EXPECTED_KEPT).sort());
    expect(dry.keep.every((k) => k.reasons.length > 0)).toBe(true);
    expect(dry.bytesFreed).toBeGreaterThan(0);

    // The real run then does exactly what the dry run said.
    const real = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    const summary = (r: typeof dry) => ({
      keep: r.keep.map((k) => [k.snapshot.id, k.storageClass, k.setExpiresAt]),
      remove: r.remove.map((x) => x.snapshot.id),
      moves: r.moves,
      bytesFreed: r.bytesFreed,
    });
    expect(summary(real)).toEqual(summary(dry));
  });

  it("an interrupted run leaves no record naming a missing object; the next run finishes the job", async () => {
    const { app } = await fresh();
    let deletes = 0;
    // A store whose connection drops after the first deletion.
    const failing: BlobStore = Object.create(app.store, {
      delete: {
        value: async (key: string) => {
          deletes += 1;
          if (deletes > 1) throw new BackupError(`injected: connection reset deleting ${key}`);
          return app.store.delete(key);
        },
      },
    });
    await expect(
      pruneRepo({ ...app, store: failing }, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" }),
    ).rejects.toThrow(/connection reset/);
    await expectNoDanglingRecords(app);
    // The first removal finished; the second lost its record and left its object behind: an orphan.
    const [first, second] = EXPECTED_REMOVED.map((at) => idAt.get(at)!);
    expect(await app.index.get(REPO, first!)).toBeUndefined();
    expect(await app.index.get(REPO, second!)).toBeUndefined();
    const records = new Set((await app.index.list(REPO)).map((s) => s.objectKey));
    const orphans = (await listAll(app.store)).filter((o) => !records.has(o.key));
    expect(orphans.map((o) => o.key)).toEqual([expect.stringContaining(second!)]);
    const events = await auditEvents(app);
    expect(events.filter((e) => e.action === "prune.deleted").map((e) => e.outcome)).toEqual([
      "success",
      "failure",
    ]);
    expect(events.at(-1)?.action).toBe("prune.failed");

    // A day later (past the grace period) a normal run removes the rest and collects the orphan.
    const next = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, {
      dryRun: false,
      actor: "test",
      now: new Date(Date.parse(PRUNE_AT) + 25 * HOUR),
    });
    expect(next.orphans.map((o) => o.key)).toEqual(orphans.map((o) => o.key));
    await expectNoDanglingRecords(app);
    const left = new Set((await app.index.list(REPO)).map((s) => s.objectKey));
    expect((await listAll(app.store)).every((o) => left.has(o.key))).toBe(true);
  });

  it("collects orphans older than the grace period and leaves younger ones alone", async () => {
    const { app, clock } = await fresh();
    clock.set("2026-01-25T00:00:00.000Z"); // 25 hours before the prune
    await put(app, "repos/acme/app/2026/01/25/20260125T000000000Z-deadbeef.ibk");
    clock.set("2026-01-26T00:30:00.000Z"); // half an hour before: a snapshot could still be committing
    await put(app, "repos/acme/app/2026/01/26/20260126T003000000Z-feedface.ibk");
    clock.set(PRUNE_AT);
    const report = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    expect(report.orphans.map((o) => o.key)).toEqual([
      "repos/acme/app/2026/01/25/20260125T000000000Z-deadbeef.ibk",
    ]);
    expect(report.youngOrphans.map((o) => o.key)).toEqual([
      "repos/acme/app/2026/01/26/20260126T003000000Z-feedface.ibk",
    ]);
    expect(
      await app.store.stat("repos/acme/app/2026/01/25/20260125T000000000Z-deadbeef.ibk"),
    ).toBeUndefined();
    expect(await app.store.stat("repos/acme/app/2026/01/26/20260126T003000000Z-feedface.ibk")).toBeDefined();
    const collected = (await auditEvents(app)).filter((e) => e.action === "prune.orphan");
    expect(collected.map((e) => e.details?.objectKey)).toEqual([
      "repos/acme/app/2026/01/25/20260125T000000000Z-deadbeef.ibk",
    ]);
    // A shorter grace takes the young one too.
    const short = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, {
      dryRun: false,
      actor: "test",
      orphanGraceMs: HOUR / 4,
    });
    expect(short.orphans).toHaveLength(1);
  });

  it("keeps held snapshots, whatever the policy says, and leaves their class alone", async () => {
    const { app } = await fresh();
    const held = idAt.get("2025-12-08T00:00:00.000Z")!;
    await app.index.setHold(REPO, held, true);
    const report = await pruneRepo(app, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    const kept = report.keep.find((k) => k.snapshot.id === held);
    expect(kept).toMatchObject({ reasons: ["hold"], keepUntil: null, tier: "hold", storageClass: "LOCAL" });
    expect(report.remove.map((r) => r.snapshot.id)).not.toContain(held);
    expect(report.remove).toHaveLength(3);
    const record = await app.index.get(REPO, held);
    expect(await app.store.stat(record!.objectKey)).toMatchObject({ storageClass: "LOCAL" });
    expect((await app.store.stat(record!.objectKey))?.expiresAt).toBeUndefined();
  });
  it("a hold set while the prune runs wins: that removal is given up, the object stays", async () => {
    const { app } = await fresh();
    const late = idAt.get("2025-12-08T00:00:00.000Z")!;
    // An operator puts the snapshot on hold between the plan and its removal.
    const index = Object.create(app.index, {
      remove: {
        value: async (repo: string, id: string) => {
          if (id === late) await app.index.setHold(repo, id, true);
          return app.index.remove(repo, id);
        },
      },
    });
    const report = await pruneRepo({ ...app, index }, REPO, DEFAULT_RETENTION_POLICY, {
      dryRun: false,
      actor: "test",
    });
    expect(report.skipped).toEqual([{ snapshotId: late, reason: expect.stringMatching(/hold/) }]);
    const record = await app.index.get(REPO, late);
    expect(record?.hold).toBe(true);
    expect(await app.store.stat(record!.objectKey)).toBeDefined();
    const deleted = (await auditEvents(app))
      .filter((e) => e.action === "prune.deleted")
      .map((e) => e.snapshotId);
    expect(deleted).toHaveLength(3);
    expect(deleted).not.toContain(late);
  });
});

describe("pruneAll", () => {
  it("prunes every repository, including one whose records are all gone but whose objects remain", async () => {
    const { app, clock } = await fresh();
    clock.set("2026-01-01T00:00:00.000Z");
    await put(app, "repos/acme/gone/2026/01/01/20260101T000000000Z-0badf00d.ibk");
    clock.set(PRUNE_AT);
    const results = await pruneAll(app, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    expect(results.map((r) => [r.repo, r.error])).toEqual([
      ["acme/app", undefined],
      ["acme/gone", undefined],
    ]);
    expect(results[1]?.report?.orphans).toHaveLength(1);
    expect(await listAll(app.store, "repos/acme/gone/")).toEqual([]);
  });

  it("reports a failing repository and goes on with the others", async () => {
    const { app } = await fresh();
    const results = await pruneAll(app, DEFAULT_RETENTION_POLICY, {
      dryRun: true,
      actor: "test",
      only: ["not a repo", REPO],
    });
    expect(results[0]?.error).toMatch(/must look like "owner\/name"/);
    expect(results[1]?.report?.remove).toHaveLength(4);
  });
});

function context(app: App, configFile: string, options: Partial<CommandOptions> & { dryRun?: boolean } = {}) {
  const printed: string[] = [];
  // A variable, not a literal, so that dryRun type-checks whether or not CommandOptions has it yet.
  const all = {
    config: configFile,
    json: false,
    quiet: true,
    repo: [],
    verify: true,
    all: false,
    dryRun: false,
    ...options,
  };
  const ctx: Context = {
    app,
    options: all,
    progress: new ProgressLine(process.stderr, false),
    print: (text) => printed.push(text),
    actor: "cli:test",
  };
  return { ctx, output: () => printed.join("\n") };
}

describe("prune and cost commands", () => {
  it("prune --dry-run prints each snapshot's decision with its reasons and changes nothing", async () => {
    const { app, configFile } = await fresh();
    const before = await state(app);
    const { ctx, output } = context(app, configFile, { dryRun: true });
    expect(await pruneCommand(ctx)).toBe(0);
    expect(await state(app)).toEqual(before);
    const text = output();
    expect(text).toMatch(/Dry run: nothing is changed/);
    expect(text).toMatch(/snapshot\s+taken\s+decision\s+reasons\s+keep until\s+class/);
    expect(text).toContain(
      `${idAt.get("2026-01-20T00:00:00.000Z")}  2026-01-20T00:00:00.000Z  REMOVE    older than 48h, daily 2026-01-20: newer kept, weekly 2026-W04: newer kept`,
    );
    expect(text).toMatch(
      new RegExp(
        `${idAt.get("2025-12-31T00:00:00.000Z")}.*keep.*yearly 2025.*2032-12-31\\s+LOCAL -> ARCHIVE`,
      ),
    );
    expect(text).toMatch(/1 repository: 10 kept, 4 would be removed, 0 orphans would be collected/);
  });

  it("prune --json reports the run; cost then shows the classes, the monthly estimate and the year ahead", async () => {
    const { app, configFile } = await fresh();
    const prune = context(app, configFile, { json: true, repo: [REPO] });
    expect(await pruneCommand(prune.ctx)).toBe(0);
    const report = JSON.parse(prune.output());
    expect(report).toMatchObject({ ok: true, dryRun: false, policy: "built-in default policy" });
    expect(report.repos[0].removed).toHaveLength(4);
    expect(report.repos[0].moves).toEqual({
      "LOCAL -> ARCHIVE": 2,
      "LOCAL -> COLDLINE": 1,
      "LOCAL -> NEARLINE": 4,
    });

    const cost = context(app, configFile, { json: true });
    expect(await costCommand(cost.ctx)).toBe(0);
    const { summary, projection, pricing } = JSON.parse(cost.output());
    expect(pricing.source).toBe("built-in list prices");
    expect(summary.objects).toBe(10);
    expect(
      summary.byClass.map((c: { storageClass: string; objects: number }) => [c.storageClass, c.objects]),
    ).toEqual([
      ["NEARLINE", 4],
      ["COLDLINE", 1],
      ["ARCHIVE", 2],
      ["LOCAL", 3],
    ]);
    expect(projection.points).toHaveLength(12);

    const text = context(app, configFile);
    expect(await costCommand(text.ctx)).toBe(0);
    expect(text.output()).toMatch(/NEARLINE\s+4\s+[\d.]+ KiB\s+█/);
    expect(text.output()).toMatch(/10 archives, [\d.]+ KiB: about [\d.]+ USD a month/);
    expect(text.output()).toMatch(/The year ahead, assuming one snapshot a day/);
  });

  it("reads config/retention-policy.yaml beside the config file, then RETENTION_DAYS", async () => {
    const { configFile, dir } = await fresh();
    await writeFile(join(dir, "config", "retention-policy.yaml"), "daily: 7d\nweekly: 4w\n");
    const { policy, source } = await loadPrunePolicy(configFile, { RETENTION_DAYS: "14" });
    expect(source).toMatch(/retention-policy\.yaml, daily 14d from RETENTION_DAYS$/);
    expect([policy.daily?.text, policy.weekly?.text, policy.within]).toEqual(["14d", "4w", undefined]);
    await writeFile(join(dir, "config", "retention-policy.yaml"), "daily: 7\n");
    await expect(loadPrunePolicy(configFile, {})).rejects.toThrow(
      /retention-policy\.yaml: daily: expected a duration with a unit/,
    );
  });
});

describe("RETENTION_DAYS", () => {
  it("replaces the daily window and nothing else", () => {
    const policy = applyRetentionEnv(DEFAULT_RETENTION_POLICY, { RETENTION_DAYS: " 45 " });
    expect(policy.daily).toEqual({ text: "45d", months: 0, ms: 45 * 24 * HOUR });
    expect(policy.weekly).toBe(DEFAULT_RETENTION_POLICY.weekly);
    expect(applyRetentionEnv(DEFAULT_RETENTION_POLICY, {})).toBe(DEFAULT_RETENTION_POLICY);
    expect(applyRetentionEnv(DEFAULT_RETENTION_POLICY, { RETENTION_DAYS: "" })).toBe(
      DEFAULT_RETENTION_POLICY,
    );
  });

  it.each(["0", "-3", "1.5", "thirty", "30d", "99999999"])("refuses %j, naming the variable", (value) => {
    expect(() => applyRetentionEnv(DEFAULT_RETENTION_POLICY, { RETENTION_DAYS: value })).toThrow(
      `RETENTION_DAYS=${JSON.stringify(value)}: expected a whole number of days, 1 or more`,
    );
  });
});
