// Summaries left behind by an older version during a rolling deploy: code from before the
// summaries commits a snapshot (or confirms one) by writing the snapshot document alone, then
// records the backup attempt as every version does. The next listAll (the status page's read)
// finds the repository document behind its attempt and rebuilds it, once per attempt.
import type { DocumentReference } from "@google-cloud/firestore";
import { afterAll, describe, expect, it } from "vitest";
import { FirestoreSnapshotIndex, toDoc } from "../../functions/adapters/gcp/firestore-index.js";
import { repoKey } from "../../functions/adapters/gcp/firestore-paths.js";
import { CHECKED_FIELD, toSummary } from "../../functions/adapters/gcp/firestore-repo-summaries.js";
import type { Snapshot } from "../../functions/core/model.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";

const firestore = firestoreClient();
const root = `health/${uniqueName("stale")}`;
afterAll(async () => {
  await firestore.recursiveDelete(firestore.doc(root));
  await firestore.terminate();
});

const repoDoc = (repo: string): DocumentReference =>
  firestore.doc(root).collection("repos").doc(repoKey(repo));

/** What the code before the summaries did on commit to a repository it had seen: the snapshot document alone. */
async function oldCommit(s: Snapshot): Promise<void> {
  await repoDoc(s.repo).collection("snapshots").doc(s.id).create(toDoc(s));
}

const at = (day: number) => new Date(Date.parse("2026-11-01T00:00:00.000Z") + day * 86_400_000).toISOString();
const sid = (day: number, n: number) => `${at(day).replace(/[-:.]/g, "").slice(0, 18)}Z-bbbb000${n}`;

describe("summaries an older version left behind (Firestore)", () => {
  const clock = new ManualClock(at(10));
  const index = new FirestoreSnapshotIndex({ firestore, clock, root });
  const first = snapshot({ id: sid(1, 1), repo: "acme/app", takenAt: at(1), objectKey: "k1" });
  const second = snapshot({
    id: sid(2, 2),
    repo: "acme/app",
    takenAt: at(2),
    objectKey: "k2",
    kind: "incremental",
    parentId: first.id,
  });

  it("shows a snapshot an old instance committed, and a confirmation it made", async () => {
    await index.commit(first);
    await index.recordAttempt("acme/app", { at: at(1), outcome: "created", snapshotId: first.id });
    await index.commit(snapshot({ id: sid(1, 3), repo: "acme/lib", takenAt: at(1), objectKey: "k3" }));
    // The old instance: a new snapshot, its document only, then the attempt.
    await oldCommit(second);
    await index.recordAttempt("acme/app", { at: at(2), outcome: "created", snapshotId: second.id });
    const before = (await repoDoc("acme/app").get()).get("summaries") as string;
    expect(JSON.parse(before).map((s: Snapshot) => s.id)).toEqual([first.id]);
    const listed = await index.listAll();
    expect(listed.get("acme/app")).toEqual([toSummary(second), toSummary(first)]);
    // Rebuilt on the document: the next read answers from it.
    const rebuilt = await repoDoc("acme/app").get();
    expect(JSON.parse(rebuilt.get("summaries") as string).map((s: Snapshot) => s.id)).toEqual([
      second.id,
      first.id,
    ]);
    expect(rebuilt.get(CHECKED_FIELD)).toBe(Date.parse(at(2)));
    // The old instance confirms the newest unchanged: confirmedAt on the snapshot document only.
    await repoDoc("acme/app")
      .collection("snapshots")
      .doc(second.id)
      .update({ confirmedAt: at(3) });
    await index.recordAttempt("acme/app", { at: at(3), outcome: "unchanged", snapshotId: second.id });
    expect((await index.listAll()).get("acme/app")![0]!.confirmedAt).toBe(at(3));
    expect(await index.listAll()).toEqual(
      new Map([
        ["acme/app", (await index.list("acme/app")).map(toSummary)],
        ["acme/lib", (await index.list("acme/lib")).map(toSummary)],
      ]),
    );
  });

  it("rebuilds once per attempt, and not at all for what this version wrote", async () => {
    // This version's own backup: commit, then the attempt: nothing to rebuild.
    const third = snapshot({ id: sid(4, 4), repo: "acme/lib", takenAt: at(4), objectKey: "k4" });
    await index.commit(third);
    await index.recordAttempt("acme/lib", { at: at(4), outcome: "created", snapshotId: third.id });
    const lib = (await repoDoc("acme/lib").get()).updateTime;
    await index.listAll();
    expect((await repoDoc("acme/lib").get()).updateTime).toEqual(lib);
    expect((await repoDoc("acme/lib").get()).get(CHECKED_FIELD)).toBeUndefined();
    // A created snapshot pruned since (by this version): its attempt is acted on once, then not again.
    await index.remove("acme/lib", third.id);
    await index.listAll();
    const once = await repoDoc("acme/lib").get();
    expect(once.get(CHECKED_FIELD)).toBe(Date.parse(at(4)));
    await index.listAll();
    expect((await repoDoc("acme/lib").get()).updateTime).toEqual(once.updateTime);
    expect((await index.listAll()).get("acme/lib")!.map((s) => s.id)).toEqual([sid(1, 3)]);
  });
});
