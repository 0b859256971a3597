// Found by the layers property test (test/property/layers-closure.test.ts, seed 20261604): the
// live-share rewrite kept only the objects kept snapshots reach, but a layer that stays (at least
// half live) may hold objects nobody reaches that name objects of the rewritten layer: here a
// force-pushed-away commit on a branch, whose parent and blob were pushed in an earlier layer. The
// rewrite dropped those, the staying layer's commit and tree then named objects no layer holds,
// and the kept snapshot's restore failed ("named by an object of the snapshot's layers and is in
// none of them"), as would its per-layer verification. Every layer must stay closed over the
// union (invariant 6): the rewrite keeps what the staying layers' objects name too, and drops
// the rest; when that leaves nothing to drop, it writes nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fsck } from "../../functions/core/git/local-repo.js";
import type { Snapshot } from "../../functions/core/model.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import { BareHistory } from "../helpers/git-history.js";
import { objectsOf, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const actor = "test";
const KEEP_NEWEST = parseRetentionPolicy({ last: 1 });
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * Five layered snapshots: the base; a branch "topic" (and, with `other`, a second branch) pushed,
 * a layer of their own, all garbage later; topic moving on (its new commit names the first as
 * parent, its tree the blob) in the same push as four new files on main, a layer mostly live
 * later that holds topic's garbage; a small push on main (the smallest healthy layer, which the
 * rewrite takes along); the branches deleted. Then, past the store's retention, prune --compact
 * keeping the newest only.
 */
async function scenario(other: boolean) {
  const clock = manualClock("2026-11-20T09:00:00.000Z");
  const scratch = await mkdtemp(join(tmpdir(), "infinity-rewrite-links-"));
  const source = await richRepo(scratch);
  const history = new BareHistory(source);
  const ws = await workspace({ [REPO]: source });
  const app = await ws.open(clock);
  cleanups.push(async () => {
    await app.close();
    await ws.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });
  const layerOf: Record<string, string> = {};
  let last!: { snapshot: Snapshot; refs: string; objects: string };
  const take = async (name: string) => {
    const outcome = await snapshotRepo(app, REPO, { url: source }, { actor, layers: true });
    expect(outcome.outcome).toBe("created");
    layerOf[name] = outcome.snapshot.layers![0]!;
    last = { snapshot: outcome.snapshot, refs: await refsOf(source), objects: await objectsOf(source) };
    clock.advance(3_600_000);
  };
  await take("base");
  history.commit("topic", { "b.txt": "on the branch only\n" });
  if (other) history.commit("other", { "d.txt": "on another branch only\n" });
  await take("topic");
  history.commit("topic", { "c.txt": "second on the branch\n" });
  history.commit("main", { "m1.txt": "1\n", "m2.txt": "2\n", "m3.txt": "3\n", "m4.txt": "4\n" });
  await take("mixed");
  history.commit("main", { "n.txt": "n\n" });
  await take("small");
  history.deleteRef("refs/heads/topic");
  if (other) history.deleteRef("refs/heads/other");
  await take("deleted");
  clock.advance(3 * 86_400_000); // past the store's retention of new archives (48 h)
  const report = await pruneRepo(app, REPO, KEEP_NEWEST, { dryRun: false, actor, compact: true });
  expect((await app.index.list(REPO)).map((s) => s.id)).toEqual([last.snapshot.id]);
  /** The kept snapshot restores exactly, passes fsck and verifies per layer. */
  const expectKeptWhole = async () => {
    const path = join(scratch, `restored-${Date.now()}.git`);
    await restoreRepo(
      app,
      { repo: REPO, snapshotId: last.snapshot.id, target: { kind: "path", path } },
      { actor },
    );
    expect(await refsOf(path)).toBe(last.refs);
    expect(await objectsOf(path)).toBe(last.objects);
    await fsck(path, "full");
    const verified = await verifySnapshot(app, REPO, last.snapshot.id, { level: "layer", actor });
    expect(verified.verification).toMatchObject({ verdict: "ok", level: "layer" });
  };
  return { app, report, layerOf, expectKeptWhole };
}

describe("a live-share rewrite next to a layer that stays", () => {
  it("drops only what no kept snapshot reaches and no staying layer names; the kept snapshot restores exactly, passes fsck and verifies per layer", async () => {
    const { app, report, layerOf, expectKeptWhole } = await scenario(true);
    // The branches' layer is all garbage and goes with the smallest healthy one; the mixed layer
    // stays and names topic's first commit, tree and blob: only the other branch's three go.
    const rewrite = report.compaction?.rewrite;
    expect(rewrite?.inputs?.sort()).toEqual([layerOf.topic!, layerOf.small!].sort());
    expect(rewrite?.dropped).toBe(3);
    await expectKeptWhole();
    // Half garbage, half live now: the next run leaves it.
    const again = await pruneRepo(app, REPO, KEEP_NEWEST, { dryRun: false, actor, compact: true });
    expect(again.compaction?.rewrite).toEqual({ reason: "every live layer is at least half live" });
  }, 180_000);

  it("writes nothing when all it could drop is named by the layer that stays; the kept snapshot restores exactly", async () => {
    const { report, expectKeptWhole } = await scenario(false);
    expect(report.compaction?.rewrite).toEqual({
      reason: "the layers under half live hold only objects that layers staying name",
    });
    await expectKeptWhole();
  }, 180_000);
});
