// The RestoreJournal contract, run against every adapter (local.test.ts, gcp.test.ts): intents and
// results come back as recorded, an intent never undoes a done step, restores are kept apart, and
// keys with any characters (label names, "/") round-trip.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { RestoreJournal } from "../../functions/core/ports.js";

export interface RestoreJournalFixture {
  journal: RestoreJournal;
  cleanup(): Promise<void>;
}

export function restoreJournalContract(name: string, open: () => Promise<RestoreJournalFixture>): void {
  describe(`RestoreJournal contract: ${name}`, () => {
    let fixture: RestoreJournalFixture | undefined;
    const journal = async () => (fixture ??= await open()).journal;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it("gives back nothing for a new restore, then each intent and result as recorded", async () => {
      const j = await journal();
      const id = `github:acme/app@${randomUUID()}`;
      expect(await j.entries(id)).toEqual([]);
      await j.intend(id, "issue:1");
      await j.intend(id, "label:good first issue / ü");
      await j.complete(id, "label:good first issue / ü", { name: "good first issue / ü" });
      const result = { number: 1, imported: true, ids: [3, 4], nested: { "12": 5 } };
      await j.intend(id, "issue:2");
      await j.complete(id, "issue:2", result);
      const byKey = Object.fromEntries((await j.entries(id)).map((e) => [e.key, e]));
      expect(Object.keys(byKey).sort()).toEqual(["issue:1", "issue:2", "label:good first issue / ü"]);
      expect(byKey["issue:1"]).toEqual({ key: "issue:1", state: "intent" });
      expect(byKey["issue:2"]).toEqual({ key: "issue:2", state: "done", result });
      expect(byKey["label:good first issue / ü"]!.result).toEqual({ name: "good first issue / ü" });
    });

    it("never turns a done step back into an intent; a second result replaces the first", async () => {
      const j = await journal();
      const id = `github:acme/app@${randomUUID()}`;
      await j.intend(id, "comment:7");
      await j.complete(id, "comment:7", { id: 70 });
      await j.intend(id, "comment:7");
      expect(await j.entries(id)).toEqual([{ key: "comment:7", state: "done", result: { id: 70 } }]);
      await j.complete(id, "comment:7", { id: 71 });
      expect(await j.entries(id)).toEqual([{ key: "comment:7", state: "done", result: { id: 71 } }]);
      // A result without an intent first is recorded too.
      await j.complete(id, "publish:3", { published: true });
      expect((await j.entries(id)).map((e) => e.key).sort()).toEqual(["comment:7", "publish:3"]);
    });

    it("keeps restores apart", async () => {
      const j = await journal();
      const a = `github:acme/app@${randomUUID()}`;
      const b = `github:acme/app-copy@${randomUUID()}`;
      await j.complete(a, "issue:1", { number: 1 });
      await j.intend(b, "issue:1");
      expect(await j.entries(a)).toEqual([{ key: "issue:1", state: "done", result: { number: 1 } }]);
      expect(await j.entries(b)).toEqual([{ key: "issue:1", state: "intent" }]);
    });

    it("takes concurrent intents of one step as one", async () => {
      const j = await journal();
      const id = `github:acme/app@${randomUUID()}`;
      await Promise.all(Array.from({ length: 10 }, () => j.intend(id, "issue:9")));
      expect(await j.entries(id)).toEqual([{ key: "issue:9", state: "intent" }]);
    });
  });
}
