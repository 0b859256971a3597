// The KeyRecords and RedactionList contract, run against every adapter (local.test.ts,
// gcp.test.ts): key sets are read-modify-written atomically, data key records are replaced by a
// rewrap and listed in snapshot order, redactions are keyed by login without regard to case.
import { afterEach, describe, expect, it } from "vitest";
import { UserInputError } from "../../functions/core/errors.js";
import type {
  DataKeyRecord,
  KeyRecords,
  RedactionList,
  RepositoryKey,
  RepositoryKeySet,
} from "../../functions/core/ports.js";

export interface KeyRecordsFixture {
  records: KeyRecords & RedactionList;
  cleanup(): Promise<void>;
}

const key = (id: string): RepositoryKey => ({
  id,
  keyRef: "local:0123456789abcdef",
  wrapped: Buffer.from(`wrapped ${id}`).toString("base64"),
  createdAt: "2026-12-01T10:00:00.000Z",
});
const dataKey = (repo: string, snapshotId: string, keyId: string): DataKeyRecord => ({
  repo,
  snapshotId,
  keyId,
  wrapped: Buffer.from(`${keyId}/${snapshotId}`).toString("base64"),
});

export function keyRecordsContract(name: string, open: () => Promise<KeyRecordsFixture>): void {
  describe(`KeyRecords contract: ${name}`, () => {
    let fixture: KeyRecordsFixture | undefined;
    const records = async () => (fixture ??= await open()).records;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it("stores a key set through updateKeySet and reads it back; undefined leaves it as is", async () => {
      const r = await records();
      expect(await r.keySet("acme/app")).toBeUndefined();
      const set: RepositoryKeySet = { repo: "acme/app", keys: [key("aaaaaaaaaaaaaaaa")] };
      expect(await r.updateKeySet("acme/app", () => set)).toEqual(set);
      expect(await r.keySet("acme/app")).toEqual(set);
      let seen: RepositoryKeySet | undefined;
      expect(
        await r.updateKeySet("acme/app", (current) => {
          seen = current;
          return undefined;
        }),
      ).toEqual(set);
      expect(seen).toEqual(set);
      expect(await r.keySet("acme/other")).toBeUndefined();
      expect((await r.keySets()).map((s) => s.repo)).toEqual(["acme/app"]);
    });

    it("keeps a shredding and its empty key list", async () => {
      const r = await records();
      await r.updateKeySet("acme/app", () => ({ repo: "acme/app", keys: [key("aaaaaaaaaaaaaaaa")] }));
      const shredded: RepositoryKeySet = {
        repo: "acme/app",
        keys: [],
        shredded: {
          at: "2026-12-01T11:00:00.000Z",
          by: "cli:ann",
          reason: "GDPR request 7",
          keyIds: ["aaaaaaaaaaaaaaaa"],
        },
      };
      await r.updateKeySet("acme/app", () => shredded);
      expect(await r.keySet("acme/app")).toEqual(shredded);
    });

    it("serializes concurrent updates: none is lost", async () => {
      const r = await records();
      const ids = ["1111111111111111", "2222222222222222", "3333333333333333", "4444444444444444"];
      await Promise.all(
        ids.map((id) =>
          r.updateKeySet("acme/app", (current) => ({
            repo: "acme/app",
            keys: [...(current?.keys ?? []), key(id)],
          })),
        ),
      );
      expect((await r.keySet("acme/app"))!.keys.map((k) => k.id).sort()).toEqual(ids);
    });

    it("refuses a set stored under another repository's name", async () => {
      const r = await records();
      await expect(r.updateKeySet("acme/app", () => ({ repo: "acme/other", keys: [] }))).rejects.toThrow(
        UserInputError,
      );
      expect(await r.keySet("acme/app")).toBeUndefined();
    });

    it("stores data key records, replaces one on rewrap, lists them by snapshot, removes them", async () => {
      const r = await records();
      const b = dataKey("acme/app", "20261201T100000000Z-bbbbbbbb", "aaaaaaaaaaaaaaaa");
      const a = dataKey("acme/app", "20261201T090000000Z-aaaaaaaa", "aaaaaaaaaaaaaaaa");
      await r.putDataKey(b);
      await r.putDataKey(a);
      await r.putDataKey(dataKey("acme/other", a.snapshotId, "cccccccccccccccc"));
      expect(await r.dataKey("acme/app", a.snapshotId)).toEqual(a);
      expect(await r.dataKeys("acme/app")).toEqual([a, b]);
      const rewrapped = dataKey("acme/app", a.snapshotId, "dddddddddddddddd");
      await r.putDataKey(rewrapped);
      expect(await r.dataKey("acme/app", a.snapshotId)).toEqual(rewrapped);
      await r.removeDataKey("acme/app", a.snapshotId);
      await r.removeDataKey("acme/app", a.snapshotId); // missing: not an error
      expect(await r.dataKeys("acme/app")).toEqual([b]);
      expect(await r.dataKey("acme/other", a.snapshotId)).toMatchObject({ keyId: "cccccccccccccccc" });
    });

    it("keeps a redaction list by login, case-insensitively", async () => {
      const r = await records();
      const entry = {
        login: "Mallory",
        reason: "GDPR request 9",
        by: "cli:ann",
        at: "2026-12-01T10:00:00.000Z",
      };
      await r.putRedaction(entry);
      await r.putRedaction({
        login: "alice",
        reason: "asked",
        by: "cli:ann",
        at: "2026-12-01T10:00:00.000Z",
      });
      expect((await r.redactions()).map((x) => x.login)).toEqual(["alice", "Mallory"]);
      await r.putRedaction({ ...entry, login: "mallory", reason: "again" });
      expect((await r.redactions()).map((x) => [x.login, x.reason])).toEqual([
        ["alice", "asked"],
        ["mallory", "again"],
      ]);
      await r.removeRedaction("MALLORY");
      await r.removeRedaction("nobody");
      expect((await r.redactions()).map((x) => x.login)).toEqual(["alice"]);
    });
  });
}
