// Layered snapshots (snapshots.layers): after several pushes (new commits, a force push, a deleted
// branch, a new annotated tag) every layered snapshot restores exactly its refs and objects, to a
// folder and as a bundle, and passes `git fsck --full`; each push stores about its new objects
// (a layer of them), not another copy of the repository; a pack with nothing new makes no layer.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import type { Layer } from "../../functions/core/model.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { checkLayered } from "../../functions/core/layers/verify.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import { objectsOf, refsOf } from "../helpers/git-repos.js";
import { actor, layeredWorld, REPO, type Taken } from "../helpers/layered-world.js";

const world = layeredWorld({ name: "layered" });
const taken: Taken[] = [];
async function snap(): Promise<void> {
  taken.push(await world.snap());
}

const src = (...args: string[]) => git(args, { env: { GIT_DIR: world.source } });
const layerOf = async (id: string): Promise<Layer> => (await world.app.layers!.getLayer(REPO, id))!;

beforeAll(async () => {
  await world.open();
  // Incompressible content, so a copy of the repository would show in the stored bytes.
  await world.push("main", "noise.b64", randomBytes(256 * 1024).toString("base64"));
  await snap(); // the first: one full layer
  await world.push("main", "a.txt", "one push\n");
  await snap();
  // A force push: main back one commit, then a different commit on top.
  await src("update-ref", "refs/heads/main", "refs/heads/main~1");
  await world.push("main", "b.txt", "after the force push\n");
  await snap();
  // A deleted branch: nothing new to fetch.
  const branch = (await src("for-each-ref", "--format=%(refname)", "refs/heads/"))
    .split("\n")
    .find((r) => r && r !== "refs/heads/main");
  expect(branch).toBeDefined();
  await src("update-ref", "-d", branch!);
  await snap();
  // A new annotated tag.
  await git(["tag", "-a", "-m", "release", "v9.9"], {
    env: {
      GIT_DIR: world.source,
      GIT_COMMITTER_NAME: "T",
      GIT_COMMITTER_EMAIL: "t@example.invalid",
    },
  });
  await snap();
}, 180_000);

describe("layered snapshots", () => {
  it("each snapshot names its new layer first and the layers of those before it", async () => {
    const [first, push, force, deleted, tag] = taken.map((t) => t.snapshot);
    expect(first!.layers).toHaveLength(1);
    expect(push!.layers).toEqual([expect.any(String), ...first!.layers!]);
    expect(force!.layers).toHaveLength(3);
    // Deleting a branch brings no object: no new layer, the same layers as before.
    expect(new Set(deleted!.layers)).toEqual(new Set(force!.layers));
    expect(tag!.layers).toHaveLength(4);
    const layers = await world.app.layers!.layers(REPO);
    expect(layers.map((l) => l.state)).toEqual(["live", "live", "live", "live"]);
  });

  it("a push stores about its new objects, not another copy", async () => {
    const [first, push, force, , tag] = taken.map((t) => t.snapshot);
    const full = await layerOf(first!.layers![0]!);
    for (const s of [push!, force!, tag!]) {
      const layer = await layerOf(s.layers![0]!);
      expect(layer.objects).toBeLessThanOrEqual(4); // a commit, a tree, a blob (or the tag)
      expect(layer.packBytes).toBeLessThan(full.packBytes / 20);
    }
    const layers = await world.app.layers!.layers(REPO);
    const stored =
      layers.reduce((sum, l) => sum + l.size + l.oidsSize, 0) +
      taken.reduce((sum, t) => sum + t.snapshot.size, 0);
    // Five snapshots together: about one copy (the first layer), far under two.
    expect(stored).toBeLessThan(full.size * 1.5);
  });

  it("every layered snapshot restores exactly its refs and objects and passes git fsck", async () => {
    for (const t of taken) {
      const path = await world.restore(t.snapshot.id);
      await world.expectAsTaken(path, t.snapshot.id, { fsck: true });
    }
  });

  it("a layered snapshot restores as a plain bundle too", async () => {
    const t = taken[2]!;
    const path = join(world.scratch, `b-${t.snapshot.id}.bundle`);
    await restoreRepo(
      world.app,
      { repo: REPO, snapshotId: t.snapshot.id, target: { kind: "bundle-file", path } },
      { actor },
    );
    const cloned = join(world.scratch, `b-${t.snapshot.id}.git`);
    await git(["clone", "--quiet", "--mirror", path, cloned]);
    expect(await refsOf(cloned)).toBe(t.refs);
    expect(await objectsOf(cloned)).toBe(t.objects);
  });
});

describe("per-layer verification", () => {
  it("checks only the new layer of a push, and records the verdict on the layer", async () => {
    const [first, push] = taken.map((t) => t.snapshot);
    const base = await verifySnapshot(world.app, REPO, first!.id, { level: "layer", actor });
    expect(base.verification).toMatchObject({ verdict: "ok", level: "layer" });
    expect((await layerOf(first!.layers![0]!)).verification).toMatchObject({ verdict: "ok", level: "layer" });
    const full = await layerOf(first!.layers![0]!);
    const outcome = await verifySnapshot(world.app, REPO, push!.id, { level: "layer", actor });
    expect(outcome.verification).toMatchObject({ verdict: "ok", level: "layer" });
    // Its own small archive, its new layer and the oids of the first: not the first layer's pack.
    expect(outcome.bytes).toBeLessThan(full.size / 5);
    expect((await layerOf(push!.layers![0]!)).verification?.verdict).toBe("ok");
  });

  it("a layer whose objects link to one none of the snapshot's layers holds fails, naming it", async () => {
    const force = taken[2]!.snapshot;
    const parent = (
      await git(["rev-parse", `${force.refs["refs/heads/main"]}^`], { env: { GIT_DIR: world.source } })
    ).trim();
    // The force push's layer alone: its commit's parent is only in the first layer.
    const alone = { ...force, layers: [force.layers![0]!] };
    await expect(checkLayered(world.app, alone, "layer")).rejects.toThrow(
      new RegExp(
        `needs object ${parent} \\(named by commit ${force.refs["refs/heads/main"]} in layer ${force.layers![0]}\\)`,
      ),
    );
  });

  it("a deep verification of a layered snapshot restores it whole and runs fsck", async () => {
    const outcome = await verifySnapshot(world.app, REPO, taken[4]!.snapshot.id, { level: "deep", actor });
    expect(outcome.verification).toMatchObject({ verdict: "ok", level: "deep" });
  });
});

describe("quick verification of a layered snapshot", () => {
  it("reads every layer it resolves to: a flipped byte in its oldest layer fails it, naming the layer", async () => {
    const newest = taken[4]!.snapshot;
    expect(
      (await verifySnapshot(world.app, REPO, newest.id, { level: "quick", actor })).verification,
    ).toMatchObject({
      verdict: "ok",
      level: "quick",
    });
    const oldest = await layerOf(taken[0]!.snapshot.layers![0]!);
    await world.withFlippedByte(
      oldest.objectKey,
      (length) => length - 100,
      async () => {
        const outcome = await verifySnapshot(world.app, REPO, newest.id, { level: "quick", actor });
        expect(outcome.verification.verdict).toBe("failed");
        expect(outcome.verification.detail).toMatch(new RegExp(`layer ${oldest.id}`));
      },
    );
  });
});
