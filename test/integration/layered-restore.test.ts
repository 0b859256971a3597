// Restoring a layered snapshot over many layers (core/layers/read-pack.ts): the layers' packs go
// joined into one `git index-pack`, which proves the links when no two layers hold an object, and
// the result equals the source at that snapshot. Layers that hold an object twice (a file's old
// content brought back) still restore, with the links walked instead. A damaged, missing or
// incomplete layer is refused, naming what is wrong, and nothing is left at the target.
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError } from "../../functions/core/errors.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import { layersOfSnapshot, unpackLayered } from "../../functions/core/layers/read.js";
import { indexLayers, overlap } from "../../functions/core/layers/read-pack.js";
import { layeredWorld, type Taken } from "../helpers/layered-world.js";

const world = layeredWorld({ name: "layered-restore" });
const taken: Taken[] = [];
let overlapping: Taken;

const restoreTo = (t: Taken, name: string) => world.restore(t.snapshot.id, name);
const expectSource = (path: string, t: Taken) => world.expectAsTaken(path, t.snapshot.id, { fsck: true });
/** Restoring `t` to `name` is refused with `error`, and nothing is left at the target. */
async function expectRefused(t: Taken, name: string, error: RegExp): Promise<void> {
  await expect(restoreTo(t, name)).rejects.toThrow(error);
  await expect(stat(join(world.scratch, name))).rejects.toThrow(/ENOENT/);
}

beforeAll(async () => {
  await world.open();
  await world.push("main", "noise.b64", randomBytes(64 * 1024).toString("base64"));
  taken.push(await world.snap());
  // Nine pushes, each a new layer: new files, a change, a new branch.
  for (let i = 1; i <= 9; i++) {
    await world.push(i % 3 === 0 ? `topic-${i}` : "main", `f${i}.txt`, `push ${i}\n`.repeat(i * 50));
    taken.push(await world.snap());
  }
  // A file's first content comes back after a snapshot that saw only the second: the fetch sends
  // its blob again (no kept tip's tree holds it), so two layers hold it.
  await world.push("main", "again.txt", "first content\n");
  await world.push("main", "again.txt", "second content\n");
  taken.push(await world.snap());
  await world.push("main", "again.txt", "first content\n");
  overlapping = await world.snap();
}, 300_000);

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
    const disjoint = await layersOfSnapshot(world.app, taken.at(-1)!.snapshot);
    const twice = await layersOfSnapshot(world.app, overlapping.snapshot);
    expect(overlap(await Promise.all(disjoint.map((l) => readLayerOids(world.app, l))))).toBe(false);
    expect(overlap(await Promise.all(twice.map((l) => readLayerOids(world.app, l))))).toBe(true);
    for (const [layers, linked] of [
      [disjoint, true],
      [twice, false],
    ] as const) {
      const dir = join(world.scratch, `index-${linked}.git`);
      await initBare(dir);
      expect((await indexLayers(world.app, layers, dir)).linked).toBe(linked);
    }
  });

  it("layers that hold an object twice restore equal to the source", async () => {
    await expectSource(await restoreTo(overlapping, "overlapping.git"), overlapping);
  });

  it("an object none of its layers holds is refused, naming the layers", async () => {
    // The newest snapshot with only its own layer: its objects name objects of older layers.
    const newest = taken.at(-1)!.snapshot;
    const alone = { ...newest, layers: [newest.layers![0]!] };
    const dir = join(world.scratch, "alone.git");
    const refused = unpackLayered(world.app, alone, dir);
    await expect(refused).rejects.toThrow(ArchiveCorruptError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `object [0-9a-f]{40} is named by an object of the snapshot's layers and is in none of them \\(${newest.layers![0]}\\)`,
      ),
    );
  });

  it("a damaged middle layer is refused, naming it, and nothing is left at the target", async () => {
    const t = taken.at(-1)!;
    const middle = (await layersOfSnapshot(world.app, t.snapshot))[5]!;
    await world.withFlippedByte(
      middle.objectKey,
      (length) => length >> 1,
      () => expectRefused(t, "damaged.git", new RegExp(`layer ${middle.id}`)),
    );
  });

  it("a missing layer archive is refused, naming it", async () => {
    const t = taken.at(-1)!;
    const oldest = (await layersOfSnapshot(world.app, t.snapshot)).at(-1)!;
    const file = world.archiveFile(oldest.objectKey);
    const original = await readFile(file);
    await rm(file);
    try {
      await expectRefused(t, "missing.git", new RegExp(oldest.id));
    } finally {
      await writeFile(file, original);
    }
  });
});
