// The SnapshotIndex contract (functions/core/ports.ts), as one suite every adapter runs; the
// factory gets a ManualClock so that lease expiry is tested without waiting.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError } from "../../functions/core/errors.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { Clock, SnapshotIndex } from "../../functions/core/ports.js";
import { repositoryLineageCases } from "./repository-lineage.js";

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: string | Date = "2026-11-27T10:00:00.000Z") {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(at: string): void {
    this.current = Date.parse(at);
  }
}

export interface SnapshotIndexFixture {
  index: SnapshotIndex;
  cleanup(): Promise<void>;
}

export function snapshot(overrides: Partial<Snapshot> & { id: string }): Snapshot {
  const takenAt = overrides.takenAt ?? "2026-11-27T10:44:55.123Z";
  return {
    repo: "acme/widget",
    takenAt,
    kind: "full",
    refs: { "refs/heads/main": "a".repeat(40) },
    head: "refs/heads/main",
    objectKey: `repos/acme/widget/2026/11/27/${overrides.id}.ibk`,
    size: 1234,
    sha256: "0".repeat(64),
    bundleBytes: 1000,
    keyRef: "local:0123456789abcdef",
    confirmedAt: takenAt,
    ...overrides,
  };
}

export function snapshotIndexContract(
  name: string,
  factory: (clock: ManualClock) => Promise<SnapshotIndexFixture>,
): void {
  describe(`SnapshotIndex contract: ${name}`, () => {
    let clock: ManualClock;
    let fixture: SnapshotIndexFixture;
    let index: SnapshotIndex;
    beforeEach(async () => {
      clock = new ManualClock();
      fixture = await factory(clock);
      index = fixture.index;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const s1 = snapshot({ id: "20261101T000000000Z-aaaa0001", takenAt: "2026-11-01T00:00:00.000Z" });
    const s2 = snapshot({
      id: "20261102T000000000Z-aaaa0002",
      takenAt: "2026-11-02T00:00:00.000Z",
      kind: "incremental",
      parentId: s1.id,
    });
    const s3 = snapshot({ id: "20261103T000000000Z-aaaa0003", takenAt: "2026-11-03T00:00:00.000Z" });

    it("answers an empty index with nothing", async () => {
      expect(await index.get("acme/widget", "nope")).toBeUndefined();
      expect(await index.latest("acme/widget")).toBeUndefined();
      expect(await index.atOrBefore("acme/widget", "2030-01-01T00:00:00.000Z")).toBeUndefined();
      expect(await index.list("acme/widget")).toEqual([]);
      expect(await index.repos()).toEqual([]);
    });

    it("commits a snapshot and returns it as committed", async () => {
      await index.commit(s2);
      expect(await index.get(s2.repo, s2.id)).toEqual(s2);
      expect(await index.get("acme/other", s2.id)).toBeUndefined();
    });

    it("commits the identical record again without error (retry)", async () => {
      await index.commit(s1);
      await index.commit({ ...s1 });
      expect(await index.list(s1.repo)).toEqual([s1]);
    });

    it("refuses a different record under the same repo and id, keeping the first", async () => {
      await index.commit(s1);
      await expect(index.commit({ ...s1, sha256: "f".repeat(64) })).rejects.toBeInstanceOf(ConflictError);
      expect(await index.get(s1.repo, s1.id)).toEqual(s1);
    });

    it("keeps what tags peel to, and which refs lead to no commit, as part of the record", async () => {
      const tagged = snapshot({
        id: "20261104T000000000Z-aaaa0004",
        refs: {
          "refs/heads/main": "a".repeat(40),
          "refs/tags/v1.0": "b".repeat(40),
          "refs/tags/tree": "c".repeat(40),
        },
        peeled: { "refs/tags/v1.0": "a".repeat(40), "refs/tags/tree": "d".repeat(40) },
        nonCommits: ["refs/tags/tree"],
      });
      await index.commit(tagged);
      expect(await index.get(tagged.repo, tagged.id)).toEqual(tagged);
      const reordered = Object.fromEntries(Object.entries(tagged.peeled!).reverse());
      await index.commit({ ...tagged, peeled: reordered }); // a retry, keys in any order
      await expect(
        index.commit({ ...tagged, peeled: { ...tagged.peeled, "refs/tags/v1.0": "e".repeat(40) } }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(index.commit({ ...tagged, nonCommits: [] })).rejects.toBeInstanceOf(ConflictError);
      expect(await index.latest(tagged.repo)).toEqual(tagged);
    });

    it("keeps ids apart per repo", async () => {
      await index.commit(s1);
      const other = { ...s1, repo: "acme/other", objectKey: "repos/acme/other/x.ibk" };
      await index.commit(other);
      expect(await index.get("acme/other", s1.id)).toEqual(other);
      expect(await index.get(s1.repo, s1.id)).toEqual(s1);
    });

    it("lists newest first and picks the latest by takenAt, whatever the commit order", async () => {
      await index.commit(s2);
      await index.commit(s3);
      await index.commit(s1);
      expect((await index.list(s1.repo)).map((s) => s.id)).toEqual([s3.id, s2.id, s1.id]);
      expect((await index.latest(s1.repo))?.id).toBe(s3.id);
    });

    it("breaks equal takenAt by id", async () => {
      const a = snapshot({ id: "20261105T000000000Z-aaaaaaaa", takenAt: "2026-11-05T00:00:00.000Z" });
      const b = snapshot({ id: "20261105T000000000Z-bbbbbbbb", takenAt: "2026-11-05T00:00:00.000Z" });
      await index.commit(b);
      await index.commit(a);
      expect((await index.latest(a.repo))?.id).toBe(b.id);
      expect((await index.atOrBefore(a.repo, "2026-11-05T00:00:00.000Z"))?.id).toBe(b.id);
      expect((await index.list(a.repo)).map((s) => s.id)).toEqual([b.id, a.id]);
    });

    it("finds the newest snapshot at or before a time", async () => {
      for (const s of [s1, s2, s3]) await index.commit(s);
      expect(await index.atOrBefore(s1.repo, "2026-10-31T23:59:59.999Z")).toBeUndefined();
      expect((await index.atOrBefore(s1.repo, s1.takenAt))?.id).toBe(s1.id);
      expect((await index.atOrBefore(s1.repo, "2026-11-02T12:00:00.000Z"))?.id).toBe(s2.id);
      expect((await index.atOrBefore(s1.repo, "2030-01-01T00:00:00.000Z"))?.id).toBe(s3.id);
      // The same instant written without milliseconds is still "at".
      expect((await index.atOrBefore(s1.repo, "2026-11-02T00:00:00Z"))?.id).toBe(s2.id);
      expect(await index.atOrBefore("acme/other", "2030-01-01T00:00:00.000Z")).toBeUndefined();
    });

    it("lists every repo with a snapshot, sorted and once each", async () => {
      await index.commit({ ...s1, repo: "zeta/z" });
      await index.commit({ ...s1, repo: "acme/widget" });
      await index.commit({ ...s2, repo: "acme/widget" });
      await index.commit({ ...s1, repo: "Acme/Upper" });
      expect(await index.repos()).toEqual(["Acme/Upper", "acme/widget", "zeta/z"]);
    });

    it("moves confirmedAt forward only", async () => {
      await index.commit(s1);
      await index.confirm(s1.repo, s1.id, "2026-11-10T00:00:00.000Z");
      expect((await index.get(s1.repo, s1.id))?.confirmedAt).toBe("2026-11-10T00:00:00.000Z");
      await index.confirm(s1.repo, s1.id, "2026-11-05T00:00:00.000Z");
      expect((await index.get(s1.repo, s1.id))?.confirmedAt).toBe("2026-11-10T00:00:00.000Z");
      await expect(index.confirm(s1.repo, "nope", "2026-11-10T00:00:00.000Z")).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it("records verification verdicts", async () => {
      await index.commit(s1);
      const ok = { verdict: "ok", level: "quick", at: "2026-11-01T01:00:00.000Z" } as const;
      await index.recordVerification(s1.repo, s1.id, ok);
      expect((await index.get(s1.repo, s1.id))?.verification).toEqual(ok);
      const failed = {
        verdict: "failed",
        level: "deep",
        at: "2026-11-08T01:00:00.000Z",
        detail: "segment 3 failed authentication",
      } as const;
      await index.recordVerification(s1.repo, s1.id, failed);
      expect((await index.get(s1.repo, s1.id))?.verification).toEqual(failed);
      await expect(index.recordVerification(s1.repo, "nope", ok)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("treats a commit retry after verify and confirm as the same record", async () => {
      await index.commit(s1);
      const ok = { verdict: "ok", level: "quick", at: "2026-11-01T01:00:00.000Z" } as const;
      await index.recordVerification(s1.repo, s1.id, ok);
      await index.confirm(s1.repo, s1.id, "2026-11-09T00:00:00.000Z");
      await index.commit(s1);
      expect(await index.get(s1.repo, s1.id)).toEqual({
        ...s1,
        verification: ok,
        confirmedAt: "2026-11-09T00:00:00.000Z",
      });
    });

    it("sets and clears a legal hold, and refuses to remove a held snapshot", async () => {
      await index.commit(s1);
      await index.setHold(s1.repo, s1.id, true);
      expect((await index.get(s1.repo, s1.id))?.hold).toBe(true);
      await expect(index.remove(s1.repo, s1.id)).rejects.toBeInstanceOf(ConflictError);
      expect(await index.get(s1.repo, s1.id)).toBeDefined();
      await index.setHold(s1.repo, s1.id, false);
      expect((await index.get(s1.repo, s1.id))?.hold).toBeFalsy();
      await index.remove(s1.repo, s1.id);
      expect(await index.get(s1.repo, s1.id)).toBeUndefined();
      await expect(index.setHold(s1.repo, "nope", true)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("removes idempotently, and the repo disappears with its last snapshot", async () => {
      await index.commit(s1);
      await index.commit(s2);
      await index.remove(s1.repo, s2.id);
      await index.remove(s1.repo, s2.id);
      await index.remove(s1.repo, "never-was");
      expect((await index.latest(s1.repo))?.id).toBe(s1.id);
      await index.remove(s1.repo, s1.id);
      expect(await index.repos()).toEqual([]);
      expect(await index.latest(s1.repo)).toBeUndefined();
    });

    describe("leases", () => {
      const repo = "acme/widget";

      it("grants a free lease for ttl from now, and refuses another holder", async () => {
        const lease = await index.acquireLease(repo, "worker-1", 60_000);
        expect(lease).toEqual({ repo, holder: "worker-1", expiresAt: "2026-11-27T10:01:00.000Z" });
        expect(await index.acquireLease(repo, "worker-2", 60_000)).toBeUndefined();
        clock.advance(59_999);
        expect(await index.acquireLease(repo, "worker-2", 60_000)).toBeUndefined();
      });

      it("renews for the same holder", async () => {
        await index.acquireLease(repo, "worker-1", 60_000);
        clock.advance(30_000);
        const renewed = await index.acquireLease(repo, "worker-1", 60_000);
        expect(renewed?.expiresAt).toBe("2026-11-27T10:01:30.000Z");
        clock.advance(45_000); // past the first expiry, inside the renewed one
        expect(await index.acquireLease(repo, "worker-2", 60_000)).toBeUndefined();
      });

      it("lets another holder take an expired lease", async () => {
        await index.acquireLease(repo, "worker-1", 60_000);
        clock.advance(60_001);
        const taken = await index.acquireLease(repo, "worker-2", 10_000);
        expect(taken).toEqual({ repo, holder: "worker-2", expiresAt: "2026-11-27T10:01:10.001Z" });
        expect(await index.acquireLease(repo, "worker-1", 60_000)).toBeUndefined();
      });

      it("releases only for the holder, idempotently", async () => {
        await index.releaseLease(repo, "nobody");
        await index.acquireLease(repo, "worker-1", 60_000);
        await index.releaseLease(repo, "worker-2");
        expect(await index.acquireLease(repo, "worker-2", 60_000)).toBeUndefined();
        await index.releaseLease(repo, "worker-1");
        await index.releaseLease(repo, "worker-1");
        expect((await index.acquireLease(repo, "worker-2", 60_000))?.holder).toBe("worker-2");
      });

      it("keeps leases of different repos apart", async () => {
        expect(await index.acquireLease("acme/a", "worker-1", 60_000)).toBeDefined();
        expect(await index.acquireLease("acme/b", "worker-2", 60_000)).toBeDefined();
        await index.releaseLease("acme/a", "worker-1");
        expect(await index.acquireLease("acme/b", "worker-3", 60_000)).toBeUndefined();
      });

      it("lists the leases in force, not expired or released ones", async () => {
        expect(await index.leases()).toEqual([]);
        await index.acquireLease("acme/a", "worker-1", 60_000);
        await index.acquireLease("acme/b", "worker-2", 10_000);
        await index.acquireLease("acme/c", "worker-3", 60_000);
        await index.releaseLease("acme/c", "worker-3");
        clock.advance(20_000);
        expect(await index.leases()).toEqual([
          {
            repo: "acme/a",
            holder: "worker-1",
            expiresAt: new Date(clock.now().getTime() + 40_000).toISOString(),
          },
        ]);
      });

      it("grants a lease to exactly one of many concurrent takers", async () => {
        const holders = Array.from({ length: 8 }, (_, i) => `worker-${i}`);
        const results = await Promise.all(holders.map((h) => index.acquireLease(repo, h, 60_000)));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      });
    });

    describe("backup attempts", () => {
      it("records the latest attempt per repo, also for a repo with no snapshot", async () => {
        expect(await index.attempts()).toEqual({});
        await index.recordAttempt("acme/new", {
          at: "2026-11-27T10:00:00.000Z",
          outcome: "failed",
          error: "401",
        });
        await index.recordAttempt("acme/widget", {
          at: "2026-11-27T10:00:00.000Z",
          outcome: "created",
          snapshotId: s1.id,
        });
        expect(await index.attempts()).toEqual({
          "acme/new": { at: "2026-11-27T10:00:00.000Z", outcome: "failed", error: "401" },
          "acme/widget": { at: "2026-11-27T10:00:00.000Z", outcome: "created", snapshotId: s1.id },
        });
        expect(await index.repos()).toEqual([]); // attempts are not snapshots
      });

      it("a newer attempt replaces the one before; an older one, delivered late, does not", async () => {
        await index.recordAttempt("acme/a", {
          at: "2026-11-27T10:00:00.000Z",
          outcome: "failed",
          error: "x",
        });
        await index.recordAttempt("acme/a", { at: "2026-11-27T11:00:00.000Z", outcome: "unchanged" });
        await index.recordAttempt("acme/a", {
          at: "2026-11-27T10:30:00.000Z",
          outcome: "failed",
          error: "late",
        });
        expect((await index.attempts())["acme/a"]).toEqual({
          at: "2026-11-27T11:00:00.000Z",
          outcome: "unchanged",
        });
      });

      it("refuses an attempt whose time is not ISO-8601", async () => {
        await expect(
          index.recordAttempt("acme/a", { at: "yesterday", outcome: "unchanged" }),
        ).rejects.toThrow(/not an ISO-8601 time/);
      });
    });

    describe("repository registry and lineage", () => {
      repositoryLineageCases(
        () => index,
        () => clock,
      );
    });
  });
}
