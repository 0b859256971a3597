// The index side with the layered write path end to end: ten layered backups of a repository
// pushed to between them, prune --compact merging their layers, then a prune by count and the
// layer garbage after the grace period; every kept snapshot still restores exactly as it was taken,
// and the store holds only layers a kept snapshot resolves to.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const actor = "test";
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
/** Each snapshot id with the source's refs and objects when it was taken. */
const taken = new Map<string, { refs: string; objects: string }>();

async function expectRestoresAsTaken(id: string): Promise<void> {
  const path = join(scratch, `restore-${id}.git`);
  await restoreRepo(app, { repo: REPO, snapshotId: id, target: { kind: "path", path } }, { actor });
  expect(await refsOf(path), id).toBe(taken.get(id)!.refs);
  expect(await objectsOf(path), id).toBe(taken.get(id)!.objects);
  await rm(path, { recursive: true, force: true });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layered-prune-"));
  source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source }, "snapshots:\n  layers: true\n");
  app = await ws.open(clock);
  for (let n = 0; n < 10; n++) {
    if (n > 0) await pushCommit(source, "main", `push-${n}.txt`, `push ${n}\n`);
    const outcome = await snapshotRepo(app, REPO, { url: source }, { actor, layers: true });
    expect(outcome.snapshot.kind).toBe("layered");
    taken.set(outcome.snapshot.id, { refs: await refsOf(source), objects: await objectsOf(source) });
    clock.advance(3_600_000);
  }
}, 180_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("layered snapshots through prune --compact and layer garbage", () => {
  it("compaction merges the ten level-0 layers; every snapshot restores as taken", async () => {
    const before = (await app.layers!.layers(REPO)).filter((l) => l.state === "live");
    expect(before).toHaveLength(10);
    const report = await pruneRepo(app, REPO, parseRetentionPolicy({ last: 100 }), {
      dryRun: false,
      actor,
      compact: true,
    });
    expect(report.remove).toEqual([]);
    expect(report.compaction?.merges).toHaveLength(1);
    expect(report.compaction!.merges[0]!.inputs).toHaveLength(10);
    const live = (await app.layers!.layers(REPO)).filter((l) => l.state === "live");
    expect(live.map((l) => l.id)).toEqual([report.compaction!.merges[0]!.merged]);
    for (const id of taken.keys()) await expectRestoresAsTaken(id);
  });

  it("a prune by count, past the grace period and the retention, leaves only what the kept snapshots read", async () => {
    clock.advance(2 * LAYER_GRACE_MS + 3_600_000);
    const report = await pruneRepo(app, REPO, parseRetentionPolicy({ last: 3 }), { dryRun: false, actor });
    expect(report.remove).toHaveLength(7);
    expect(report.layers?.deleted).toHaveLength(10);
    const kept = await app.index.list(REPO);
    expect(kept).toHaveLength(3);
    const layers = await app.layers!.layers(REPO);
    const needed = new Set(
      kept.flatMap((s) => resolveLayers(s, layers)).flatMap((l) => [l.objectKey, l.oidsKey]),
    );
    const stored: string[] = [];
    for await (const object of app.store.list(`layers/${REPO}/`)) stored.push(object.key);
    expect(stored.sort()).toEqual([...needed].sort());
    for (const snapshot of kept) await expectRestoresAsTaken(snapshot.id);
  });
});
