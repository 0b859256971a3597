// The health report reads every repository's snapshots with one listMany (SnapshotIndex) instead
// of a list() per repository: on the SQLite and the Firestore index (emulator), behind the lineage
// wrapper as the app wires them, listMany answers exactly what list() answers for each name (a
// renamed repository under its old and new name, a name with no snapshots, the order asked), and
// the health report holds exactly those lists (as summaries: no ref lists, no checkpoint); another root's documents in the same database are
// not among them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { healthReport } from "../../functions/core/health.js";
import { lineageIndex } from "../../functions/core/lineage/lineage-index.js";
import type { SnapshotIndex } from "../../functions/core/ports.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { seedStatusIndex } from "../helpers/status-fixture.js";
import { SUMMARY_LEFT_OUT, type Snapshot, type SnapshotSummary } from "../../functions/core/model.js";

const NOW = "2026-11-27T12:00:00.000Z";
const firestore = firestoreClient();
const root = `health/${uniqueName("many")}`;
const sqlite: SqliteSnapshotIndex[] = [];
afterAll(async () => {
  for (const index of sqlite) index.close();
  await firestore.recursiveDelete(firestore.doc(root));
  await firestore.recursiveDelete(firestore.doc(`${root}-neighbour`));
  await firestore.terminate();
});

const backends: [string, (clock: ManualClock) => SnapshotIndex][] = [
  [
    "SQLite",
    (clock) => {
      const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
      sqlite.push(index);
      return index;
    },
  ],
  ["Firestore", (clock) => new FirestoreSnapshotIndex({ firestore, clock, root })],
];

beforeAll(async () => {
  // Another deployment in the same database (its own root) with a repository of the same name: its
  // snapshot documents are in the same collection group, and must not be answered.
  const neighbour = new FirestoreSnapshotIndex({ firestore, root: `${root}-neighbour` });
  await neighbour.commit(snapshot({ id: "20261126T000000000Z-00000099", repo: "umbrella/repo-00001" }));
});

/** A snapshot as listMany gives it: without the fields a summary leaves out. */
function summary(snapshot: Snapshot): SnapshotSummary {
  const copy: Record<string, unknown> = { ...snapshot };
  for (const field of SUMMARY_LEFT_OUT) delete copy[field];
  return copy as SnapshotSummary;
}

describe.each(backends)("listMany on the %s index", (_name, open) => {
  it("answers list() of each name, and the health report holds those lists", async () => {
    const clock = new ManualClock(NOW);
    const index = lineageIndex(open(clock));
    const plan = await seedStatusIndex(index, 60, new Date(NOW));
    // acme/old was renamed acme/new: both names lead to its snapshots, filed under acme/old.
    const renamed = snapshot({
      id: "20261120T000000000Z-0000abcd",
      repo: "acme/old",
      takenAt: "2026-11-20T00:00:00.000Z",
    });
    await index.commit(renamed);
    await index.updateRepository(42, () => ({
      id: 42,
      key: "acme/old",
      name: "acme/new",
      nameSince: "2026-11-21T00:00:00.000Z",
      formerNames: [{ name: "acme/old", until: "2026-11-21T00:00:00.000Z", how: "renamed" }],
      state: "active",
      stateAt: "2026-11-21T00:00:00.000Z",
    }));
    const names = ["acme/new", "acme/none", ...plan.map((p) => p.repo).reverse(), "acme/old"];
    const lists = await index.listMany(names);
    expect(lists).toEqual(
      await Promise.all(names.map(async (name) => (await index.list(name)).map(summary))),
    );
    // Summaries: the ref lists and the checkpoint are not read.
    expect(lists.flat().length).toBeGreaterThan(0);
    for (const field of SUMMARY_LEFT_OUT) expect(lists.flat().some((s) => field in s)).toBe(false);
    expect(lists[0]!.map((s) => s.id)).toEqual([renamed.id]);
    expect(lists.at(-1)!.map((s) => s.id)).toEqual([renamed.id]);
    expect(lists[1]).toEqual([]);
    // Newest first, as the plan has them: two for the healthy ones, none for the never backed up.
    expect(lists.slice(2, -1).map((l) => l.length)).toEqual(plan.map((p) => p.snapshots).reverse());
    expect(await index.listMany([])).toEqual([]);

    const report = await healthReport(
      { index, clock },
      {
        expected: [],
        policy: DEFAULT_RETENTION_POLICY,
        prices: DEFAULT_PRICING,
        pricingSource: "test",
        newObjectClass: "STANDARD",
        projectedRepos: 0,
      },
    );
    const repos = report.repos.map((h) => h.repo);
    expect(repos).toContain("acme/new");
    expect(report.snapshots).toEqual(
      await Promise.all(repos.map(async (name) => (await index.list(name)).map(summary))),
    );
  });
});
