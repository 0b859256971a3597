// Compaction on real layers: nine pushes make nine level-0 layers, a full level merges into one
// layer holding exactly their union, and every snapshot still restores exactly (its refs, all its
// objects, git fsck clean) from the layers it resolves to, before and after layer garbage deletes
// the inputs. A merge whose T-merge is refused leaves an orphan that garbage collects, the
// snapshots untouched.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../../functions/core/errors.js";
import { startGit } from "../../../functions/core/git/exec.js";
import { fsck, indexPack, initBare, readRefs, setRefs } from "../../../functions/core/git/local-repo.js";
import { readLayerOids, readLayerPack } from "../../../functions/core/layers/archive-read.js";
import { writeLayer } from "../../../functions/core/layers/archive.js";
import { compactLineage, mergeLayers, unionOf } from "../../../functions/core/layers/compact.js";
import { collectLayerGarbage } from "../../../functions/core/layers/garbage.js";
import { LAYER_GRACE_MS } from "../../../functions/core/layers/garbage-plan.js";
import { resolveLayers } from "../../../functions/core/layers/resolve.js";
import type { Layer, RefMap, Snapshot } from "../../../functions/core/model.js";
import type { LayerIndex } from "../../../functions/core/ports.js";
import { pruneRepo } from "../../../functions/core/prune.js";
import { parseRetentionPolicy } from "../../../functions/core/retention-policy.js";
import type { LocalApp as App } from "../../../functions/wiring.js";
import { objectsOf, pushCommit, richRepo } from "../../helpers/git-repos.js";
import { layeredSnapshot } from "../../helpers/layer-records.js";
import { manualClock, workspace, type TestWorkspace } from "../../helpers/local-app.js";

const LINEAGE = "acme/app";
const actor = "test";
const clock = manualClock("2026-11-01T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let layers: LayerIndex;
let scratch: string;
let source: string;
/** Each snapshot with the sorted object ids its refs reach in the source when it was taken. */
const taken: Array<{ snapshot: Snapshot; objects: string }> = [];

/** The objects reachable from `refs` and not from `haves`, as one whole pack (what a fetch sends). */
function packOf(repo: string, refs: RefMap, haves: RefMap): Readable {
  const run = startGit(["pack-objects", "--stdout", "--revs", "--quiet"], {
    env: { GIT_DIR: repo },
    stdin: "pipe",
  });
  const lines = [...Object.values(refs), ...Object.values(haves).map((oid) => `^${oid}`)];
  run.child.stdin!.end(`${lines.join("\n")}\n`);
  run.done.catch(() => undefined);
  return run.child.stdout!;
}

/** One layered snapshot of the source as it is now, on top of the previous one. */
async function snapshotNow(n: number): Promise<void> {
  const refs = await readRefs(source);
  const previous = taken.at(-1)?.snapshot;
  const layer = await writeLayer(app, LINEAGE, packOf(source, refs, previous?.refs ?? {}), 0, { actor });
  const inherited = previous ? resolveLayers(previous, await layers.layers(LINEAGE)).map((l) => l.id) : [];
  const at = clock.now().toISOString();
  const snapshot = layeredSnapshot(
    `${at.replace(/[-:.]/g, "")}-p${n}`,
    [...(layer ? [layer.id] : []), ...inherited],
    {
      repo: LINEAGE,
      takenAt: at,
      confirmedAt: at,
      refs,
      head: "refs/heads/main",
    },
  );
  const { generation } = await layers.layerState(LINEAGE);
  await layers.commitLayered(snapshot, layer, previous ? [previous.id] : [], generation);
  taken.push({ snapshot, objects: await objectsOf(source) });
  clock.advance(3_600_000);
}

/** Restores `snapshot` with plain git from the layers it resolves to, and checks it is exact. */
async function expectRestores(snapshot: Snapshot, objects: string): Promise<Layer[]> {
  const resolved = resolveLayers(snapshot, await layers.layers(LINEAGE));
  const repo = join(scratch, `restore-${snapshot.id}-${Date.now()}.git`);
  await initBare(repo);
  try {
    for (const layer of resolved) await readLayerPack(app, layer, (pack) => indexPack(repo, pack));
    await setRefs(repo, snapshot.refs, snapshot.head);
    expect(await readRefs(repo)).toEqual(snapshot.refs);
    expect(await objectsOf(repo)).toBe(objects);
    await fsck(repo, "full");
    return resolved;
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-compact-"));
  source = await richRepo(scratch);
  ws = await workspace({});
  app = await ws.open(clock);
  layers = app.layers!;
  await snapshotNow(0);
  for (let n = 1; n <= 8; n++) {
    await pushCommit(source, "main", `file-${n}.txt`, `push ${n}\n`.repeat(n));
    await snapshotNow(n);
  }
}, 120_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("compaction", () => {
  it("nine pushes are nine level-0 layers, each snapshot restoring exactly", async () => {
    const all = await layers.layers(LINEAGE);
    expect(all).toHaveLength(9);
    expect(all.every((l) => l.state === "live" && l.level === 0)).toBe(true);
    expect(await expectRestores(taken[4]!.snapshot, taken[4]!.objects)).toHaveLength(5);
  });

  it("a refused T-merge leaves an orphan layer and the snapshots as they were; garbage collects it", async () => {
    const inputs = (await layers.layers(LINEAGE)).slice(0, 2);
    const stale = (await layers.layerState(LINEAGE)).generation - 1;
    const orphan = await mergeLayers(app, LINEAGE, inputs, { actor });
    await expect(
      layers.commitMerge(
        LINEAGE,
        orphan,
        inputs.map((l) => l.id),
        stale,
      ),
    ).rejects.toThrow(ConflictError);
    expect(await layers.getLayer(LINEAGE, orphan.id)).toBeUndefined();
    expect(await app.store.stat(orphan.objectKey)).toBeDefined();
    await expectRestores(taken[1]!.snapshot, taken[1]!.objects);
    // Within the grace period it stays; after it, the policy's retention (48 h) still holds it.
    clock.advance(LAYER_GRACE_MS + 1000);
    const early = await collectLayerGarbage(app, LINEAGE, LINEAGE, {
      now: clock.now(),
      dryRun: false,
      actor,
    });
    expect(early.orphans).toEqual([]);
    expect(early.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/is retained until/),
      expect.stringMatching(/is retained until/),
    ]);
    clock.advance(LAYER_GRACE_MS);
    const report = await collectLayerGarbage(app, LINEAGE, LINEAGE, {
      now: clock.now(),
      dryRun: false,
      actor,
    });
    expect(report.orphans.sort()).toEqual([orphan.objectKey, orphan.oidsKey].sort());
    expect(report.dead).toEqual([]);
    expect(await app.store.stat(orphan.objectKey)).toBeUndefined();
  });

  it("prune --compact merges the full level into one layer of exactly their union; every snapshot still restores exactly", async () => {
    const before = await layers.layers(LINEAGE);
    const union = unionOf(await Promise.all(before.map((layer) => readLayerOids(app, layer))));
    const pruned = await pruneRepo(app, LINEAGE, parseRetentionPolicy({ last: 100 }), {
      dryRun: false,
      actor,
      compact: true,
    });
    expect(pruned.remove).toEqual([]);
    const report = pruned.compaction!;
    expect(report.merges).toHaveLength(1);
    expect(await app.index.leases()).toEqual([]); // the lease it held is given back
    const [merge] = report.merges;
    expect(merge!.inputs).toEqual(before.map((l) => l.id));
    const merged = (await layers.getLayer(LINEAGE, merge!.merged))!;
    expect(merged).toMatchObject({ state: "live", objects: union.size, level: 0 });
    expect((await readLayerOids(app, merged)).bytes.equals(union.bytes)).toBe(true);
    // The source's whole history is exactly that union: no object lost, none held twice.
    expect(union.size).toBe(taken.at(-1)!.objects.split("\n").length);
    const after = await layers.layers(LINEAGE);
    expect(after.filter((l) => l.state === "retired").every((l) => l.replacedBy?.[0] === merged.id)).toBe(
      true,
    );
    for (const { snapshot, objects } of taken) {
      expect((await expectRestores(snapshot, objects)).map((l) => l.id)).toEqual([merged.id]);
    }
    expect(await compactLineage(app, LINEAGE, { actor })).toEqual({ merges: [] });
  });

  it("after the grace period garbage deletes the merged inputs, and every snapshot restores from the merge alone", async () => {
    clock.advance(LAYER_GRACE_MS + 1000);
    const report = await collectLayerGarbage(app, LINEAGE, LINEAGE, {
      now: clock.now(),
      dryRun: false,
      actor,
    });
    expect(report.deleted).toHaveLength(9);
    const left = await layers.layers(LINEAGE);
    expect(left.filter((l) => l.state === "live")).toHaveLength(1);
    const live = left.find((l) => l.state === "live")!;
    const stored: string[] = [];
    for await (const object of app.store.list(`layers/${LINEAGE}/`)) stored.push(object.key);
    expect(stored.sort()).toEqual([live.objectKey, live.oidsKey].sort());
    for (const { snapshot, objects } of taken) await expectRestores(snapshot, objects);
  });
});

describe("a merge of layers holding LFS objects", () => {
  it("carries every input's LFS objects into the merged layer, each once and byte for byte", async () => {
    const lineage = "acme/lfs";
    const blobs = [randomBytes(5000), randomBytes(7000)];
    const oidOf = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const refs = await readRefs(source);
    const heads = Object.entries(refs).filter(([name]) => name.startsWith("refs/heads/"));
    const [first, rest] = [Object.fromEntries(heads.slice(0, 1)), refs];
    const lfsFile = (b: Buffer) => ({ path: `lfs/objects/${oidOf(b)}`, open: () => Readable.from([b]) });
    async function* files(...bs: Buffer[]) {
      for (const b of bs) yield lfsFile(b);
    }
    // Two layers; the second holds both objects (a copy held twice must come out once).
    const a = await writeLayer(app, lineage, packOf(source, first, {}), 0, {
      actor,
      files: files(blobs[0]!),
    });
    const b = await writeLayer(app, lineage, packOf(source, rest, first), 0, {
      actor,
      files: files(blobs[0]!, blobs[1]!),
    });
    const merged = await mergeLayers(app, lineage, [a!, b!], { actor });
    const found = new Map<string, Buffer>();
    await readLayerPack(
      app,
      merged,
      (pack) => new Promise((resolve) => pack.resume().on("end", resolve)),
      undefined,
      async (path, body) => {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        expect(found.has(path)).toBe(false);
        found.set(path, Buffer.concat(chunks));
      },
    );
    expect([...found.keys()].sort()).toEqual(blobs.map((x) => `lfs/objects/${oidOf(x)}`).sort());
    for (const blob of blobs) expect(found.get(`lfs/objects/${oidOf(blob)}`)!.equals(blob)).toBe(true);
  });
});
