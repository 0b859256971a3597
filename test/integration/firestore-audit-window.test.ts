// FirestoreAuditLog.entriesSince on the emulator: the contract (test/contract/audit-window.ts),
// and a window read under a root leaves out the entries of other roots its collection-group
// query also finds. (The emulator needs no index; test/infra/firestore-indexes.test.ts checks the
// composite index on action and at is declared.)
import { afterAll, describe, expect, it } from "vitest";
import { FirestoreAuditLog } from "../../functions/adapters/gcp/firestore-audit-log.js";
import { auditWindowContract } from "../contract/audit-window.js";
import { ManualClock } from "../contract/snapshot-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";

const firestore = firestoreClient();
const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await firestore.recursiveDelete(firestore.doc(root));
  await firestore.terminate();
});

function subject(start = "2026-09-01T00:00:00.000Z") {
  const root = `audit-window/${uniqueName("run")}`;
  roots.push(root);
  const clock = new ManualClock(start);
  return { root, clock, log: new FirestoreAuditLog({ firestore, root, clock }) };
}

auditWindowContract("FirestoreAuditLog", async () => subject());

describe("FirestoreAuditLog.entriesSince under a root", () => {
  it("answers its own root's entries only", async () => {
    const mine = subject("2031-01-01T00:00:00.000Z");
    const other = subject("2031-01-01T00:00:00.000Z");
    const failed = { action: "snapshot.failed", actor: "t", outcome: "failure" } as const;
    await mine.log.record({ ...failed, repo: "acme/a" });
    await other.log.record({ ...failed, repo: "acme/a" });
    await other.log.record({ ...failed, repo: "acme/b" });
    const found = await mine.log.entriesSince(["snapshot.failed"], "2031-01-01T00:00:00.000Z");
    expect(found.map((e) => [e.repo, e.seq])).toEqual([["acme/a", 1]]);
  });
});
