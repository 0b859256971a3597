// The status page's warm read (firestore-warm-read.ts): an index that answered listAll once
// reads only the repo and attempt documents changed since. After every kind of write, made by
// another instance, its answer equals a fresh index's (whose first read is whole); a write that
// leaves no stamp (a version from before it, during a rolling deploy) is unseen until the next
// whole read, which proves the reads in between were of changes only.
import type { Firestore } from "@google-cloud/firestore";
import { afterAll, describe, expect, it } from "vitest";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { repoKey } from "../../functions/adapters/gcp/firestore-paths.js";
import { FULL_READ_EVERY_MS } from "../../functions/adapters/gcp/firestore-warm-read.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";

const firestore: Firestore = firestoreClient();
const root = `warm/${uniqueName("warm")}`;
afterAll(async () => {
  await firestore.recursiveDelete(firestore.doc(root));
  await firestore.terminate();
});

const at = (day: number) => new Date(Date.parse("2026-11-01T00:00:00.000Z") + day * 86_400_000).toISOString();
const sid = (day: number, n: number) => `${at(day).replace(/[-:.]/g, "").slice(0, 18)}Z-cccc000${n}`;

describe("warm listAll on Firestore", () => {
  const clock = new ManualClock(at(20));
  /** The status page's instance: it keeps its read between loads. */
  const warm = new FirestoreSnapshotIndex({ firestore, clock, root });
  /** Another function's instance: every write goes through it. */
  const writer = new FirestoreSnapshotIndex({ firestore, clock, root });
  const fresh = () => new FirestoreSnapshotIndex({ firestore, clock, root });

  const app1 = snapshot({ id: sid(1, 1), repo: "acme/app", takenAt: at(1), objectKey: "a1" });
  const app2 = snapshot({
    id: sid(2, 2),
    repo: "acme/app",
    takenAt: at(2),
    objectKey: "a2",
    kind: "incremental",
    parentId: app1.id,
  });
  const lib1 = snapshot({ id: sid(1, 3), repo: "acme/lib", takenAt: at(1), objectKey: "l1" });

  async function expectSameAsFresh(): Promise<void> {
    const other = fresh();
    expect(await warm.listAll()).toEqual(await other.listAll());
    expect(await warm.attempts()).toEqual(await other.attempts());
  }

  it("equals a whole read after each kind of write by another instance", async () => {
    await writer.commit(app1);
    await writer.commit(lib1);
    await expectSameAsFresh(); // the warm index's first read: whole
    expect([...(await warm.listAll()).keys()]).toEqual(["acme/app", "acme/lib"]);

    await writer.commit(app2);
    await writer.recordAttempt("acme/app", { at: at(2), outcome: "created", snapshotId: app2.id });
    await expectSameAsFresh();
    expect((await warm.listAll()).get("acme/app")?.map((s) => s.id)).toEqual([app2.id, app1.id]);

    await writer.confirm("acme/app", app2.id, at(3));
    await writer.recordVerification("acme/app", app2.id, { verdict: "ok", level: "deep", at: at(3) });
    await writer.setHold("acme/lib", lib1.id, true);
    await writer.recordAttempt("acme/app", { at: at(3), outcome: "unchanged", snapshotId: app2.id });
    await expectSameAsFresh();
    const shown = (await warm.listAll()).get("acme/app")![0]!;
    expect([shown.confirmedAt, shown.verification?.verdict]).toEqual([at(3), "ok"]);
    expect((await warm.listAll()).get("acme/lib")?.[0]?.hold).toBe(true);

    await writer.remove("acme/app", app2.id); // not its last: the repo stays
    await expectSameAsFresh();
    expect((await warm.listAll()).get("acme/app")?.map((s) => s.id)).toEqual([app1.id]);

    await writer.setHold("acme/lib", lib1.id, false);
    await writer.remove("acme/lib", lib1.id); // its last: the repo document goes
    await expectSameAsFresh();
    expect([...(await warm.listAll()).keys()]).toEqual(["acme/app"]);

    await writer.commit(lib1); // back after its removal: shown again
    await expectSameAsFresh();
    expect([...(await warm.listAll()).keys()]).toEqual(["acme/app", "acme/lib"]);
  });

  it("reads only what changed until a whole read is due: an unstamped write shows after it", async () => {
    await warm.listAll(); // whole or changes: either way current now
    clock.advance(FULL_READ_EVERY_MS); // the next read is whole
    await warm.listAll();
    // An older version's write: the same summaries field, no stamp.
    const doc = firestore.doc(root).collection("repos").doc(repoKey("acme/lib"));
    const summaries = JSON.parse((await doc.get()).get("summaries") as string) as { size: number }[];
    summaries[0]!.size = 4242;
    await doc.update({ summaries: JSON.stringify(summaries) });

    expect((await fresh().listAll()).get("acme/lib")?.[0]?.size).toBe(4242);
    clock.advance(FULL_READ_EVERY_MS - 1);
    expect((await warm.listAll()).get("acme/lib")?.[0]?.size).not.toBe(4242); // changes only
    clock.advance(1);
    expect((await warm.listAll()).get("acme/lib")?.[0]?.size).toBe(4242); // whole again
  });
});
