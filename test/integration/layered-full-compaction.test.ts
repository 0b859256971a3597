// Full compaction (`prune --compact --full`, issue 13's "no stored object is one no kept snapshot
// needs after a full compaction"): a branch force-pushed away and a tag deleted leave objects in
// layers that only expired snapshots reached, each under half of its layer, so the ordinary
// live-share rewrite leaves them. A full compaction rewrites every live layer into one holding
// exactly the objects the kept snapshots reach; after layer garbage the store holds that layer and
// the kept snapshots' own archives, and every kept snapshot restores exactly as it was taken.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import { layerPrefixes, repoPrefix } from "../../functions/core/object-keys.js";
import type { Snapshot } from "../../functions/core/model.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { runCli } from "../helpers/cli-run.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const actor = "test";
const DAY = 86_400_000;
const clock = manualClock("2026-11-20T09:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
const taken = new Map<string, { refs: string; objects: string }>();
const snapshots: Snapshot[] = [];

async function take(): Promise<Snapshot> {
  const outcome = await snapshotRepo(app, REPO, { url: source }, { actor, layers: true });
  expect(outcome.snapshot.kind).toBe("layered");
  snapshots.push(outcome.snapshot);
  taken.set(outcome.snapshot.id, { refs: await refsOf(source), objects: await objectsOf(source) });
  clock.advance(3_600_000);
  return outcome.snapshot;
}

const liveLayers = async () => (await app.layers!.layers(REPO)).filter((layer) => layer.state === "live");

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-full-compaction-"));
  source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source }, "snapshots:\n  layers: true\n");
  app = await ws.open(clock);
  await take();
  // A topic branch and a tag, each in a layer of its own among objects that stay reached.
  await pushCommit(source, "topic", "topic.txt", "a branch force-pushed away later\n");
  for (const name of ["one", "uno", "eins"]) await pushCommit(source, "main", `${name}.txt`, `${name}\n`);
  await git(["tag", "-a", "-m", "a release withdrawn later", "v-withdrawn", "refs/heads/topic"], {
    env: { GIT_DIR: source, GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.invalid" },
  });
  await take();
  // The branch is force-pushed to an unrelated commit and the tag deleted.
  await git(["update-ref", "refs/heads/topic", "refs/heads/main"], { env: { GIT_DIR: source } });
  await git(["update-ref", "-d", "refs/tags/v-withdrawn"], { env: { GIT_DIR: source } });
  await pushCommit(source, "main", "two.txt", "two\n");
  await take();
  await pushCommit(source, "main", "three.txt", "three\n");
  await take();
}, 180_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("full compaction", () => {
  it("rewrites every live layer into one holding exactly what the kept snapshots reach; every kept snapshot restores as taken", async () => {
    clock.advance(3 * DAY); // past the store's retention of new archives
    const policy = parseRetentionPolicy({ last: 2 });
    // The ordinary compaction leaves layers at half live or more as they are.
    const ordinary = await pruneRepo(app, REPO, policy, { dryRun: false, actor, compact: true });
    expect(ordinary.remove.map((r) => r.snapshot.id).sort()).toEqual(
      [snapshots[0]!.id, snapshots[1]!.id].sort(),
    );
    expect(ordinary.compaction?.rewrite).toEqual({ reason: "every live layer is at least half live" });
    expect((await liveLayers()).length).toBeGreaterThan(1);

    const full = await pruneRepo(app, REPO, policy, {
      dryRun: false,
      actor,
      compact: true,
      fullCompaction: true,
    });
    expect(full.compaction?.rewrite?.merged).toBeDefined();
    const live = await liveLayers();
    expect(live.map((layer) => layer.id)).toEqual([full.compaction!.rewrite!.merged]);

    // What the kept snapshots reach, from their restores, equals the one layer's objects.
    const reached = new Set<string>();
    for (const snapshot of await app.index.list(REPO)) {
      const path = join(scratch, `restore-${snapshot.id}.git`);
      await restoreRepo(
        app,
        { repo: REPO, snapshotId: snapshot.id, target: { kind: "path", path } },
        { actor },
      );
      expect(await refsOf(path), snapshot.id).toBe(taken.get(snapshot.id)!.refs);
      const objects = await objectsOf(path);
      expect(objects, snapshot.id).toBe(taken.get(snapshot.id)!.objects);
      for (const oid of objects.split("\n")) if (oid) reached.add(oid);
      await rm(path, { recursive: true, force: true });
    }
    const held = await readLayerOids(app, live[0]!);
    expect(held.size).toBe(reached.size);
    for (const oid of reached) expect(held.has(oid), oid).toBe(true);
    expect(full.compaction!.rewrite!.dropped).toBeGreaterThan(0);

    // Again: nothing left to do.
    const again = await pruneRepo(app, REPO, policy, {
      dryRun: false,
      actor,
      compact: true,
      fullCompaction: true,
    });
    expect(again.compaction?.rewrite).toEqual({
      reason: "one live layer already, holding only objects kept snapshots reach",
    });
  }, 240_000);

  it("after the grace period the store holds the one layer and the kept snapshots' own archives, nothing else", async () => {
    clock.advance(3 * DAY);
    await pruneRepo(app, REPO, parseRetentionPolicy({ last: 2 }), { dryRun: false, actor });
    const [layer] = await liveLayers();
    const kept = await app.index.list(REPO);
    const expected = new Set([layer!.objectKey, layer!.oidsKey, ...kept.map((s) => s.objectKey)]);
    const stored = new Set<string>();
    for (const prefix of [repoPrefix(REPO), ...layerPrefixes(REPO)])
      for await (const object of app.store.list(prefix)) stored.add(object.key);
    expect([...stored].sort()).toEqual([...expected].sort());
  }, 240_000);
});

describe("prune --compact --full on the command line", () => {
  it("refuses --full without --compact, naming both", async () => {
    const result = await runCli(["prune", "--full", "--config", ws.configFile]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--full goes with --compact/);
  });

  it("rewrites the layers into one and says so", async () => {
    await pushCommit(source, "main", "four.txt", "four\n");
    const backup = await runCli(["backup", "--repo", REPO, "--config", ws.configFile]);
    expect(backup.code, backup.stderr).toBe(0);
    expect((await liveLayers()).length).toBe(2);
    const result = await runCli(["prune", "--compact", "--full", "--repo", REPO, "--config", ws.configFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/rewritten into \S+ \(\d+ objects kept/);
    expect((await liveLayers()).length).toBe(1);
  }, 240_000);
});
