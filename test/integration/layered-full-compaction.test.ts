// Full compaction (`prune --compact --full`, issue 13's "no stored object is one no kept snapshot
// needs after a full compaction"): a branch force-pushed away and a tag deleted leave objects in
// layers that only expired snapshots reached, each under half of its layer, so the ordinary
// live-share rewrite leaves them. A full compaction rewrites every live layer into one holding
// exactly the objects the kept snapshots reach; after layer garbage the store holds that layer and
// the kept snapshots' own archives, and every kept snapshot restores exactly as it was taken.
import { rm } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import type { Snapshot } from "../../functions/core/model.js";
import { runCli } from "../helpers/cli-run.js";
import { objectsOf } from "../helpers/git-repos.js";
import { layeredWorld, REPO } from "../helpers/layered-world.js";

const DAY = 86_400_000;
const world = layeredWorld({ name: "full-compaction", config: "snapshots:\n  layers: true\n" });
const snapshots: Snapshot[] = [];
const take = async () => snapshots.push((await world.snap()).snapshot);
const liveLayers = async () =>
  (await world.app.layers!.layers(REPO)).filter((layer) => layer.state === "live");
const gitIn = (args: string[]) =>
  git(args, {
    env: { GIT_DIR: world.source, GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.invalid" },
  });

beforeAll(async () => {
  await world.open();
  await take();
  // A topic branch and a tag, each among objects that stay reached, in a layer over half live.
  await world.push("topic", "topic.txt", "a branch force-pushed away later\n");
  for (const name of ["one", "uno", "eins"]) await world.push("main", `${name}.txt`, `${name}\n`);
  await gitIn(["tag", "-a", "-m", "a release withdrawn later", "v-withdrawn", "refs/heads/topic"]);
  await take();
  // The branch is force-pushed to an unrelated commit and the tag deleted.
  await gitIn(["update-ref", "refs/heads/topic", "refs/heads/main"]);
  await gitIn(["update-ref", "-d", "refs/tags/v-withdrawn"]);
  await world.push("main", "two.txt", "two\n");
  await take();
  await world.push("main", "three.txt", "three\n");
  await take();
}, 180_000);

describe("full compaction", () => {
  it("rewrites every live layer into one holding exactly what the kept snapshots reach; every kept snapshot restores as taken", async () => {
    world.clock.advance(3 * DAY); // past the store's retention of new archives
    // The ordinary compaction leaves layers at half live or more as they are.
    const ordinary = await world.prune({ last: 2 }, { compact: true });
    expect(ordinary.remove.map((r) => r.snapshot.id).sort()).toEqual(
      [snapshots[0]!.id, snapshots[1]!.id].sort(),
    );
    expect(ordinary.compaction?.rewrite).toEqual({ reason: "every live layer is at least half live" });
    expect((await liveLayers()).length).toBeGreaterThan(1);

    const full = await world.prune({ last: 2 }, { compact: true, fullCompaction: true });
    expect(full.compaction?.rewrite?.merged).toBeDefined();
    const live = await liveLayers();
    expect(live.map((layer) => layer.id)).toEqual([full.compaction!.rewrite!.merged]);

    // What the kept snapshots reach, from their restores, equals the one layer's objects.
    const reached = new Set<string>();
    for (const snapshot of await world.app.index.list(REPO)) {
      const path = await world.restore(snapshot.id);
      await world.expectAsTaken(path, snapshot.id);
      for (const oid of (await objectsOf(path)).split("\n")) if (oid) reached.add(oid);
      await rm(path, { recursive: true, force: true });
    }
    const held = await readLayerOids(world.app, live[0]!);
    expect(held.size).toBe(reached.size);
    for (const oid of reached) expect(held.has(oid), oid).toBe(true);
    expect(full.compaction!.rewrite!.dropped).toBeGreaterThan(0);

    // Again: nothing left to do.
    const again = await world.prune({ last: 2 }, { compact: true, fullCompaction: true });
    expect(again.compaction?.rewrite).toEqual({
      reason: "one live layer already, holding only objects kept snapshots reach",
    });
  }, 240_000);

  it("after the grace period the store holds the one layer and the kept snapshots' own archives, nothing else", async () => {
    world.clock.advance(3 * DAY);
    await world.prune({ last: 2 });
    const [layer] = await liveLayers();
    const kept = await world.app.index.list(REPO);
    const expected = new Set([layer!.objectKey, layer!.oidsKey, ...kept.map((s) => s.objectKey)]);
    const stored = new Set((await world.stored()).keys());
    expect([...stored].sort()).toEqual([...expected].sort());
  }, 240_000);
});

describe("prune --compact --full on the command line", () => {
  it("refuses --full without --compact, naming both", async () => {
    const result = await runCli(["prune", "--full", "--config", world.ws.configFile]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--full goes with --compact/);
  });

  it("rewrites the layers into one and says so", async () => {
    await world.push("main", "four.txt", "four\n");
    const backup = await runCli(["backup", "--repo", REPO, "--config", world.ws.configFile]);
    expect(backup.code, backup.stderr).toBe(0);
    expect((await liveLayers()).length).toBe(2);
    const result = await runCli([
      "prune",
      "--compact",
      "--full",
      "--repo",
      REPO,
      "--config",
      world.ws.configFile,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/rewritten into \S+ \(\d+ objects kept/);
    expect((await liveLayers()).length).toBe(1);
  }, 240_000);
});
