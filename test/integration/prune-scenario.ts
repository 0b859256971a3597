// The prune scenario both backends run: two months of real snapshots of a real repository taken on a
// manual clock, the plan worked out by hand, and what a backend must offer the suite (prune-suite.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, expect } from "vitest";
import type { Deps } from "../../functions/core/deps.js";
import type { BlobInfo, BlobStore } from "../../functions/core/ports.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { manualClock } from "../helpers/local-app.js";

export const REPO = "acme/app";
export const HOUR = 3_600_000;
/** Snapshot times, each after a push. Sundays: 11-30, 12-07, 01-04, 01-25. 2025-12-31 is in ISO week 2026-W01. */
export const TAKEN = [
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
export const PRUNE_AT = "2026-01-26T01:00:00.000Z";

/** The class an archive is written in and stays in until prune moves it: LOCAL, or STANDARD in a bucket. */
export const NEW = "new";

/**
 * Worked out by hand from the default policy (within 48h, daily 30d, weekly 90d, monthly 1y, yearly
 * 7y). keepUntil is takenAt + the longest window + the hour since the reference; null for the newest.
 * The class comes from what is kept for sure once the next snapshot lands, and stays where it was
 * written while the newest snapshot or one of the last 7 days reads it (storage-tiers.ts).
 */
export const EXPECTED_KEPT: Record<string, { until: string | null; storageClass: string }> = {
  "2025-11-28T00:00:00.000Z": { until: "2032-11-28T01:00:00.000Z", storageClass: "ARCHIVE" }, // oldest yearly 2025
  "2025-11-30T00:00:00.000Z": { until: "2026-11-30T01:00:00.000Z", storageClass: "COLDLINE" }, // monthly 2025-11
  "2025-12-07T00:00:00.000Z": { until: "2026-03-07T01:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2025-W49
  "2025-12-10T12:00:00.000Z": { until: "2026-03-10T13:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2025-W50
  "2025-12-31T00:00:00.000Z": { until: "2032-12-31T01:00:00.000Z", storageClass: "ARCHIVE" }, // yearly 2025
  "2026-01-01T00:00:00.000Z": { until: "2026-01-31T01:00:00.000Z", storageClass: NEW }, // daily: 5 more days
  "2026-01-04T00:00:00.000Z": { until: "2026-04-04T01:00:00.000Z", storageClass: "NEARLINE" }, // weekly 2026-W01
  "2026-01-20T09:00:00.000Z": { until: "2026-02-19T10:00:00.000Z", storageClass: NEW }, // daily: 24 more days
  // weekly 2026-W04, kept 90 days, but taken in the last 7 days: restores read it, so it stays warm
  "2026-01-25T00:00:00.000Z": { until: "2026-04-25T01:00:00.000Z", storageClass: NEW },
  "2026-01-26T00:00:00.000Z": { until: null, storageClass: NEW }, // newest: open-ended
};
export const EXPECTED_REMOVED = [
  "2026-01-20T00:00:00.000Z",
  "2025-12-10T00:00:00.000Z",
  "2025-12-08T00:00:00.000Z",
  "2025-12-02T00:00:00.000Z",
];

/** The class changes of the first run, from the class new archives are written in. */
export function expectedMoves(newClass: string): Record<string, number> {
  return {
    [`${newClass} -> ARCHIVE`]: 2,
    [`${newClass} -> COLDLINE`]: 1,
    [`${newClass} -> NEARLINE`]: 3, // not 2026-01-25: read as a snapshot of the last 7 days
  };
}

export type ManualClock = ReturnType<typeof manualClock>;

export interface AuditRecord {
  action: string;
  outcome: string;
  snapshotId?: string;
  details?: Record<string, unknown>;
}

/** One copy of the scenario on a backend. */
export interface PruneFixture {
  deps: Deps;
  clock: ManualClock;
  /** Every event the audit log holds, oldest first. */
  auditEvents(): Promise<AuditRecord[]>;
}

export interface PruneBackend<F extends PruneFixture> {
  /** The class the store writes new archives in ("LOCAL" for the folder store, "STANDARD" in a bucket). */
  newClass: string;
  /**
   * Makes an empty backend on `clock` (`source`: the repository's path, for a backend with a source
   * list), lets `build` take the snapshots through its deps, and keeps the result as the base.
   */
  prepare(clock: ManualClock, source: string, build: (deps: Deps) => Promise<void>): Promise<void>;
  /** A copy of the base, independent of every other: records, objects (with when they were written). */
  copy(clock: ManualClock): Promise<F>;
  /** Closes and deletes the base and every copy. */
  cleanup(): Promise<void>;
}

export interface Scenario<F extends PruneFixture> {
  newClass: string;
  /** takenAt -> snapshot id, the same in every copy. */
  idAt: Map<string, string>;
  /** A copy of the scenario, its clock at `at`. */
  fresh(at?: string): Promise<F>;
}

/** Registers the hooks that build the scenario once on `backend` (before all tests) and clean up. */
export function scenario<F extends PruneFixture>(backend: PruneBackend<F>): Scenario<F> {
  let scratch: string | undefined;
  const idAt = new Map<string, string>();
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "infinity-prune-"));
    const source = await richRepo(scratch);
    const clock = manualClock(TAKEN[0]);
    await backend.prepare(clock, source, async (deps) => {
      for (const [i, at] of TAKEN.entries()) {
        await pushCommit(source, "main", "history.txt", `change ${i}\n`);
        clock.set(at);
        const outcome = await snapshotRepo(deps, REPO, { url: source }, { actor: "test" });
        expect(outcome.outcome).toBe("created");
        idAt.set(at, outcome.snapshot.id);
      }
    });
  }, 120_000);
  afterAll(async () => {
    await backend.cleanup();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });
  return { newClass: backend.newClass, idAt, fresh: (at = PRUNE_AT) => backend.copy(manualClock(at)) };
}

export async function listAll(store: BlobStore, prefix = "repos/"): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of store.list(prefix)) out.push(info);
  return out;
}

/** Everything a prune could change: the records, the objects with their lifecycle, the audit log. */
export async function state(f: PruneFixture) {
  const records = await f.deps.index.list(REPO);
  const objects = await listAll(f.deps.store);
  const stats = await Promise.all(objects.map((o) => f.deps.store.stat(o.key)));
  return { records, objects, stats, audit: await f.auditEvents() };
}

export async function expectNoDanglingRecords(deps: Deps): Promise<void> {
  for (const record of await deps.index.list(REPO)) {
    expect(await deps.store.stat(record.objectKey), `object of ${record.id}`).toBeDefined();
  }
}

/** Writes an object no index record names, at the fixture's clock. */
export const put = (deps: Deps, key: string) =>
  deps.store.put(key, Readable.from([Buffer.from("not a snapshot")]));
