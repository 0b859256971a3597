// Tiers that know about reads: an archive the newest snapshot or a snapshot of the last 7 days reads
// (its own, and every archive its incremental chain builds on) stays warm; every other kept archive
// goes where its retention puts it, following the youngest snapshot that needs it.
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../functions/core/model.js";
import type { BlobInfo } from "../../functions/core/ports.js";
import { planPrune, type KeepDecision } from "../../functions/core/prune-plan.js";
import { planRetention } from "../../functions/core/retention.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import {
  chooseStorageClass,
  readersOf,
  RECENT_READ_DAYS,
  settledKeepUntil,
} from "../../functions/core/storage-tiers.js";
import { snapshot } from "../contract/snapshot-index.js";

const DAY = 86_400_000;
const policy = DEFAULT_RETENTION_POLICY;

function record(takenAt: string, tag: string, parent?: Snapshot): Snapshot {
  const id = `${takenAt.replace(/[-:.]/g, "")}-${tag}`;
  return snapshot({
    id,
    takenAt,
    kind: parent === undefined ? "full" : "incremental",
    ...(parent === undefined ? {} : { parentId: parent.id }),
    objectKey: `repos/acme/app/${id}.ibk`,
  });
}

function object(s: Snapshot, storageClass: string, createdAt = s.takenAt): BlobInfo {
  return { key: s.objectKey, size: 1000, createdAt, storageClass, metadata: {} };
}

function prune(snapshots: Snapshot[], objects: BlobInfo[], now: string) {
  return planPrune({
    repo: "acme/app",
    snapshots,
    objects,
    policy,
    now: new Date(now),
    orphanGraceMs: DAY,
  });
}

const byId = (keep: KeepDecision[]) => new Map(keep.map((k) => [k.snapshot.id, k]));

describe("read-aware storage classes", () => {
  it("a fresh repository's only snapshot stays where it was written (it was LOCAL -> ARCHIVE)", () => {
    const only = record("2026-01-10T00:00:00.000Z", "only");
    for (const written of ["LOCAL", "STANDARD"]) {
      const plan = prune([only], [object(only, written)], "2026-01-10T01:00:00.000Z");
      const [kept] = plan.keep;
      expect(kept?.reasons).toContain("newest");
      // Without the reads it would go to ARCHIVE: the next snapshot leaves it the oldest yearly.
      const settled = settledKeepUntil([only], policy, new Date("2026-01-10T01:00:00.000Z"));
      const blind = chooseStorageClass({
        current: written,
        createdAt: only.takenAt,
        settledUntil: settled.get(only.id) ?? null,
        now: new Date("2026-01-10T01:00:00.000Z"),
      });
      expect([blind.storageClass, blind.move]).toEqual(["ARCHIVE", true]);
      expect(kept?.movedFrom).toBeUndefined();
      expect(kept?.storageClass).toBe(written);
      expect(kept?.classReason).toBe("read by the newest snapshot");
    }
  });

  it("the full snapshot today's incrementals build on stays warm, and so does every link", () => {
    const full = record("2026-01-10T00:00:00.000Z", "full");
    const inc1 = record("2026-01-10T06:00:00.000Z", "inc1", full);
    const inc2 = record("2026-01-10T12:00:00.000Z", "inc2", inc1);
    const chain = [full, inc1, inc2];
    const plan = prune(
      chain,
      chain.map((s) => object(s, "STANDARD")),
      "2026-01-10T13:00:00.000Z",
    );
    expect(plan.keep.map((k) => [k.snapshot.id, k.storageClass, k.movedFrom])).toEqual([
      [inc2.id, "STANDARD", undefined],
      [inc1.id, "STANDARD", undefined],
      [full.id, "STANDARD", undefined],
    ]);
    expect(byId(plan.keep).get(full.id)?.classReason).toBe("read by the newest snapshot");
  });

  it("the class of an archive follows the youngest snapshot that needs it", () => {
    // Daily chains from 2025-10-01 to 2026-01-10: a full at 00:00 and an incremental at 12:00.
    const snapshots: Snapshot[] = [];
    for (
      let day = Date.parse("2025-10-01T00:00:00.000Z");
      day <= Date.parse("2026-01-10T00:00:00.000Z");
      day += DAY
    ) {
      const full = record(new Date(day).toISOString(), "full");
      snapshots.push(full, record(new Date(day + DAY / 2).toISOString(), "inc", full));
    }
    const now = "2026-01-10T13:00:00.000Z";
    const objects = snapshots.map((s) => object(s, "STANDARD"));
    const plan = prune(snapshots, objects, now);
    const retention = planRetention(snapshots, policy, new Date(now));
    const readers = readersOf(
      retention.keep.map((k) => k.snapshot),
      retention.reference,
    );
    const settled = settledKeepUntil(snapshots, policy, new Date(now));
    const recentFrom = Date.parse(retention.reference) - RECENT_READ_DAYS * DAY;
    const kept = byId(plan.keep);
    let warm = 0;
    let cold = 0;
    for (const k of plan.keep) {
      // Who reads it: itself and every kept snapshot that builds on it.
      const readBy = plan.keep.filter((other) => {
        for (
          let s: Snapshot | undefined = other.snapshot;
          s;
          s = s.parentId ? kept.get(s.parentId)?.snapshot : undefined
        )
          if (s.id === k.snapshot.id) return true;
        return false;
      });
      const youngest = readBy[0]!.snapshot; // plan.keep is newest first
      const recent = youngest === plan.keep[0]!.snapshot || Date.parse(youngest.takenAt) > recentFrom;
      expect(readers.has(k.snapshot.id)).toBe(recent);
      if (recent) {
        warm++;
        expect(k.storageClass).toBe("STANDARD");
        expect(k.movedFrom).toBeUndefined();
      } else {
        // Not read by anything recent: where its retention alone puts it.
        const alone = chooseStorageClass({
          current: "STANDARD",
          createdAt: k.snapshot.takenAt,
          settledUntil: settled.get(k.snapshot.id) ?? now,
          now: new Date(now),
        });
        expect(k.storageClass).toBe(alone.storageClass);
        if (alone.move) cold++;
      }
    }
    // Today's and the last week's chains are warm; older weeklies, monthlies and yearlies go cold.
    expect(warm).toBeGreaterThanOrEqual(2 * RECENT_READ_DAYS);
    expect(cold).toBeGreaterThan(0);
    // The full under the yearly 2025 pick (2025-12-31 12:00, an incremental) goes with it to ARCHIVE.
    const yearly = plan.keep.find((k) => k.reasons.includes("yearly 2025"))!;
    expect(yearly.snapshot.kind).toBe("incremental");
    expect(yearly.storageClass).toBe("ARCHIVE");
    expect(kept.get(yearly.snapshot.parentId!)?.storageClass).toBe("ARCHIVE");
  });

  it("an archive moved cold before reads counted comes back to STANDARD once its minimum is served", () => {
    const full = record("2024-11-01T00:00:00.000Z", "full");
    const inc = record("2026-01-10T00:00:00.000Z", "inc", full);
    const at = "2026-01-10T01:00:00.000Z";
    const served = prune(
      [full, inc],
      [object(full, "ARCHIVE", "2024-12-01T00:00:00.000Z"), object(inc, "STANDARD")],
      at,
    );
    expect(byId(served.keep).get(full.id)).toMatchObject({
      storageClass: "STANDARD",
      movedFrom: "ARCHIVE",
      classReason: "read by the newest snapshot",
    });
    const early = prune(
      [full, inc],
      [object(full, "ARCHIVE", "2025-06-01T00:00:00.000Z"), object(inc, "STANDARD")],
      at,
    );
    expect(byId(early.keep).get(full.id)).toMatchObject({
      storageClass: "ARCHIVE",
      classReason: "read by the newest snapshot; ARCHIVE minimum of 365 days not served",
    });
    expect(byId(early.keep).get(full.id)?.movedFrom).toBeUndefined();
  });

  it("a snapshot of the last 7 days keeps its chain warm; at 8 days the chain goes cold", () => {
    const full = record("2025-12-31T00:00:00.000Z", "full"); // yearly 2025, through its child
    const inc = record("2025-12-31T12:00:00.000Z", "inc", full);
    const newest = record("2026-01-06T00:00:00.000Z", "s");
    const objects = [full, inc, newest].map((s) => object(s, "STANDARD"));
    const young = prune([full, inc, newest], objects, "2026-01-06T01:00:00.000Z");
    expect(byId(young.keep).get(full.id)).toMatchObject({
      storageClass: "STANDARD",
      classReason: `read by ${inc.id} (last 7 days)`,
    });
    const later = record("2026-01-08T00:00:00.000Z", "s");
    const old = prune(
      [full, inc, newest, later],
      [...objects, object(later, "STANDARD")],
      "2026-01-08T01:00:00.000Z",
    );
    expect(byId(old.keep).get(full.id)).toMatchObject({ storageClass: "ARCHIVE", movedFrom: "STANDARD" });
    expect(byId(old.keep).get(inc.id)).toMatchObject({ storageClass: "ARCHIVE", movedFrom: "STANDARD" });
  });
});
