// The ClassCheckpoints contract against both index backends: SQLite in a temp folder (through the
// snapshot index, which migrates the file), Firestore on the emulator (started by the global setup).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FirestoreClassCheckpoints } from "../../functions/adapters/gcp/firestore-class-checkpoints.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { ClassCheckpoints } from "../../functions/core/ports.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";

interface Fixture {
  kept: ClassCheckpoints;
  cleanup(): Promise<void>;
}

function classCheckpointsContract(name: string, open: () => Promise<Fixture>): void {
  describe(`ClassCheckpoints contract: ${name}`, () => {
    let fixture: Fixture | undefined;
    const kept = async () => (fixture ??= await open()).kept;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it("keeps each text under its key, replaces it, and reads back only the keys asked for", async () => {
      const store = await kept();
      await store.saveClassCheckpoints(
        new Map([
          ["acme/app", '{"a":1}'],
          ["acme/web", '{"w":1}'],
          ["R_kgDOabc", '{"lineage":1}'],
        ]),
      );
      await store.saveClassCheckpoints(new Map([["acme/app", '{"a":2}']]));
      expect(await store.classCheckpoints(["acme/app", "R_kgDOabc", "acme/none"])).toEqual(
        new Map([
          ["acme/app", '{"a":2}'],
          ["R_kgDOabc", '{"lineage":1}'],
        ]),
      );
      expect(await store.classCheckpoints([])).toEqual(new Map());
    });

    it("forgets one key, idempotently, and keeps the others", async () => {
      const store = await kept();
      await store.saveClassCheckpoints(
        new Map([
          ["acme/app", "one"],
          ["acme/web", "two"],
        ]),
      );
      await store.forgetClassCheckpoint("acme/app");
      await store.forgetClassCheckpoint("acme/app");
      expect(await store.classCheckpoints(["acme/app", "acme/web"])).toEqual(new Map([["acme/web", "two"]]));
    });

    it("saves and reads more entries than one batch holds (600), texts of 20 KB included", async () => {
      const store = await kept();
      const entries = new Map(
        Array.from({ length: 600 }, (_, i) => [`acme/r${i}`, i % 100 === 0 ? "x".repeat(20_000) : `t${i}`]),
      );
      await store.saveClassCheckpoints(entries);
      const back = await store.classCheckpoints([...entries.keys()]);
      expect(back.size).toBe(600);
      expect(back.get("acme/r100")?.length).toBe(20_000);
      expect(back.get("acme/r599")).toBe("t599");
    });
  });
}

classCheckpointsContract("SqliteClassCheckpoints", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-checkpoints-"));
  const index = new SqliteSnapshotIndex({ path: path.join(dir, "index.sqlite") });
  return {
    kept: index.classCheckpoints(),
    cleanup: async () => {
      index.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const firestore = firestoreClient();
afterAll(() => firestore.terminate());

classCheckpointsContract("FirestoreClassCheckpoints (emulator)", async () => {
  const root = `contract/${uniqueName("checkpoints")}`;
  return {
    kept: new FirestoreClassCheckpoints({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});
