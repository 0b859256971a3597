// The audit trail in Firestore, on the emulator: one hash chain per repository, entries created
// in a transaction with their chain's head (concurrent functions never fork a chain), read back
// and verified, and a forged, removed or overwritten entry named by `verifyChain`. A configuration
// change seen by several functions at once is recorded once.
import { afterAll, describe, expect, it } from "vitest";
import { FirestoreAuditLog, ORG_CHAIN } from "../../functions/adapters/gcp/firestore-audit-log.js";
import { verifyChain, type AuditEntry } from "../../functions/core/audit-chain.js";
import {
  recordConfigChange,
  type ConfigChangeDetails,
  type ConfigView,
} from "../../functions/core/audit-config.js";
import type { AuditEvent, AuditLog } from "../../functions/core/ports.js";
import { ManualClock } from "../contract/snapshot-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";

const event = (repo: string | undefined, i: number): AuditEvent => ({
  action: i % 2 ? "snapshot.created" : "verify.passed",
  ...(repo ? { repo } : {}),
  snapshotId: `20261127T00000${i % 10}000Z-aaaaaaaa`,
  actor: "scheduler",
  outcome: "success",
  details: { i, nested: [[1, 2], { a: 1.5 }], big: 10n },
});

describe("FirestoreAuditLog on the emulator", () => {
  const firestore = firestoreClient();
  const root = `audit/${uniqueName("run")}`;
  const clock = new ManualClock("2026-11-27T00:00:00.000Z");
  const overwriteRoot = `audit-overwrite/${uniqueName("run")}`;
  afterAll(async () => {
    await firestore.recursiveDelete(firestore.doc(root));
    await firestore.terminate();
  });

  async function entries(log: FirestoreAuditLog): Promise<Array<AuditEntry & { chain?: string }>> {
    const all: Array<AuditEntry & { chain?: string }> = [];
    for await (const stored of log.stored())
      all.push({ ...(stored.value as AuditEntry), chain: stored.chain });
    return all;
  }

  it("chains each repository's entries apart, concurrent writers included, and mirrors each one", async () => {
    const mirrored: AuditEvent[] = [];
    const mirror: AuditLog = { record: async (e) => void mirrored.push(e) };
    const writers = Array.from(
      { length: 4 },
      () => new FirestoreAuditLog({ firestore, root, clock, mirror }),
    );
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        writers[i % 4]!.record(event(i % 3 === 2 ? undefined : `acme/r${i % 3}`, i)),
      ),
    );
    const log = writers[0]!;
    const all = await entries(log);
    expect(all).toHaveLength(12);
    expect(mirrored).toHaveLength(12);
    const byChain = new Map<string, number[]>();
    for (const e of all) byChain.set(e.chain ?? "", [...(byChain.get(e.chain ?? "") ?? []), e.seq]);
    expect([...byChain.keys()].sort()).toEqual([ORG_CHAIN, "acme/r0", "acme/r1"].sort());
    for (const seqs of byChain.values()) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(all.find((e) => e.details?.i === 4)?.details).toEqual({
      i: 4,
      nested: [[1, 2], { a: 1.5 }],
      big: "10",
    });
    const report = await verifyChain(log.stored());
    expect(report).toMatchObject({ ok: true, entries: 12, chains: 3 });
  });

  it("names an entry changed in place, and one removed", async () => {
    const log = new FirestoreAuditLog({ firestore, root, clock });
    const entriesOf = firestore.collection(`${root}/auditChains/acme%2Fr0/entries`);
    const third = entriesOf.doc("000000000003");
    const original = (await third.get()).data()!;
    const forged = { ...(JSON.parse(original.json) as AuditEntry), outcome: "failure" };
    await third.set({ ...original, json: JSON.stringify(forged) });
    const changed = await verifyChain(log.stored());
    expect(changed).toMatchObject({
      ok: false,
      firstBad: {
        position: `auditChains/acme%2Fr0/entries/000000000003`,
        seq: 3,
        reason: expect.stringMatching(/does not match its hash/),
      },
    });
    await third.delete();
    const removed = await verifyChain(log.stored());
    expect(removed.firstBad).toMatchObject({
      seq: 4,
      reason: expect.stringMatching(/sequence 4 where 3 was due/),
    });
  });

  it("never overwrites an entry: a head moved back makes the write fail, not replace", async () => {
    const log = new FirestoreAuditLog({ firestore, root: overwriteRoot, clock });
    await log.record(event("acme/once", 1));
    await log.record(event("acme/once", 2));
    await firestore.doc(`${overwriteRoot}/auditChains/acme%2Fonce`).update({ seq: 1 });
    await expect(log.record(event("acme/once", 3))).rejects.toThrow(/ALREADY_EXISTS|already exists/i);
    const kept = await entries(log);
    expect(kept.map((e) => e.details?.i)).toEqual([1, 2]);
    await firestore.recursiveDelete(firestore.doc(overwriteRoot));
  });

  it("records a configuration change once, however many functions see it at the same time", async () => {
    const configRoot = `audit-config/${uniqueName("run")}`;
    const writers = Array.from(
      { length: 4 },
      () => new FirestoreAuditLog({ firestore, root: configRoot, clock }),
    );
    const view = (days: string): ConfigView => ({
      "retention.daily": { value: days, from: "retention-policy.yaml" },
      "retention.holdRepos": { value: ["acme/app"], from: "env LEGAL_HOLD_REPOS" },
    });
    const first = await Promise.all(writers.map((w) => recordConfigChange(w, view("30d"), "deployment")));
    expect(first.filter(Boolean)).toHaveLength(1);
    // Ordinary entries of the same chain in between: the head keeps where its newest configuration is.
    await writers[0]!.record(event(undefined, 7));
    expect(await recordConfigChange(writers[1]!, view("30d"), "deployment")).toBeUndefined();
    const changed = await Promise.all(writers.map((w) => recordConfigChange(w, view("45d"), "deployment")));
    expect(changed.filter(Boolean)).toHaveLength(1);
    const all = await entries(writers[0]!);
    expect(all.map((e) => e.action)).toEqual(["config.changed", "snapshot.created", "config.changed"]);
    expect((all[2]!.details as unknown as ConfigChangeDetails).changes).toEqual([
      {
        key: "retention.daily",
        before: { value: "30d", from: "retention-policy.yaml" },
        after: { value: "45d", from: "retention-policy.yaml" },
      },
    ]);
    expect(await verifyChain(writers[0]!.stored())).toMatchObject({ ok: true, entries: 3 });
    await firestore.recursiveDelete(firestore.doc(configRoot));
  });
});
