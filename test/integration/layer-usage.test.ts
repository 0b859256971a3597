// Shared pack layers in the numbers users see: over a small layered repository (three layered
// snapshots through the real write path), status's stored bytes, the storage report and the cost
// command count each layer archive once, and equal the snapshots' own archives plus the layers'
// recorded sizes, which equal what the folder store holds.
import { beforeAll, describe, expect, it } from "vitest";
import { healthOptions } from "../../functions/app.js";
import { monthlyCostOf, roundMoney } from "../../functions/core/cost.js";
import { healthReport } from "../../functions/core/health.js";
import type { Layer, Snapshot } from "../../functions/core/model.js";
import { cli } from "../helpers/cli-run.js";
import { layeredWorld, REPO } from "../helpers/layered-world.js";

const world = layeredWorld({ name: "layer-usage" });
let snapshots: Snapshot[];
let layers: Layer[];
let storeBytes: number;

beforeAll(async () => {
  await world.open();
  for (const file of ["", "a.txt", "b.txt"]) {
    if (file) await world.push("main", file, `${file}\n`);
    await world.snap();
  }
  snapshots = await world.app.index.list(REPO);
  layers = await world.app.layers!.layers(REPO);
  // Its archives, and its layers under their own prefix.
  storeBytes = [...(await world.stored()).values()].reduce((sum, size) => sum + size, 0);
}, 120_000);

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
      ...healthOptions(world.app.settings, [REPO], { projectedRepos: 0 }),
      newObjectClass: "STANDARD",
    };
    const report = await healthReport(world.app, options);
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
    const month = (bytes: number) => roundMoney(monthlyCostOf(bytes, "STANDARD", world.app.settings.pricing));
    expect(report.storage.monthlyCost).toBe(month(own() + layered()));
    expect(month(own() + layered())).toBeGreaterThan(month(own()));
    expect(report.storage.monthlyCost).toBeGreaterThan(0);
  });

  it("cost: the layer archives are counted, kept for their readers' tiers, not as orphans", async () => {
    const { code, stdout } = await cli("cost", "--config", world.ws.configFile, "--json");
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
