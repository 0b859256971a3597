// The DrillRecords contract against both index backends: SQLite in a temp folder (through the
// snapshot index, which migrates the file), Firestore on the emulator (started by the global setup).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";
import { FirestoreDrillRecords } from "../../functions/adapters/gcp/firestore-drills.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { drillRecordsContract } from "./drill-records.js";

drillRecordsContract("SqliteDrillRecords", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-drills-"));
  const index = new SqliteSnapshotIndex({ path: path.join(dir, "index.sqlite") });
  return {
    records: index.drillRecords(),
    cleanup: async () => {
      index.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const firestore = firestoreClient();
afterAll(() => firestore.terminate());

drillRecordsContract("FirestoreDrillRecords (emulator)", async () => {
  const root = `contract/${uniqueName("drills")}`;
  return {
    records: new FirestoreDrillRecords({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});
