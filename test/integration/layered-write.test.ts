// The layered write path's edges: the setting reaches a backup (snapshots.layers: true makes a
// layered snapshot, checked per layer after it), the first layered snapshot after chains stores
// every object (chains hold none in layers), and a T-snap refused for a moved generation plans,
// fetches and commits once more, under a new id, and that snapshot restores exactly.
import { beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../functions/app.js";
import { backupAll } from "../../functions/core/backup.js";
import { ConflictError } from "../../functions/core/errors.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import type { LayerIndex } from "../../functions/core/ports.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { objectsOf, refsOf } from "../helpers/git-repos.js";
import { actor, layeredWorld, REPO } from "../helpers/layered-world.js";

const world = layeredWorld({ name: "layered-write", config: "snapshots:\n  layers: true\n" });
const { clock } = world;

beforeAll(() => world.open());

describe("the layered write path", () => {
  it("a chain first, then the setting: the first layered snapshot holds every object", async () => {
    const chain = await snapshotRepo(world.app, REPO, { url: world.source }, { actor });
    expect(chain.snapshot.kind).toBe("full");
    await world.push("main", "x.txt", "after the chain\n");
    clock.advance(3_600_000);
    const [result] = await backupAll(world.app, backupPolicy(world.app.settings, "inline"), { actor });
    expect(result?.error).toBeUndefined();
    const snapshot = result!.snapshot!.snapshot;
    expect(snapshot.kind).toBe("layered");
    expect(snapshot.layers).toHaveLength(1);
    // Verified after the backup, per layer (the policy says deep).
    expect(result!.verify?.verification).toMatchObject({ verdict: "ok", level: "layer" });
    const layer = (await world.app.layers!.getLayer(REPO, snapshot.layers![0]!))!;
    expect([...(await readLayerOids(world.app, layer))].join("\n")).toBe(await objectsOf(world.source));
  });

  it("a T-snap that meets a moved generation is planned, fetched and committed once more", async () => {
    await world.push("main", "y.txt", "raced\n");
    clock.advance(3_600_000);
    const inner = world.app.layers!;
    let refused = 0;
    // A faulty wrapper: the first T-snap is refused as if a prune had moved the generation.
    const racing: LayerIndex = Object.assign(Object.create(inner) as LayerIndex, {
      commitLayered: (...args: Parameters<LayerIndex["commitLayered"]>) => {
        if (refused++ === 0) return Promise.reject(new ConflictError("generation moved (test)"));
        return inner.commitLayered(...args);
      },
    });
    const outcome = await snapshotRepo(
      { ...world.app, layers: racing },
      REPO,
      { url: world.source },
      { actor, layers: true },
    );
    expect(refused).toBe(2);
    expect(outcome.snapshot.kind).toBe("layered");
    const kept = await world.app.index.list(REPO);
    expect(kept.filter((s) => s.kind === "layered")).toHaveLength(2);
    const path = await world.restore(outcome.snapshot.id);
    expect(await refsOf(path)).toBe(await refsOf(world.source));
    expect(await objectsOf(path)).toBe(await objectsOf(world.source));
  });

  it("a second refusal is reported, and nothing is committed", async () => {
    await world.push("main", "z.txt", "refused twice\n");
    clock.advance(3_600_000);
    const racing: LayerIndex = Object.assign(Object.create(world.app.layers!) as LayerIndex, {
      commitLayered: () => Promise.reject(new ConflictError("generation moved (test)")),
    });
    const before = (await world.app.index.list(REPO)).length;
    await expect(
      snapshotRepo({ ...world.app, layers: racing }, REPO, { url: world.source }, { actor, layers: true }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await world.app.index.list(REPO)).toHaveLength(before);
  });
});
