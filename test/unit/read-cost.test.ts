// The retrieval side of the cost report: verifications, drills and restores read the newest
// snapshot's chain, priced by the class each archive is in; the reads counted from the schedule and
// the audit trail.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { costCommand } from "../../functions/cli/commands/cost.js";
import type { Context } from "../../functions/cli/context.js";
import { runDaysIn30Days, runsIn30Days } from "../../functions/config/cron-runs.js";
import { DEFAULT_PRICING } from "../../functions/config/pricing.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import { GIB } from "../../functions/core/cost.js";
import type { Snapshot } from "../../functions/core/model.js";
import { planPrune } from "../../functions/core/prune-plan.js";
import { repoPrefix } from "../../functions/core/object-keys.js";
import {
  monthlyReadCost,
  readsInTrail,
  scheduledDrills,
  type ReadCost,
  verificationsAhead,
  type RepoReads,
} from "../../functions/core/read-cost.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { chooseStorageClass, settledKeepUntil } from "../../functions/core/storage-tiers.js";
import { snapshot } from "../contract/snapshot-index.js";
import { manualClock, workspace } from "../helpers/local-app.js";

const reads = { verifications: 60, drills: 4, restores: 1 };

describe("monthlyReadCost", () => {
  it("prices every read of the chain by the class each archive is read from", () => {
    const repo: RepoReads = {
      chain: [
        { bytes: GIB, storageClass: "STANDARD" },
        { bytes: 10 * GIB, storageClass: "ARCHIVE" },
      ],
      deepVerify: true,
      reads,
    };
    const cost = monthlyReadCost([repo], DEFAULT_PRICING);
    // 65 reads of 10 GiB from ARCHIVE at 0.05 a GiB; STANDARD reads are free.
    expect(cost.costByKind).toEqual({ verifications: 30, drills: 2, restores: 0.5 });
    expect(cost.monthlyCost).toBe(32.5);
    expect(cost.bytesByClass).toEqual({ STANDARD: 65 * GIB, ARCHIVE: 650 * GIB });
    // A quick verification reads the newest archive alone.
    const quick = monthlyReadCost([{ ...repo, deepVerify: false }], DEFAULT_PRICING);
    expect(quick.costByKind).toEqual({ verifications: 0, drills: 2, restores: 0.5 });
    expect(quick.reads).toEqual(reads);
  });

  it("a fresh repository's chain costs nothing to read now that its tiers know about reads", () => {
    const full = snapshot({ id: "20260110T000000000Z-full", takenAt: "2026-01-10T00:00:00.000Z" });
    const inc = snapshot({
      id: "20260110T120000000Z-inc",
      takenAt: "2026-01-10T12:00:00.000Z",
      kind: "incremental",
      parentId: full.id,
    });
    const chain: Snapshot[] = [inc, full];
    const now = new Date("2026-01-10T13:00:00.000Z");
    const objects = chain.map((s) => ({
      key: s.objectKey,
      size: GIB,
      createdAt: s.takenAt,
      storageClass: "STANDARD",
      metadata: {},
    }));
    const plan = planPrune({
      repo: "acme/widget",
      snapshots: chain,
      objects,
      policy: DEFAULT_RETENTION_POLICY,
      now,
      orphanGraceMs: 86_400_000,
    });
    const after = monthlyReadCost(
      [
        {
          chain: plan.keep.map((k) => ({ bytes: GIB, storageClass: k.storageClass })),
          deepVerify: true,
          reads,
        },
      ],
      DEFAULT_PRICING,
    );
    expect(after.monthlyCost).toBe(0);
    // Tiers blind to reads sent the full snapshot under today's incremental to ARCHIVE (the oldest
    // yearly once the next snapshot lands): every verification and restore paid its retrieval.
    const settled = settledKeepUntil(chain, DEFAULT_RETENTION_POLICY, now);
    const blind = chain.map((s) =>
      chooseStorageClass({
        current: "STANDARD",
        createdAt: s.takenAt,
        settledUntil: settled.get(s.id) ?? null,
        now,
      }),
    );
    expect(blind.map((c) => c.storageClass)).toEqual(["STANDARD", "ARCHIVE"]);
    const before = monthlyReadCost(
      [{ chain: blind.map((c) => ({ bytes: GIB, storageClass: c.storageClass })), deepVerify: true, reads }],
      DEFAULT_PRICING,
    );
    expect(before.monthlyCost).toBe(3.25); // 65 reads x 1 GiB x 0.05
  });
});

describe("reads counted from the trail and the schedule", () => {
  const entry = (at: string, action: string, repo = "acme/a", actor = "cli:me"): AuditEntry => ({
    at,
    action,
    repo,
    actor,
    outcome: "success",
    seq: 0,
    prev: "",
    hash: "",
  });

  it("counts drills and asked-for restores since the date; a drill's own restore once", () => {
    const counts = readsInTrail(
      [
        entry("2025-12-01T00:00:00.000Z", "drill.passed"), // before the month
        entry("2026-01-02T00:00:00.000Z", "restore.completed", "acme/a", "drill:abc"),
        entry("2026-01-02T00:00:01.000Z", "drill.passed"),
        entry("2026-01-03T00:00:00.000Z", "drill.failed"),
        entry("2026-01-04T00:00:00.000Z", "restore.completed"),
        entry("2026-01-04T00:00:00.000Z", "restore.completed", "acme/b"),
        entry("2026-01-05T00:00:00.000Z", "snapshot.created"),
      ],
      "2025-12-15T00:00:00.000Z",
    );
    expect(Object.fromEntries(counts)).toEqual({
      "acme/a": { drills: 2, restores: 1 },
      "acme/b": { drills: 0, restores: 1 },
    });
  });

  it.each([
    ["0 5 * * *", 30],
    ["*/15 * * * *", 30 * 96],
    ["30 6 * * *", 30],
    ["0 2 * * 0", 4], // Sundays from Thursday 2026-01-01: 4, 11, 18, 25
    ["0 0 1,15 * *", 2],
    ["0 0 1 * 0", 5], // both day fields set: the 1st or a Sunday
    ["0 9-17/4 * * 1-5", 3 * 22],
    ["0 0 * * MON", undefined],
    ["61 * * * *", undefined],
  ])("%s fires %s times in the 30 days from 2026-01-01", (cron, runs) => {
    expect(runsIn30Days(cron, new Date("2026-01-01T00:00:00.000Z"))).toBe(runs);
  });
});

describe("drills the schedule plans", () => {
  const MIB = 1024 * 1024;

  it("reads the largest repository on every run, the others on their share of the sample", () => {
    const repos = [
      { repo: "acme/a", bytes: MIB },
      { repo: "acme/big", bytes: 2 * MIB },
      { repo: "acme/c", bytes: MIB },
    ];
    const drills = scheduledDrills(repos, 30, 2);
    expect(Object.fromEntries(drills)).toEqual({ "acme/a": 15, "acme/big": 30, "acme/c": 15 });
    expect(Object.fromEntries(scheduledDrills(repos, 30, 5))).toEqual({
      "acme/a": 30,
      "acme/big": 30,
      "acme/c": 30,
    });
    expect(Object.fromEntries(scheduledDrills([{ repo: "acme/a", bytes: 1 }], 4, 3))).toEqual({
      "acme/a": 4,
    });
    expect(scheduledDrills([], 30, 3).size).toBe(0);
  });

  it("the cost report's retrieval line equals the hand-computed figure", async () => {
    // Three repositories, one archive each (acme/big 2 MiB, the others 1 MiB); a drill of 2 a day
    // (schedule.yaml's restoreDrill, 30 runs from 1 January), the daily verifySweep (30 runs), no
    // verify-after-backup, no restores. Reading LOCAL is priced at 1024 USD/GiB (1 USD/MiB) here so
    // that the figure is whole: verifications 30 x (1 + 2 + 1) = 120, drills 30 x 2 + 2 x 15 x 1 = 90.
    const ws = await workspace({}, "verify:\n  afterBackup: false\ndrill:\n  sample: 2\n");
    const pricing = (await readFile(new URL("../../config/pricing.yaml", import.meta.url), "utf8")).replace(
      /retrieval:([\s\S]*?)LOCAL: 0/,
      "retrieval:$1LOCAL: 1024",
    );
    await writeFile(join(ws.dir, "config", "pricing.yaml"), pricing);
    const app = await ws.open(manualClock("2026-01-01T12:00:00.000Z"));
    try {
      for (const [repo, size] of [
        ["acme/a", MIB],
        ["acme/big", 2 * MIB],
        ["acme/c", MIB],
      ] as const) {
        const id = `20260101T000000000Z-${repo.slice(5)}`;
        const objectKey = `${repoPrefix(repo)}${id}.ibk`;
        await app.store.put(objectKey, Readable.from([Buffer.alloc(size)]));
        await app.index.commit(snapshot({ id, repo, takenAt: "2026-01-01T00:00:00.000Z", objectKey, size }));
      }
      const printed: string[] = [];
      const ctx = {
        app,
        options: { json: true, repo: [] },
        print: (text: string) => printed.push(text),
      } as unknown as Context; // costCommand reads only these
      expect(await costCommand(ctx)).toBe(0);
      const { reads } = JSON.parse(printed.join("\n")) as { reads: ReadCost };
      expect(reads.reads).toEqual({ verifications: 90, drills: 60, restores: 0 });
      expect(reads.costByKind).toEqual({ verifications: 120, drills: 90, restores: 0 });
      expect(reads.monthlyCost).toBe(210);
    } finally {
      await app.close();
      await ws.cleanup();
    }
  });
});

describe("a layered repository's verifications", () => {
  // acme/widget's lineage hashes to Monday (deep-schedule.ts); from Thursday 2026-01-01 the daily
  // sweep runs 30 times, on 4 Mondays (5, 12, 19, 26 January): 4 full restores, 26 per layer.
  const sweepDays = runDaysIn30Days("0 4 * * *", new Date("2026-01-01T00:00:00.000Z"))!;
  const layered = { kind: "layered" as const, repo: "acme/widget", lineage: "acme/widget" };
  const fresh = Array.from({ length: 5 }, () => ({ kind: "layered" as const }));

  it("counts the sweep's weekly full restore as deep and the other sweeps and after-backups per layer", () => {
    expect(sweepDays).toHaveLength(30);
    expect(
      verificationsAhead({ newest: layered, fresh, afterBackup: true, level: "deep", sweepDays }),
    ).toEqual({
      verifications: 35,
      perLayer: 31,
    });
    // Quick after backup stays quick; the sweep's levels do not follow the configured one.
    expect(
      verificationsAhead({ newest: layered, fresh, afterBackup: true, level: "quick", sweepDays }),
    ).toEqual({
      verifications: 35,
      perLayer: 26,
    });
    expect(
      verificationsAhead({ newest: layered, fresh, afterBackup: false, level: "deep", sweepDays }),
    ).toEqual({
      verifications: 30,
      perLayer: 26,
    });
    // A chain's verifications are all full restores; a repository with no snapshot is not swept.
    const chain = { kind: "full" as const, repo: "acme/widget" };
    expect(
      verificationsAhead({
        newest: chain,
        fresh: [{ kind: "full" }],
        afterBackup: true,
        level: "deep",
        sweepDays,
      }),
    ).toEqual({ verifications: 31, perLayer: 0 });
    expect(
      verificationsAhead({ newest: undefined, fresh: [], afterBackup: true, level: "deep", sweepDays }),
    ).toEqual({ verifications: 0, perLayer: 0 });
  });

  it("prices a per-layer verification as its own archive and the layers' oids, not a restore", () => {
    // Own archive 1 GiB in STANDARD; one layer of 10 GiB with 1 GiB of oids, both in COLDLINE (0.02 a GiB).
    const own = { bytes: GIB, storageClass: "STANDARD" };
    const oids = { bytes: GIB, storageClass: "COLDLINE" };
    const repo: RepoReads = {
      chain: [own, { bytes: 10 * GIB, storageClass: "COLDLINE" }, oids],
      deepVerify: true,
      reads: { verifications: 30, drills: 0, restores: 0 },
      layerVerify: { times: 26, reads: [own, oids] },
    };
    const cost = monthlyReadCost([repo], DEFAULT_PRICING);
    // 26 x 1 GiB of oids + 4 x 11 GiB of layer, at 0.02: 0.52 + 0.88.
    expect(cost.costByKind.verifications).toBe(1.4);
    expect(cost.bytesByClass).toEqual({ STANDARD: 30 * GIB, COLDLINE: 70 * GIB });
    expect(cost.reads.verifications).toBe(30);
    // Priced as if every sweep restored the snapshot, as the report did: 30 x 11 GiB.
    const { layerVerify: _, ...allDeep } = repo;
    expect(monthlyReadCost([allDeep], DEFAULT_PRICING).costByKind.verifications).toBe(6.6);
  });
});
