// Health of repositories the registry knows more about: a deleted one is not stale ("deleted on
// <date>, N snapshots kept"), a renamed one says what it was called, a removed one why it stopped.
import { describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import { describeLifecycle, healthJson, healthReport } from "../../functions/core/health.js";
import { applyInventoryEvent } from "../../functions/core/lineage/inventory.js";
import { LineageIndex } from "../../functions/core/lineage/lineage-index.js";
import type { Publisher } from "../../functions/core/ports.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";

const publisher: Publisher = { publish: async (_topic, messages) => messages.map((_, i) => String(i)) };
const options = {
  expected: [],
  policy: DEFAULT_RETENTION_POLICY,
  prices: DEFAULT_PRICING,
  pricingSource: "test",
  newObjectClass: "LOCAL",
};

describe("health with the repository registry", () => {
  it("a deleted repository is not stale: deleted on its date, its snapshots kept", async () => {
    const clock = new ManualClock("2026-11-03T12:00:00.000Z");
    const index = new LineageIndex(new SqliteSnapshotIndex({ path: ":memory:", clock }));
    for (const [repo, id, at] of [
      ["acme/gone", "20261101T000000000Z-00000001", "2026-11-01T00:00:00.000Z"],
      ["acme/gone", "20261102T000000000Z-00000002", "2026-11-02T00:00:00.000Z"],
      ["acme/live", "20261101T000000000Z-00000003", "2026-11-01T00:00:00.000Z"],
    ] as const)
      await index.commit(
        snapshot({ repo, id, takenAt: at, verification: { verdict: "ok", level: "deep", at } }),
      );
    await index.recordAttempt("acme/gone", {
      at: "2026-11-03T11:00:00.000Z",
      outcome: "failed",
      error: "404",
    });
    await applyInventoryEvent(
      { index, publisher, clock },
      { kind: "deleted", repo: { id: 1, name: "acme/gone" } },
    );

    clock.set("2026-11-20T00:00:00.000Z"); // weeks later: both latest snapshots are old
    const report = await healthReport({ index, clock }, options);
    const gone = report.repos.find((r) => r.repo === "acme/gone")!;
    const live = report.repos.find((r) => r.repo === "acme/live")!;
    expect(gone.problems).toEqual([]);
    expect(describeLifecycle(gone)).toBe("deleted on 2026-11-03, 2 snapshots kept");
    expect(live.problems.map((p) => p.kind)).toEqual(["stale"]);
    expect(live.lifecycle).toBeUndefined();
    const json = healthJson(report).repos.find((r) => r.repo === "acme/gone");
    expect(json).toMatchObject({ note: "deleted on 2026-11-03, 2 snapshots kept", problems: [] });
  });

  it("a renamed repository shows under its new name, formerly the old one; a removed one says why", async () => {
    const clock = new ManualClock("2026-11-03T12:00:00.000Z");
    const index = new LineageIndex(new SqliteSnapshotIndex({ path: ":memory:", clock }));
    const deps = { index, publisher, clock };
    await index.commit(snapshot({ repo: "acme/old", id: "20261103T000000000Z-00000001" }));
    await index.commit(snapshot({ repo: "acme/out", id: "20261103T000000000Z-00000002" }));
    await applyInventoryEvent(deps, {
      kind: "renamed",
      repo: { id: 1, name: "acme/new" },
      from: "acme/old",
      how: "renamed",
    });
    await applyInventoryEvent(deps, {
      kind: "detached",
      repos: [{ id: 2, name: "acme/out" }],
      why: "removed from the App's installation",
      installationId: 9,
    });
    const report = await healthReport({ index, clock }, options);
    expect(report.repos.map((r) => [r.repo, describeLifecycle(r)])).toEqual([
      ["acme/new", "formerly acme/old"],
      ["acme/out", "removed from the App's installation on 2026-11-03, 1 snapshot kept"],
    ]);
    expect(report.repos.map((r) => r.snapshots)).toEqual([1, 1]);
  });
});
