// Prune's storage classes for shared pack layers (core/layers/classes.ts) through the whole prune, on
// the local index and folder store: a layer the newest or a recent snapshot needs stays STANDARD, one
// only the year-old yearly needs goes to ARCHIVE (both its archives) and nothing else is set on it;
// a dry run counts the moves and changes nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { Deps } from "../../functions/core/deps.js";
import type { Layer } from "../../functions/core/model.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { ManualClock } from "../contract/snapshot-index.js";
import { layeredSnapshot, layerRecord } from "../helpers/layer-records.js";

const REPO = "acme/widget";
const NOW = "2026-01-10T01:00:00.000Z";

let dir: string;
let clock: ManualClock;
let index: SqliteSnapshotIndex;
let deps: Deps;
let generation = 0;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "infinity-layer-classes-"));
  clock = new ManualClock();
  index = new SqliteSnapshotIndex({ path: path.join(dir, "index.sqlite"), clock });
  const audit: AuditEvent[] = [];
  deps = {
    index,
    layers: index.layerIndex(),
    keyRecords: index.keyRecords(),
    store: new FsBlobStore({ root: path.join(dir, "archives"), clock }),
    keys: await KeyFileWrapper.open(path.join(dir, "keys.json"), { create: true, clock }),
    audit: { record: async (event) => void audit.push(event) },
    clock,
  } as Deps;
  generation = 0;
});

afterEach(async () => {
  index.close();
  await rm(dir, { recursive: true, force: true });
});

/** A stored layer written at `at` in STANDARD (as a bucket writes it). */
async function layer(id: string, at: string): Promise<Layer> {
  clock.set(at);
  const record = layerRecord({ id, createdAt: at, stateAt: at });
  for (const [key, size] of [
    [record.objectKey, record.size],
    [record.oidsKey, record.oidsSize],
  ] as const) {
    await deps.store.put(key, Readable.from([Buffer.alloc(size, 7)]));
    await deps.store.setLifecycle(key, { storageClass: "STANDARD" });
  }
  return record;
}

/** A layered snapshot taken at `at`, committed (T-snap) with its new layer, if any. */
async function snap(at: string, layers: string[], fresh: Layer | undefined) {
  clock.set(at);
  const id = `${at.replace(/[-:.]/g, "")}-layered`;
  const s = layeredSnapshot(id, layers, {
    takenAt: at,
    confirmedAt: at,
    objectKey: `repos/${REPO}/${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${id}.ibk`,
  });
  await deps.store.put(s.objectKey, Readable.from([Buffer.from("own archive")]));
  await deps.store.setLifecycle(s.objectKey, { storageClass: "STANDARD" });
  await deps.layers!.commitLayered(s, fresh, [], generation++);
  return s;
}

/**
 * June 2024's first snapshot wrote L1, the history every snapshot shares. L0 holds a branch
 * force-pushed away in 2025: only the 2024 yearly needs it. L2 came with 5 January; L3 is today's.
 */
async function history() {
  await snap("2024-06-01T00:00:00.000Z", ["L1"], await layer("L1", "2024-06-01T00:00:00.000Z"));
  const l0 = await layer("L0", "2024-12-31T00:00:00.000Z");
  const yearly = await snap("2024-12-31T00:00:00.000Z", ["L0", "L1"], l0);
  const jan05 = await snap(
    "2026-01-05T00:00:00.000Z",
    ["L2", "L1"],
    await layer("L2", "2026-01-05T00:00:00.000Z"),
  );
  const newest = await snap("2026-01-10T00:00:00.000Z", ["L3", "L2", "L1"], await layer("L3", NOW));
  clock.set(NOW);
  return { yearly, jan05, newest };
}

const classOf = async (key: string) => (await deps.store.stat(key))?.storageClass;

describe("prune sets shared layers' storage classes by who reads them", () => {
  it("a layer the newest snapshot needs stays STANDARD; one only a year-old yearly needs goes to ARCHIVE", async () => {
    await history();
    const report = await pruneRepo(deps, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    for (const id of ["L1", "L2", "L3"]) {
      const l = layerRecord({ id });
      expect(await classOf(l.objectKey)).toBe("STANDARD");
      expect(await classOf(l.oidsKey)).toBe("STANDARD");
    }
    const l0 = layerRecord({ id: "L0" });
    expect(await classOf(l0.objectKey)).toBe("ARCHIVE");
    expect(await classOf(l0.oidsKey)).toBe("ARCHIVE");
    // The own archives (refs, metadata) of the 2024 yearly and of June 2024 (kept as "oldest
    // yearly"); L0's two archives; L1 stays, as the newest snapshot needs it.
    expect(report.moves).toEqual({ "STANDARD -> ARCHIVE": 2 });
    expect(report.layers?.moves).toEqual({ "STANDARD -> ARCHIVE": 2 });
    // Only the class: no expiry, no retention (layer garbage alone deletes a layer).
    const stat = await deps.store.stat(l0.objectKey);
    expect(stat?.expiresAt).toBeUndefined();
    expect(stat?.retainUntil).toBeUndefined();
    // The next prune has nothing more to move.
    const again = await pruneRepo(deps, REPO, DEFAULT_RETENTION_POLICY, { dryRun: false, actor: "test" });
    expect(again.moves).toEqual({});
    expect(again.layers?.moves ?? {}).toEqual({});
  });

  it("a dry run lists the layer moves and changes nothing", async () => {
    await history();
    const report = await pruneRepo(deps, REPO, DEFAULT_RETENTION_POLICY, { dryRun: true, actor: "test" });
    expect(report.moves).toEqual({ "STANDARD -> ARCHIVE": 2 });
    expect(report.layers?.moves).toEqual({ "STANDARD -> ARCHIVE": 2 });
    for (const id of ["L0", "L1"]) {
      const stat = await deps.store.stat(layerRecord({ id }).objectKey);
      expect(stat?.storageClass).toBe("STANDARD");
      expect(stat?.retainUntil).toBeUndefined();
    }
  });
});
