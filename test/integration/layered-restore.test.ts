// Restoring a layered snapshot over many layers (core/layers/read-pack.ts): the layers' packs go
// joined into one `git index-pack`, which proves the links when no two layers hold an object, and
// the result equals the source at that snapshot. Layers that hold an object twice (a file's old
// content brought back) still restore, with the links walked instead. A damaged, missing or
// incomplete layer is refused, naming what is wrong, and nothing is left at the target.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError } from "../../functions/core/errors.js";
import { fsck, initBare } from "../../functions/core/git/local-repo.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import { layersOfSnapshot, unpackLayered } from "../../functions/core/layers/read.js";
import { indexLayers, overlap } from "../../functions/core/layers/read-pack.js";
import type { Snapshot } from "../../functions/core/model.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { headOf, objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;

interface Taken {
  snapshot: Snapshot;
  refs: string;
  objects: string;
  head: string;
}
const taken: Taken[] = [];
let overlapping: Taken;

async function snap(): Promise<Taken> {
  clock.advance(60 * 60_000);
  const outcome = await snapshotRepo(app, "acme/app", { url: source }, { actor, layers: true });
  expect(outcome.snapshot.kind).toBe("layered");
  return {
    snapshot: outcome.snapshot,
    refs: await refsOf(source),
    objects: await objectsOf(source),
    head: await headOf(source),
  };
}

async function restoreTo(t: Taken, name: string): Promise<string> {
  const path = join(scratch, name);
  await restoreRepo(
    app,
    { repo: "acme/app", snapshotId: t.snapshot.id, target: { kind: "path", path } },
    { actor },
  );
  return path;
}

async function expectSource(path: string, t: Taken): Promise<void> {
  expect(await refsOf(path)).toBe(t.refs);
  expect(await objectsOf(path)).toBe(t.objects);
  expect(await headOf(path)).toBe(t.head);
  await fsck(path, "full");
}

const archiveFile = (key: string) => join(ws.dir, "data", "archives", key);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layered-restore-"));
  source = await richRepo(scratch);
  await pushCommit(source, "main", "noise.b64", randomBytes(64 * 1024).toString("base64"));
  ws = await workspace({ "acme/app": source });
  app = await ws.open(clock);
  taken.push(await snap());
  // Nine pushes, each a new layer: new files, a change, a new branch.
  for (let i = 1; i <= 9; i++) {
    await pushCommit(source, i % 3 === 0 ? `topic-${i}` : "main", `f${i}.txt`, `push ${i}\n`.repeat(i * 50));
    taken.push(await snap());
  }
  // A file's first content comes back after a snapshot that saw only the second: the fetch sends
  // its blob again (no kept tip's tree holds it), so two layers hold it.
  await pushCommit(source, "main", "again.txt", "first content\n");
  await pushCommit(source, "main", "again.txt", "second content\n");
  taken.push(await snap());
  await pushCommit(source, "main", "again.txt", "first content\n");
  overlapping = await snap();
}, 300_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("restore over many layers", () => {
  it("the oldest, a middle and the newest disjoint snapshot equal the source then, from one pack", async () => {
    const newest = taken.at(-1)!;
    expect(newest.snapshot.layers).toHaveLength(11);
    for (const t of [taken[0]!, taken[5]!, newest]) {
      const path = await restoreTo(t, `r-${t.snapshot.id}.git`);
      await expectSource(path, t);
      const packs = (await readdir(join(path, "objects", "pack"))).filter((f) => f.endsWith(".pack"));
      expect(packs).toHaveLength(1);
    }
  });

  it("disjoint layers are indexed with their links proven; overlapping ones without, and are walked", async () => {
    const disjoint = await layersOfSnapshot(app, taken.at(-1)!.snapshot);
    const twice = await layersOfSnapshot(app, overlapping.snapshot);
    expect(overlap(await Promise.all(disjoint.map((l) => readLayerOids(app, l))))).toBe(false);
    expect(overlap(await Promise.all(twice.map((l) => readLayerOids(app, l))))).toBe(true);
    for (const [layers, linked] of [
      [disjoint, true],
      [twice, false],
    ] as const) {
      const dir = join(scratch, `index-${linked}.git`);
      await initBare(dir);
      expect((await indexLayers(app, layers, dir)).linked).toBe(linked);
    }
  });

  it("layers that hold an object twice restore equal to the source", async () => {
    await expectSource(await restoreTo(overlapping, "overlapping.git"), overlapping);
  });

  it("an object none of its layers holds is refused, naming the layers", async () => {
    // The newest snapshot with only its own layer: its objects name objects of older layers.
    const newest = taken.at(-1)!.snapshot;
    const alone = { ...newest, layers: [newest.layers![0]!] };
    const dir = join(scratch, "alone.git");
    const refused = unpackLayered(app, alone, dir);
    await expect(refused).rejects.toThrow(ArchiveCorruptError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `object [0-9a-f]{40} is named by an object of the snapshot's layers and is in none of them \\(${newest.layers![0]}\\)`,
      ),
    );
  });

  it("a damaged middle layer is refused, naming it, and nothing is left at the target", async () => {
    const t = taken.at(-1)!;
    const middle = (await layersOfSnapshot(app, t.snapshot))[5]!;
    const file = archiveFile(middle.objectKey);
    const original = await readFile(file);
    const damaged = Buffer.from(original);
    damaged.writeUInt8(damaged.readUInt8(damaged.length >> 1) ^ 0x01, damaged.length >> 1);
    await writeFile(file, damaged);
    try {
      const path = join(scratch, "damaged.git");
      await expect(
        restoreRepo(
          app,
          { repo: "acme/app", snapshotId: t.snapshot.id, target: { kind: "path", path } },
          { actor },
        ),
      ).rejects.toThrow(new RegExp(`layer ${middle.id}`));
      await expect(stat(path)).rejects.toThrow(/ENOENT/);
    } finally {
      await writeFile(file, original);
    }
  });

  it("a missing layer archive is refused, naming it", async () => {
    const t = taken.at(-1)!;
    const oldest = (await layersOfSnapshot(app, t.snapshot)).at(-1)!;
    const file = archiveFile(oldest.objectKey);
    const original = await readFile(file);
    await rm(file);
    try {
      const path = join(scratch, "missing.git");
      await expect(
        restoreRepo(
          app,
          { repo: "acme/app", snapshotId: t.snapshot.id, target: { kind: "path", path } },
          { actor },
        ),
      ).rejects.toThrow(new RegExp(oldest.id));
      await expect(stat(path)).rejects.toThrow(/ENOENT/);
    } finally {
      await writeFile(file, original);
    }
  });
});
