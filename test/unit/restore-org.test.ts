// restoreOrg's plan over a real (SQLite, in memory) index: for each repository the newest snapshot at
// or before T, its distance from T, the target name (org and/or prefix), repositories with nothing at
// or before T flagged, two repositories landing on one name refused; the executors' outcomes.
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { UserInputError } from "../../functions/core/errors.js";
import {
  planOrgRestore,
  restoreOrg,
  targetOf,
  type PlannedRestore,
} from "../../functions/core/restore-org.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";

const T = "2026-11-20T12:00:00.000Z";
const open: SqliteSnapshotIndex[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.close();
});

async function indexWith(records: [repo: string, takenAt: string][]): Promise<SqliteSnapshotIndex> {
  const index = new SqliteSnapshotIndex({ path: ":memory:", clock: new ManualClock(T) });
  open.push(index);
  for (const [repo, takenAt] of records) {
    const id = `${takenAt.replace(/[-:.]/g, "")}-0000abcd`;
    await index.commit(snapshot({ id, repo, takenAt, objectKey: `repos/${repo}/${id}.ibk` }));
  }
  return index;
}

const FIXTURE: [string, string][] = [
  ["acme/app", "2026-11-19T00:00:00.000Z"],
  ["acme/app", "2026-11-20T11:00:00.000Z"],
  ["acme/app", "2026-11-20T13:00:00.000Z"], // after T: never chosen
  ["acme/tools", "2026-11-01T00:00:00.000Z"],
  ["acme/late", "2026-11-21T00:00:00.000Z"], // nothing at or before T
  ["other/app", "2026-11-20T12:00:00.000Z"], // exactly at T
];

describe("planOrgRestore", () => {
  it("chooses the newest snapshot at or before T for each repository and says how far behind T it is", async () => {
    const index = await indexWith(FIXTURE);
    const items = await planOrgRestore({ index }, { at: T, prefix: "r-" });
    expect(items).toEqual([
      {
        state: "planned",
        repo: "acme/app",
        name: "acme/app",
        target: "acme/r-app",
        snapshotId: "20261120T110000000Z-0000abcd",
        takenAt: "2026-11-20T11:00:00.000Z",
        behindSeconds: 3600,
      },
      { state: "no-snapshot", repo: "acme/late", oldest: "2026-11-21T00:00:00.000Z" },
      expect.objectContaining({
        repo: "acme/tools",
        target: "acme/r-tools",
        behindSeconds: 19 * 86400 + 12 * 3600,
      }),
      expect.objectContaining({ repo: "other/app", target: "other/r-app", behindSeconds: 0 }),
    ]);
  });

  it("into one org: two repositories of one name collide, the second is refused", async () => {
    const index = await indexWith(FIXTURE);
    const items = await planOrgRestore({ index }, { at: T, toOrg: "restored" });
    expect(items.map((i) => [i.repo, i.state, "target" in i ? i.target : undefined])).toEqual([
      ["acme/app", "planned", "restored/app"],
      ["acme/late", "no-snapshot", undefined],
      ["acme/tools", "planned", "restored/tools"],
      ["other/app", "conflict", "restored/app"],
    ]);
    expect(items[3]).toMatchObject({ error: "restored/app is also the target of acme/app" });
    // A prefix keeps them apart only when it differs; one owner's repositories alone never collide.
    const acme = await planOrgRestore({ index }, { at: T, toOrg: "restored", from: "ACME" });
    expect(acme.map((i) => i.repo)).toEqual(["acme/app", "acme/late", "acme/tools"]);
  });

  it("refuses a request that would restore over the originals or names no time", async () => {
    const index = await indexWith(FIXTURE);
    for (const [request, message] of [
      [{ at: T }, /needs --to-org ORG or --prefix P/],
      [{ at: "yesterday", toOrg: "x" }, /needs --at TIME/],
      [{ at: T, toOrg: "bad/org" }, /--to-org must be an org or user login/],
      [{ at: T, prefix: "a b" }, /--prefix may hold/],
    ] as const) {
      const refused = planOrgRestore({ index }, request);
      await expect(refused).rejects.toThrow(UserInputError);
      await expect(refused).rejects.toThrow(message);
    }
    expect(targetOf("acme/app", { toOrg: "x", prefix: "p-" })).toBe("x/p-app");
  });
});

describe("restoreOrg", () => {
  it("a dry run restores nothing and reports the plan", async () => {
    const index = await indexWith(FIXTURE);
    const called: PlannedRestore[] = [];
    const report = await restoreOrg(
      { index },
      { at: T, prefix: "r-", dryRun: true },
      {
        kind: "inline",
        restore: async (item) => void called.push(item),
      },
    );
    expect(called).toEqual([]);
    expect(report).toMatchObject({ at: T, dryRun: true, counts: { planned: 3, "no-snapshot": 1 } });
  });

  it("inline: each repository restored in turn, a failure reported and the others go on", async () => {
    const index = await indexWith(FIXTURE);
    const called: string[] = [];
    const report = await restoreOrg(
      { index },
      { at: T, prefix: "r-" },
      {
        kind: "inline",
        restore: async (item) => {
          called.push(`${item.repo}@${item.snapshotId}->${item.target}`);
          if (item.repo === "acme/tools")
            throw new Error("GitHub said no (token ghs_abcdefghijklmnopqrstuvwxyz0123456789)");
          return "ok";
        },
      },
    );
    expect(called).toEqual([
      "acme/app@20261120T110000000Z-0000abcd->acme/r-app",
      "acme/tools@20261101T000000000Z-0000abcd->acme/r-tools",
      "other/app@20261120T120000000Z-0000abcd->other/r-app",
    ]);
    expect(report.counts).toEqual({ restored: 2, failed: 1, "no-snapshot": 1 });
    const failed = report.items.find((i) => i.state === "failed");
    expect(failed).toMatchObject({ repo: "acme/tools", error: expect.stringMatching(/^GitHub said no/) });
    expect(JSON.stringify(report)).not.toContain("ghs_abcdefghijklmnopqrstuvwxyz0123456789");
  });

  it("publish: one hand-over of every planned repository, each then queued", async () => {
    const index = await indexWith(FIXTURE);
    const published: PlannedRestore[][] = [];
    const report = await restoreOrg(
      { index },
      { at: T, toOrg: "restored", from: "acme" },
      {
        kind: "publish",
        publish: async (items) => void published.push([...items]),
      },
    );
    expect(published).toHaveLength(1);
    expect(published[0]!.map((p) => p.target)).toEqual(["restored/app", "restored/tools"]);
    expect(published[0]!.every((p) => !("state" in p))).toBe(true);
    expect(report.counts).toEqual({ queued: 2, "no-snapshot": 1 });
  });
});
