// The LayerIndex contract on the local SQLite index (sqlite-layers.ts), a fresh file per test; the
// race runs through a second connection to the same file, as a second process would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { layerIndexContract } from "./layer-index.js";

layerIndexContract("SqliteLayerIndex", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-layers-"));
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
