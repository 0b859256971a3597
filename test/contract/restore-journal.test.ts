// The RestoreJournal contract against both adapters: SQLite in a temp folder, Firestore on the
// emulator (started by the global setup).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";
import { FirestoreRestoreJournal } from "../../functions/adapters/gcp/firestore-restore-journal.js";
import { SqliteRestoreJournal } from "../../functions/adapters/local/sqlite-restore-journal.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { restoreJournalContract } from "./restore-journal.js";

restoreJournalContract("SqliteRestoreJournal", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-journal-"));
  const journal = new SqliteRestoreJournal(path.join(dir, "state", "index.sqlite"));
  return {
    journal,
    cleanup: async () => {
      journal.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const firestore = firestoreClient();
afterAll(() => firestore.terminate());

restoreJournalContract("FirestoreRestoreJournal (emulator)", async () => {
  const root = `contract/${uniqueName("journal")}`;
  return {
    journal: new FirestoreRestoreJournal({ firestore, root }),
    cleanup: () => firestore.recursiveDelete(firestore.doc(root)),
  };
});
