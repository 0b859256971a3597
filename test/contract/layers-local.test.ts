// The LayerIndex contract and layer garbage on the local SQLite index (sqlite-layers.ts), a fresh
// file per test; the race runs through a second connection to the same file, as a second process
// would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { layerGarbageContract } from "./layer-garbage.js";
import { layerIndexContract } from "./layer-index.js";
import { ManualClock } from "./snapshot-index.js";

const tempDir = () => mkdtemp(path.join(tmpdir(), "infinity-backup-layers-"));

layerIndexContract("SqliteLayerIndex", async () => {
  const dir = await tempDir();
  const file = path.join(dir, "index.sqlite");
  const index = new SqliteSnapshotIndex({ path: file });
  const second = new SqliteSnapshotIndex({ path: file });
  return {
    index,
    layers: index.layerIndex(),
    other: second.layerIndex(),
    cleanup: async () => {
      index.close();
      second.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

layerGarbageContract(
  "SqliteLayerIndex",
  async (clock) => {
    const dir = await tempDir();
    const index = new SqliteSnapshotIndex({ path: path.join(dir, "index.sqlite"), clock });
    const audit: AuditEvent[] = [];
    const keys = await KeyFileWrapper.open(path.join(dir, "keys.json"), { create: true, clock });
    return {
      deps: {
        index,
        layers: index.layerIndex(),
        keyRecords: index.keyRecords(),
        store: new FsBlobStore({ root: path.join(dir, "archives"), clock }),
        keys,
        audit: { record: async (event) => void audit.push(event) },
        clock,
      },
      audit,
      cleanup: async () => {
        index.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  () => new ManualClock(),
);
