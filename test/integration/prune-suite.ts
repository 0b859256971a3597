// The prune tests every backend passes (prune.test.ts: local adapters; prune-gcp.test.ts: Cloud Storage
// on fake-gcs-server, Firestore on its emulator): what a run removes and keeps (expiry, class), that a
// dry run changes nothing, that an interrupted run never leaves a record naming a missing object,
// orphans, holds, a snapshot whose archive the store still retains, and pruneAll.
import { describe, expect, it } from "vitest";
import { BackupError, RetainedError } from "../../functions/core/errors.js";
import type { BlobStore, SnapshotIndex } from "../../functions/core/ports.js";
import { pruneAll, pruneRepo } from "../../functions/core/prune.js";
import { readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { faultyStore } from "../helpers/faults.js";
import {
  EXPECTED_KEPT,
  EXPECTED_REMOVED,
  HOUR,
  NEW,
  PRUNE_AT,
  REPO,
  expectNoDanglingRecords,
  expectedMoves,
  listAll,
  put,
  scenario,
  state,
  type PruneBackend,
  type PruneFixture,
  type Scenario,
} from "./prune-scenario.js";

const policy = DEFAULT_RETENTION_POLICY;
const run = { dryRun: false, actor: "test" };

/** Registers the scenario on `backend` and the prune tests over it; returns it for more tests. */
export function pruneSuite<F extends PruneFixture>(name: string, backend: PruneBackend<F>): Scenario<F> {
  const s = scenario(backend);
  const { idAt, fresh } = s;
  const classOf = (expected: string) => (expected === NEW ? s.newClass : expected);

  describe(`pruneRepo on ${name}`, () => {
    it("removes what the policy lets go, records and objects, and audits each deletion", async () => {
      const f = await fresh();
      const { deps } = f;
      const before = await deps.index.list(REPO);
      const report = await pruneRepo(deps, REPO, policy, run);

      expect(report.remove.map((r) => r.snapshot.takenAt)).toEqual(EXPECTED_REMOVED);
      const after = await deps.index.list(REPO);
      expect(after.map((x) => x.takenAt).sort()).toEqual(Object.keys(EXPECTED_KEPT).sort());
      for (const removed of report.remove) {
        expect(await deps.index.get(REPO, removed.snapshot.id)).toBeUndefined();
        expect(await deps.store.stat(removed.snapshot.objectKey)).toBeUndefined();
      }
      const freed = before
        .filter((x) => EXPECTED_REMOVED.includes(x.takenAt))
        .reduce((sum, x) => sum + x.size, 0);
      expect(report.bytesFreed).toBe(freed);

      const deletions = (await f.auditEvents()).filter((e) => e.action === "prune.deleted");
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

    it("keeps every snapshot of a repository on legal hold (holdRepos), whatever the rules say", async () => {
      const { deps } = await fresh();
      const before = await deps.index.list(REPO);
      const report = await pruneRepo(deps, REPO, { last: 1, holdRepos: [REPO] }, run);
      expect(report.remove).toEqual([]);
      expect((await deps.index.list(REPO)).map((x) => x.id)).toEqual(before.map((x) => x.id));
      for (const x of before) expect(await deps.store.stat(x.objectKey)).toBeDefined();
      const other = await pruneRepo(
        deps,
        REPO,
        { last: 1, holdRepos: ["acme/other"] },
        { ...run, dryRun: true },
      );
      expect(other.remove.length).toBe(before.length - 1);
    });

    it("moves each kept archive's expiry forward and into the class that fits, checked with stat", async () => {
      const { deps } = await fresh();
      const report = await pruneRepo(deps, REPO, policy, run);
      for (const record of await deps.index.list(REPO)) {
        const expected = EXPECTED_KEPT[record.takenAt]!;
        const info = await deps.store.stat(record.objectKey);
        expect({ at: record.takenAt, expiresAt: info?.expiresAt, storageClass: info?.storageClass }).toEqual({
          at: record.takenAt,
          expiresAt: expected.until ?? undefined,
          storageClass: classOf(expected.storageClass),
        });
      }
      expect(report.moves).toEqual(expectedMoves(s.newClass));
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
      const again = await pruneRepo(deps, REPO, policy, run);
      expect(again.remove).toEqual([]);
      expect(again.moves).toEqual({});
      expect(again.expiriesExtended).toBe(0);
    });

    it("a dry run returns the plan and changes nothing: records, objects, lifecycle, audit log", async () => {
      const f = await fresh();
      const before = await state(f);
      const dry = await pruneRepo(f.deps, REPO, policy, { dryRun: true, actor: "test" });
      expect(await state(f)).toEqual(before);
      expect(dry.dryRun).toBe(true);
      expect(dry.remove.map((r) => r.snapshot.takenAt)).toEqual(EXPECTED_REMOVED);
      expect(dry.keep.map((k) => k.snapshot.takenAt).sort()).toEqual(Object.keys(EXPECTED_KEPT).sort());
      expect(dry.keep.every((k) => k.reasons.length > 0)).toBe(true);
      expect(dry.bytesFreed).toBeGreaterThan(0);

      // The real run then does exactly what the dry run said.
      const real = await pruneRepo(f.deps, REPO, policy, run);
      const summary = (r: typeof dry) => ({
        keep: r.keep.map((k) => [k.snapshot.id, k.storageClass, k.setExpiresAt]),
        remove: r.remove.map((x) => x.snapshot.id),
        moves: r.moves,
        bytesFreed: r.bytesFreed,
      });
      expect(summary(real)).toEqual(summary(dry));
    });

    it("an interrupted run leaves no record naming a missing object; the next run finishes the job", async () => {
      const f = await fresh();
      const { deps } = f;
      let deletes = 0;
      // A store whose connection drops after the first deletion.
      const failing: BlobStore = Object.create(deps.store, {
        delete: {
          value: async (key: string) => {
            deletes += 1;
            if (deletes > 1) throw new BackupError(`injected: connection reset deleting ${key}`);
            return deps.store.delete(key);
          },
        },
      });
      await expect(pruneRepo({ ...deps, store: failing }, REPO, policy, run)).rejects.toThrow(
        /connection reset/,
      );
      await expectNoDanglingRecords(deps);
      // The first removal finished; the second lost its record and left its object behind: an orphan.
      const [first, second] = EXPECTED_REMOVED.map((at) => idAt.get(at)!);
      expect(await deps.index.get(REPO, first!)).toBeUndefined();
      expect(await deps.index.get(REPO, second!)).toBeUndefined();
      const records = new Set((await deps.index.list(REPO)).map((x) => x.objectKey));
      const orphans = (await listAll(deps.store)).filter((o) => !records.has(o.key));
      expect(orphans.map((o) => o.key)).toEqual([expect.stringContaining(second!)]);
      const events = await f.auditEvents();
      expect(events.filter((e) => e.action === "prune.deleted").map((e) => e.outcome)).toEqual([
        "success",
        "failure",
      ]);
      expect(events.at(-1)?.action).toBe("prune.failed");

      // A day later (past the grace period) a normal run removes the rest and collects the orphan.
      const next = await pruneRepo(deps, REPO, policy, {
        ...run,
        now: new Date(Date.parse(PRUNE_AT) + 25 * HOUR),
      });
      expect(next.orphans.map((o) => o.key)).toEqual(orphans.map((o) => o.key));
      await expectNoDanglingRecords(deps);
      const left = new Set((await deps.index.list(REPO)).map((x) => x.objectKey));
      expect((await listAll(deps.store)).every((o) => left.has(o.key))).toBe(true);
    });

    it("collects orphans older than the grace period and leaves younger ones alone", async () => {
      const f = await fresh();
      const { deps, clock } = f;
      const old = "repos/acme/app/2026/01/24/20260124T000000000Z-deadbeef.ibk";
      const young = "repos/acme/app/2026/01/26/20260126T003000000Z-feedface.ibk";
      // 49 hours before the prune: past the grace period, and past the 48 hours an archive is
      // retained from its write (an orphan still retained waits; retention-prune.test.ts).
      clock.set("2026-01-24T00:00:00.000Z");
      await put(deps, old);
      clock.set("2026-01-26T00:30:00.000Z"); // half an hour before: a snapshot could still be committing
      await put(deps, young);
      clock.set(PRUNE_AT);
      const report = await pruneRepo(deps, REPO, policy, run);
      expect(report.orphans.map((o) => o.key)).toEqual([old]);
      expect(report.youngOrphans.map((o) => o.key)).toEqual([young]);
      expect(await deps.store.stat(old)).toBeUndefined();
      expect(await deps.store.stat(young)).toBeDefined();
      const collected = (await f.auditEvents()).filter((e) => e.action === "prune.orphan");
      expect(collected.map((e) => e.details?.objectKey)).toEqual([old]);
      // A shorter grace would take the young one too, but it is still retained (48 hours from
      // its write), so it stays, and goes once its retention has ended.
      const short = await pruneRepo(deps, REPO, policy, { ...run, orphanGraceMs: HOUR / 4 });
      expect(short.orphans).toHaveLength(0);
      expect(await deps.store.stat(young)).toBeDefined();
      clock.set("2026-01-28T00:31:00.000Z");
      const later = await pruneRepo(deps, REPO, policy, {
        ...run,
        orphanGraceMs: HOUR / 4,
        now: new Date(Date.parse("2026-01-28T00:31:00.000Z")),
      });
      expect(later.orphans.map((o) => o.key)).toEqual([young]);
    });

    it("keeps held snapshots, whatever the policy says, and leaves their class alone", async () => {
      const { deps } = await fresh();
      const held = idAt.get("2025-12-08T00:00:00.000Z")!;
      await deps.index.setHold(REPO, held, true);
      const report = await pruneRepo(deps, REPO, policy, run);
      const kept = report.keep.find((k) => k.snapshot.id === held);
      expect(kept).toMatchObject({
        reasons: ["hold"],
        keepUntil: null,
        tier: "hold",
        storageClass: s.newClass,
      });
      expect(report.remove.map((r) => r.snapshot.id)).not.toContain(held);
      expect(report.remove).toHaveLength(3);
      const record = await deps.index.get(REPO, held);
      const info = await deps.store.stat(record!.objectKey);
      expect(info).toMatchObject({ storageClass: s.newClass });
      expect(info?.expiresAt).toBeUndefined();
    });

    it("a hold set while the prune runs wins: that removal is given up, the object stays", async () => {
      const f = await fresh();
      const { deps } = f;
      const late = idAt.get("2025-12-08T00:00:00.000Z")!;
      // An operator puts the snapshot on hold between the plan and its removal.
      const index: SnapshotIndex = Object.create(deps.index, {
        remove: {
          value: async (repo: string, id: string) => {
            if (id === late) await deps.index.setHold(repo, id, true);
            return deps.index.remove(repo, id);
          },
        },
      });
      const report = await pruneRepo({ ...deps, index }, REPO, policy, run);
      expect(report.skipped).toEqual([{ snapshotId: late, reason: expect.stringMatching(/hold/) }]);
      const record = await deps.index.get(REPO, late);
      expect(record?.hold).toBe(true);
      expect(await deps.store.stat(record!.objectKey)).toBeDefined();
      const deleted = (await f.auditEvents())
        .filter((e) => e.action === "prune.deleted")
        .map((e) => e.snapshotId);
      expect(deleted).toHaveLength(3);
      expect(deleted).not.toContain(late);
    });
  });

  describe(`prune and the store's retention on ${name}`, () => {
    // 2026-01-20T00:00 is past the policy's expiry at PRUNE_AT (EXPECTED_REMOVED), but its archive
    // is retained until 02-10 (written under a longer promise, say a policy since shortened).
    const expired = "2026-01-20T00:00:00.000Z";
    const retainedUntil = "2026-02-10T00:00:00.000Z";

    it("keeps a snapshot whose policy expiry passed while its archive is retained, reports it, and removes it once the retention ends", async () => {
      const f = await fresh();
      const { deps, clock } = f;
      const id = idAt.get(expired)!;
      const snapshot = (await deps.index.get(REPO, id))!;
      await deps.store.setLifecycle(snapshot.objectKey, { retainUntil: retainedUntil });

      const report = await pruneRepo(deps, REPO, policy, run);
      expect(report.skipped).toEqual([
        { snapshotId: id, reason: expect.stringMatching(/retained until 2026-02-10T00:00:00/) },
      ]);
      expect(await deps.index.get(REPO, id)).toEqual(snapshot);
      expect(await deps.store.stat(snapshot.objectKey)).toMatchObject({ retainUntil: retainedUntil });
      // The other expired snapshots went as usual.
      expect(report.remove.length - report.skipped.length).toBe(EXPECTED_REMOVED.length - 1);
      const retained = (await f.auditEvents()).filter((e) => e.action === "prune.retained");
      expect(retained.map((e) => e.snapshotId)).toEqual([id]);
      expect(
        (await f.auditEvents()).filter((e) => e.snapshotId === id && e.action === "prune.deleted"),
      ).toEqual([]);

      // A day later: still retained, still there.
      clock.set("2026-01-27T01:00:00.000Z");
      await pruneRepo(deps, REPO, policy, { ...run, now: clock.now() });
      expect(await deps.index.get(REPO, id)).toBeDefined();

      // Once the retention has ended (the store's own clock says so too), a run removes it.
      clock.set("2026-02-10T01:00:00.000Z");
      const later = await pruneRepo(deps, REPO, policy, { ...run, now: clock.now() });
      expect(later.skipped).toEqual([]);
      expect(later.remove.map((r) => r.snapshot.id)).toContain(id);
      expect(await deps.index.get(REPO, id)).toBeUndefined();
      expect(await deps.store.stat(snapshot.objectKey)).toBeUndefined();
      const deleted = (await f.auditEvents()).filter(
        (e) => e.action === "prune.deleted" && e.snapshotId === id,
      );
      expect(deleted.map((e) => e.outcome)).toEqual(["success"]);
      await expectNoDanglingRecords(deps);
    });

    it("a delete the store refuses although its metadata allowed it (a bucket's own retention): record and key back, the archive still reads", async () => {
      const f = await fresh();
      const id = idAt.get(expired)!;
      const snapshot = (await f.deps.index.get(REPO, id))!;
      const refusing = faultyStore(f.deps.store, {
        method: "delete",
        calls: { nth: 1 },
        effect: {
          kind: "fail",
          error: () => new RetainedError(`blob ${snapshot.objectKey} is under retention`),
        },
      });
      const deps = { ...f.deps, store: refusing };
      const keyBefore = await deps.keyRecords?.dataKey(snapshot.lineage ?? REPO, id);
      const report = await pruneRepo(deps, REPO, policy, run);
      expect(report.skipped).toEqual([{ snapshotId: id, reason: expect.stringMatching(/under retention/) }]);
      expect(await deps.index.get(REPO, id)).toEqual(snapshot);
      expect(await deps.keyRecords?.dataKey(snapshot.lineage ?? REPO, id)).toEqual(keyBefore);
      const files: string[] = [];
      await readSnapshotArchive(deps, snapshot, async (path, body) => {
        files.push(path);
        for await (const _ of body) {
          // every segment authenticated
        }
      });
      expect(files).toContain("git/repo.bundle");
      const events = (await f.auditEvents()).filter(
        (e) => e.snapshotId === id && e.action.startsWith("prune."),
      );
      expect(events.map((e) => e.action)).toEqual(["prune.retained"]);
      await expectNoDanglingRecords(deps);
    });
  });

  describe(`pruneAll on ${name}`, () => {
    it("prunes every repository, including one whose records are all gone but whose objects remain", async () => {
      const { deps, clock } = await fresh();
      clock.set("2026-01-01T00:00:00.000Z");
      await put(deps, "repos/acme/gone/2026/01/01/20260101T000000000Z-0badf00d.ibk");
      clock.set(PRUNE_AT);
      const results = await pruneAll(deps, policy, run);
      expect(results.map((r) => [r.repo, r.error])).toEqual([
        ["acme/app", undefined],
        ["acme/gone", undefined],
      ]);
      expect(results[1]?.report?.orphans).toHaveLength(1);
      expect(await listAll(deps.store, "repos/acme/gone/")).toEqual([]);
    });

    it("reports a failing repository and goes on with the others", async () => {
      const { deps } = await fresh();
      const results = await pruneAll(deps, policy, {
        dryRun: true,
        actor: "test",
        only: ["not a repo", REPO],
      });
      expect(results[0]?.error).toMatch(/must look like "owner\/name"/);
      expect(results[1]?.report?.remove).toHaveLength(4);
    });
  });
  return s;
}
