// The status page and backupHealth read each repository's snapshot summaries (listMany), which the
// Firestore index keeps on the repository's document and SQLite reads from its table. After a
// sequence of commits, layered commits, confirmations, verifications, holds, removals and a
// repository's last snapshot removed, on both backends: listMany answers what list() answers, and
// the health JSON and the status view built from it equal those built from every full record. On
// Firestore an index written before the summaries existed (repository documents without them) is
// read right, and its summaries are rebuilt by that first read.
import { FieldValue } from "@google-cloud/firestore";
import { afterAll, describe, expect, it } from "vitest";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { FirestoreLayerIndex } from "../../functions/adapters/gcp/firestore-layers.js";
import { SUMMARIES_FIELD } from "../../functions/adapters/gcp/firestore-repo-summaries.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { healthJson, healthReport } from "../../functions/core/health.js";
import { SUMMARY_LEFT_OUT, type Snapshot, type SnapshotSummary } from "../../functions/core/model.js";
import type { LayerIndex, SnapshotIndex } from "../../functions/core/ports.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { statusView } from "../../functions/core/status-view.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { layerRecord } from "../helpers/layer-records.js";

const NOW = "2026-11-27T12:00:00.000Z";
const firestore = firestoreClient();
const roots: string[] = [];
const sqlite: SqliteSnapshotIndex[] = [];
/** A root of its own (a document path) for each Firestore index the tests open. */
const newRoot = () => {
  roots.push(`health/${uniqueName("summaries")}`);
  return roots.at(-1)!;
};
afterAll(async () => {
  for (const index of sqlite) index.close();
  for (const root of roots) await firestore.recursiveDelete(firestore.doc(root));
  await firestore.terminate();
});

type Backend = { index: SnapshotIndex; layers: LayerIndex };
const backends: [string, (clock: ManualClock) => Backend][] = [
  [
    "SQLite",
    (clock) => {
      const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
      sqlite.push(index);
      return { index, layers: index.layerIndex() };
    },
  ],
  [
    "Firestore",
    (clock) => {
      const root = newRoot();
      return {
        index: new FirestoreSnapshotIndex({ firestore, clock, root }),
        layers: new FirestoreLayerIndex({ firestore, root }),
      };
    },
  ],
];

function summary(s: Snapshot): SnapshotSummary {
  const copy: Record<string, unknown> = { ...s };
  for (const field of SUMMARY_LEFT_OUT) delete copy[field];
  return copy as SnapshotSummary;
}

/** The same index, but listMany and listAll answer from every full record (list() of each repository). */
function fullRecords(index: SnapshotIndex): SnapshotIndex {
  const listMany = async (repos: readonly string[]) =>
    Promise.all(repos.map(async (repo) => (await index.list(repo)).map(summary)));
  return new Proxy(index, {
    get(target, name, receiver) {
      if (name === "listMany") return listMany;
      if (name === "listAll")
        return async () => {
          const repos = await target.repos();
          const lists = await listMany(repos);
          return new Map(repos.map((repo, i) => [repo, lists[i]!]));
        };
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const OPTIONS = {
  expected: ["acme/never"],
  policy: DEFAULT_RETENTION_POLICY,
  prices: DEFAULT_PRICING,
  pricingSource: "test",
  newObjectClass: "STANDARD",
  projectedRepos: 0,
};

const at = (hours: number) => new Date(Date.parse(NOW) - hours * 3_600_000).toISOString();
const sid = (hours: number, n: number) =>
  `${at(hours).replace(/[-:.]/g, "").slice(0, 18)}Z-${n.toString(16).padStart(8, "0")}`;

/** Commits, layered commits, confirms, verdicts, holds and removals over three repositories. */
async function history({ index, layers }: Backend): Promise<string[]> {
  const repo = (name: string, hours: number, n: number, extra: Partial<Snapshot> = {}) =>
    snapshot({ id: sid(hours, n), repo: name, takenAt: at(hours), size: 1000 * n, ...extra });
  const full = repo("acme/widget", 72, 1, {
    metadata: { items: { issues: 3 }, unavailable: {}, requests: 4, notModified: 0 },
  });
  await index.commit(full);
  await index.commit(repo("acme/widget", 48, 2, { kind: "incremental", parentId: full.id }));
  await index.commit(repo("acme/widget", 24, 3, { kind: "incremental", parentId: full.id }));
  await index.recordVerification("acme/widget", full.id, { verdict: "ok", level: "deep", at: at(70) });
  await index.recordVerification("acme/widget", sid(24, 3), {
    verdict: "failed",
    level: "quick",
    at: at(23),
    detail: "segment 3 failed authentication",
  });
  await index.confirm("acme/widget", sid(24, 3), at(1));
  await index.confirm("acme/widget", sid(24, 3), at(5)); // older: confirmedAt stays
  await index.setHold("acme/widget", sid(48, 2), true);
  await index.setHold("acme/widget", full.id, true);
  await index.setHold("acme/widget", full.id, false);
  await index.commit(repo("acme/gadget", 30, 4));
  await index.commit(repo("acme/gadget", 2, 5, { confirmedAt: at(2) }));
  await index.remove("acme/gadget", sid(30, 4));
  await index.recordVerification("acme/gadget", sid(2, 5), { verdict: "ok", level: "deep", at: at(1) });
  await index.commit(repo("acme/gone", 40, 6));
  await index.remove("acme/gone", sid(40, 6)); // its last: the repository leaves the index
  const lineage = "acme/layered";
  await layers.commitLayered(
    repo(lineage, 10, 7, { kind: "layered", layers: ["L1"], bundleBytes: 0 }),
    layerRecord({ id: "L1", lineage, createdAt: at(10) }),
    [],
    0,
  );
  await layers.commitLayered(
    repo(lineage, 3, 8, { kind: "layered", layers: ["L2", "L1"], bundleBytes: 0 }),
    layerRecord({ id: "L2", lineage, createdAt: at(3) }),
    [sid(10, 7)],
    1,
  );
  await index.recordVerification(lineage, sid(3, 8), { verdict: "ok", level: "layer", at: at(2) });
  return ["acme/widget", "acme/gadget", "acme/gone", lineage, "acme/never"];
}

/** The health JSON and the status view, from listMany and from every full record. */
async function bothWays(backend: Backend, clock: ManualClock) {
  const fromSummaries = await healthReport({ ...backend, clock }, OPTIONS);
  const fromRecords = await healthReport(
    { index: fullRecords(backend.index), layers: backend.layers, clock },
    OPTIONS,
  );
  return { fromSummaries, fromRecords };
}

describe.each(backends)("snapshot summaries on the %s index", (_name, open) => {
  it("answer what the full records answer after commits, verdicts, holds and removals", async () => {
    const clock = new ManualClock(NOW);
    const backend = open(clock);
    const names = await history(backend);
    const lists = await backend.index.listMany(names);
    expect(lists).toEqual(
      await Promise.all(names.map(async (n) => (await backend.index.list(n)).map(summary))),
    );
    const all = await backend.index.listAll();
    expect([...all.keys()]).toEqual(await backend.index.repos());
    for (const [repo, list] of all) expect(list).toEqual(lists[names.indexOf(repo)]);
    expect(lists.map((l) => l.length)).toEqual([3, 1, 0, 2, 0]);
    expect(lists[0]!.map((s) => [s.confirmedAt, s.hold ?? false, s.verification?.verdict])).toEqual([
      [at(1), false, "failed"],
      [at(48), true, undefined],
      [at(72), false, "ok"],
    ]);
    const { fromSummaries, fromRecords } = await bothWays(backend, clock);
    expect(fromSummaries.repos.map((h) => h.repo)).toEqual([
      "acme/gadget",
      "acme/layered",
      "acme/never",
      "acme/widget",
    ]);
    expect(healthJson(fromSummaries)).toEqual(healthJson(fromRecords));
    expect(statusView(fromSummaries)).toEqual(statusView(fromRecords));
  });
});

describe("snapshot summaries of an index written before they existed (Firestore)", () => {
  it("are read from the snapshot documents and rebuilt by the first read", async () => {
    const clock = new ManualClock(NOW);
    const backend = backends[1]![1](clock);
    const at0 = roots.at(-1)!;
    const names = await history(backend);
    const expected = await Promise.all(names.map(async (n) => (await backend.index.list(n)).map(summary)));
    // What an earlier version left: repository documents that name the repository and nothing more.
    const repoDocs = await firestore.doc(at0).collection("repos").get();
    expect(repoDocs.docs.length).toBe(3);
    for (const doc of repoDocs.docs) {
      expect(typeof doc.get(SUMMARIES_FIELD)).toBe("string");
      await doc.ref.update({ [SUMMARIES_FIELD]: FieldValue.delete() });
    }
    // A commit to a legacy repository keeps it legacy (no partial summaries), and is read all the same.
    const late = snapshot({ id: sid(0.5, 9), repo: "acme/gadget", takenAt: at(0.5) });
    await backend.index.commit(late);
    expected[1] = [summary(late), ...expected[1]!];
    // One rebuilt per read here (100 in production); the others are read with every snapshot.
    const upgrading = new FirestoreSnapshotIndex({ firestore, clock, root: at0, rebuildsPerRead: 1 });
    const kept = async () =>
      (await firestore.doc(at0).collection("repos").get()).docs.filter(
        (d) => typeof d.get(SUMMARIES_FIELD) === "string",
      ).length;
    for (const rebuilt of [1, 2, 3]) {
      expect(await upgrading.listMany(names)).toEqual(expected);
      expect(await kept()).toBe(rebuilt);
    }
    // Rebuilt: later changes keep them current, and reads answer from them alone.
    await backend.index.setHold("acme/gadget", late.id, true);
    expected[1]![0] = { ...summary(late), hold: true };
    expect(await backend.index.listMany(names)).toEqual(expected);
    const { fromSummaries, fromRecords } = await bothWays(backend, clock);
    expect(healthJson(fromSummaries)).toEqual(healthJson(fromRecords));
  });
});
