// Shared pack layers in the numbers users see: over a small layered repository (three layered
// snapshots through the real write path), status's stored bytes, the storage report and the cost
// command count each layer archive once, and equal the snapshots' own archives plus the layers'
// recorded sizes, which equal what the folder store holds.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthOptions } from "../../functions/app.js";
import { monthlyCostOf, roundMoney } from "../../functions/core/cost.js";
import { healthReport } from "../../functions/core/health.js";
import type { Layer, Snapshot } from "../../functions/core/model.js";
import { layerPrefixes, repoPrefix } from "../../functions/core/object-keys.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { cli } from "../helpers/cli-run.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let snapshots: Snapshot[];
let layers: Layer[];
let storeBytes: number;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layer-usage-"));
  const source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source });
  app = await ws.open(clock);
  for (const file of ["", "a.txt", "b.txt"]) {
    if (file) await pushCommit(source, "main", file, `${file}\n`);
    clock.advance(60 * 60_000);
    const outcome = await snapshotRepo(app, REPO, { url: source }, { actor: "test", layers: true });
    expect(outcome.outcome).toBe("created");
  }
  snapshots = await app.index.list(REPO);
  layers = await app.layers!.layers(REPO);
  storeBytes = 0;
  // Its archives, and its layers under their own prefix.
  for (const prefix of [repoPrefix(REPO), ...layerPrefixes(REPO)])
    for await (const object of app.store.list(prefix)) storeBytes += object.size;
}, 120_000);

afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("layers in stored bytes and cost", () => {
  it("the repository is layered: three snapshots share three layers", () => {
    expect(snapshots.map((s) => s.kind)).toEqual(["layered", "layered", "layered"]);
    expect(layers).toHaveLength(3);
    // The newest names all three: the bytes must count each once, not once per snapshot.
    expect(new Set(snapshots[0]!.layers)).toEqual(new Set(layers.map((l) => l.id)));
  });

  const own = () => snapshots.reduce((sum, s) => sum + s.size, 0);
  const layered = () => layers.reduce((sum, l) => sum + l.size + l.oidsSize, 0);

  it("status: stored bytes = own archives + each layer's recorded sizes once = what the store holds", async () => {
    // As in a bucket (new archives STANDARD), so the month has a price.
    const options = {
      ...healthOptions(app.settings, [REPO], { projectedRepos: 0 }),
      newObjectClass: "STANDARD",
    };
    const report = await healthReport(app, options);
    const repo = report.repos.find((r) => r.repo === REPO)!;
    expect(repo.storedBytes).toBe(own() + layered());
    expect(repo.storedBytes).toBe(storeBytes);
    if ("error" in report.storage) throw new Error(report.storage.error);
    expect(report.storage.bytes).toBe(own() + layered());
    // Three own archives and two archives per layer, all warm: the newest snapshot reads them.
    expect(report.storage.archives).toBe(3 + 2 * layers.length);
    expect(report.storage.byExpectedClass).toEqual([
      expect.objectContaining({ expectedClass: "STANDARD", objects: 9, bytes: own() + layered() }),
    ]);
    expect(report.storage.byTier.find((t) => t.tier === "expired")).toBeUndefined();
    const month = (bytes: number) => roundMoney(monthlyCostOf(bytes, "STANDARD", app.settings.pricing));
    expect(report.storage.monthlyCost).toBe(month(own() + layered()));
    expect(month(own() + layered())).toBeGreaterThan(month(own()));
    expect(report.storage.monthlyCost).toBeGreaterThan(0);
  });

  it("cost: the layer archives are counted, kept for their readers' tiers, not as orphans", async () => {
    const { code, stdout } = await cli("cost", "--config", ws.configFile, "--json");
    expect(code).toBe(0);
    const { summary } = JSON.parse(stdout) as {
      summary: { objects: number; bytes: number; byTier: { tier: string; objects: number; bytes: number }[] };
    };
    expect(summary.bytes).toBe(own() + layered());
    expect(summary.objects).toBe(3 + 2 * layers.length);
    expect(summary.byTier.map((t) => t.tier)).not.toContain("orphan");
    expect(summary.byTier.reduce((sum, t) => sum + t.bytes, 0)).toBe(own() + layered());
  });
});
