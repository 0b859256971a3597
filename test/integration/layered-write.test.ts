// The layered write path's edges: the setting reaches a backup (snapshots.layers: true makes a
// layered snapshot, checked per layer after it), the first layered snapshot after chains stores
// every object (chains hold none in layers), and a T-snap refused for a moved generation plans,
// fetches and commits once more, under a new id, and that snapshot restores exactly.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../functions/app.js";
import { backupAll } from "../../functions/core/backup.js";
import { ConflictError } from "../../functions/core/errors.js";
import { readLayerOids } from "../../functions/core/layers/archive-read.js";
import type { LayerIndex } from "../../functions/core/ports.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layered-write-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source }, "snapshots:\n  layers: true\n");
  app = await ws.open(clock);
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("the layered write path", () => {
  it("a chain first, then the setting: the first layered snapshot holds every object", async () => {
    const chain = await snapshotRepo(app, "acme/app", { url: source }, { actor });
    expect(chain.snapshot.kind).toBe("full");
    await pushCommit(source, "main", "x.txt", "after the chain\n");
    clock.advance(3_600_000);
    const [result] = await backupAll(app, backupPolicy(app.settings, "inline"), { actor });
    expect(result?.error).toBeUndefined();
    const snapshot = result!.snapshot!.snapshot;
    expect(snapshot.kind).toBe("layered");
    expect(snapshot.layers).toHaveLength(1);
    // Verified after the backup, per layer (the policy says deep).
    expect(result!.verify?.verification).toMatchObject({ verdict: "ok", level: "layer" });
    const layer = (await app.layers!.getLayer("acme/app", snapshot.layers![0]!))!;
    expect([...(await readLayerOids(app, layer))].join("\n")).toBe(await objectsOf(source));
  });

  it("a T-snap that meets a moved generation is planned, fetched and committed once more", async () => {
    await pushCommit(source, "main", "y.txt", "raced\n");
    clock.advance(3_600_000);
    const inner = app.layers!;
    let refused = 0;
    // A faulty wrapper: the first T-snap is refused as if a prune had moved the generation.
    const racing: LayerIndex = Object.assign(Object.create(inner) as LayerIndex, {
      commitLayered: (...args: Parameters<LayerIndex["commitLayered"]>) => {
        if (refused++ === 0) return Promise.reject(new ConflictError("generation moved (test)"));
        return inner.commitLayered(...args);
      },
    });
    const outcome = await snapshotRepo(
      { ...app, layers: racing },
      "acme/app",
      { url: source },
      { actor, layers: true },
    );
    expect(refused).toBe(2);
    expect(outcome.snapshot.kind).toBe("layered");
    const kept = await app.index.list("acme/app");
    expect(kept.filter((s) => s.kind === "layered")).toHaveLength(2);
    const path = join(scratch, "raced.git");
    await restoreRepo(
      app,
      { repo: "acme/app", snapshotId: outcome.snapshot.id, target: { kind: "path", path } },
      { actor },
    );
    expect(await refsOf(path)).toBe(await refsOf(source));
    expect(await objectsOf(path)).toBe(await objectsOf(source));
  });

  it("a second refusal is reported, and nothing is committed", async () => {
    await pushCommit(source, "main", "z.txt", "refused twice\n");
    clock.advance(3_600_000);
    const racing: LayerIndex = Object.assign(Object.create(app.layers!) as LayerIndex, {
      commitLayered: () => Promise.reject(new ConflictError("generation moved (test)")),
    });
    const before = (await app.index.list("acme/app")).length;
    await expect(
      snapshotRepo({ ...app, layers: racing }, "acme/app", { url: source }, { actor, layers: true }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await app.index.list("acme/app")).toHaveLength(before);
  });
});
