// Count rules (keepDaily: N and kin, restic's --keep-daily): what they keep beside the windows, why
// prune removes what they let go, how long they are sure to keep an archive (for its storage class),
// and where `infinity-backup config` says the value came from.
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configCommand } from "../../functions/cli/commands/config.js";
import type { Context } from "../../functions/cli/context.js";
import { loadSettings } from "../../functions/config/settings.js";
import type { Snapshot } from "../../functions/core/model.js";
import { describeRemoval, planPrune } from "../../functions/core/prune-plan.js";
import { planRetention } from "../../functions/core/retention.js";
import { periodStart } from "../../functions/core/retention-periods.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { chooseStorageClass, settledKeepUntil } from "../../functions/core/storage-tiers.js";
import { snapshot } from "../contract/snapshot-index.js";

const DAY = 86_400_000;

function record(takenAt: string, tag = "s"): Snapshot {
  const id = `${takenAt.replace(/[-:.]/g, "")}-${tag}`;
  return snapshot({ id, takenAt, objectKey: `repos/acme/widget/${id}.ibk` });
}

describe("count rules", () => {
  it("keep the newest of each of the N newest days with a snapshot, and name the rule when removing", () => {
    const history = [
      record("2026-01-05T10:00:00.000Z"),
      record("2026-01-07T09:00:00.000Z", "a"),
      record("2026-01-07T18:00:00.000Z", "b"),
      record("2026-01-09T10:00:00.000Z"),
    ];
    const policy = parseRetentionPolicy({ keepDaily: 2 });
    const plan = planPrune({
      repo: "acme/widget",
      snapshots: history,
      objects: [],
      policy,
      now: new Date("2026-01-09T11:00:00.000Z"),
      orphanGraceMs: DAY,
    });
    expect(plan.keep.map((k) => [k.snapshot.id, k.reasons])).toEqual([
      [history[3]!.id, ["newest", "keepDaily 2026-01-09 (1 of 2)"]],
      [history[2]!.id, ["keepDaily 2026-01-07 (2 of 2)"]],
    ]);
    expect(
      plan.remove.map((r) => [r.snapshot.id, r.reasons.map((reason) => describeRemoval(reason))]),
    ).toEqual([
      [history[1]!.id, [`keepDaily 2026-01-07 kept by newer ${history[2]!.id}`]],
      [history[0]!.id, ["beyond keepDaily 2"]],
    ]);
    expect(describeRemoval({ kind: "beyond-count", rule: "keepWeekly", count: 4 }, true)).toBe(
      "beyond keepWeekly 4",
    );
  });

  it("are open-ended for the lifecycle, but sure until enough newer periods can have passed", () => {
    const policy = parseRetentionPolicy({ keepDaily: 3 });
    const history = ["2026-01-07", "2026-01-08", "2026-01-09"].map((day) => record(`${day}T00:00:00.000Z`));
    const now = new Date("2026-01-09T12:00:00.000Z");
    const plan = planRetention(history, policy, now);
    expect(plan.keep.map((k) => k.keepUntil)).toEqual([null, null, null]);
    // The next snapshot (today) holds day 1 of 3: 8 January goes once 10 and 11 January have one.
    const settled = settledKeepUntil(history, policy, now);
    expect(settled.get(history[1]!.id)).toBe("2026-01-11T00:00:00.000Z");
    expect(settled.get(history[0]!.id)).toBe("2026-01-10T00:00:00.000Z");
    expect(settled.has(history[2]!.id)).toBe(false); // the next snapshot takes its day
  });

  it("a yearly kept by count goes to ARCHIVE: six more years must pass before it can go", () => {
    const policy = parseRetentionPolicy({ keepYearly: 7, keepDaily: 7 });
    const history = [record("2025-12-31T00:00:00.000Z"), record("2026-01-09T00:00:00.000Z")];
    const now = new Date("2026-01-20T00:00:00.000Z");
    const settled = settledKeepUntil(history, policy, now);
    expect(settled.get(history[0]!.id)).toBe("2032-01-01T00:00:00.000Z");
    const choice = chooseStorageClass({
      current: "STANDARD",
      createdAt: history[0]!.takenAt,
      settledUntil: settled.get(history[0]!.id)!,
      now,
    });
    expect(choice).toMatchObject({ storageClass: "ARCHIVE", move: true });
  });

  it("keepHourly and keepLast name themselves when prune lets a snapshot go", () => {
    const history = [
      record("2026-01-09T08:10:00.000Z"),
      record("2026-01-09T09:05:00.000Z", "a"),
      record("2026-01-09T09:50:00.000Z", "b"),
      record("2026-01-09T11:00:00.000Z"),
    ];
    const plan = planPrune({
      repo: "acme/widget",
      snapshots: history,
      objects: [],
      policy: parseRetentionPolicy({ keepHourly: 2, keepLast: 1 }),
      now: new Date("2026-01-09T12:00:00.000Z"),
      orphanGraceMs: DAY,
    });
    expect(plan.keep.map((k) => [k.snapshot.id, k.reasons])).toEqual([
      [history[3]!.id, ["newest", "keepLast 1", "keepHourly 2026-01-09T11 (1 of 2)"]],
      [history[2]!.id, ["keepHourly 2026-01-09T09 (2 of 2)"]],
    ]);
    expect(
      plan.remove.map((r) => [r.snapshot.id, r.reasons.map((reason) => describeRemoval(reason))]),
    ).toEqual([
      [history[1]!.id, ["not among the last 1", `keepHourly 2026-01-09T09 kept by newer ${history[2]!.id}`]],
      [history[0]!.id, ["not among the last 1", "beyond keepHourly 2"]],
    ]);
  });

  it("periodStart steps whole hours, days, ISO weeks (from Monday), months and years", () => {
    const at = Date.parse("2026-01-07T15:00:00.000Z"); // a Wednesday
    const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
    expect(new Date(periodStart("hourly", at + 59 * 60_000, 2)).toISOString()).toBe(
      "2026-01-07T17:00:00.000Z",
    );
    expect(iso(periodStart("daily", at, 1))).toBe("2026-01-08");
    expect(iso(periodStart("weekly", at, 0))).toBe("2026-01-05");
    expect(iso(periodStart("weekly", at, 2))).toBe("2026-01-19");
    expect(iso(periodStart("monthly", at, 13))).toBe("2027-02-01");
    expect(iso(periodStart("yearly", at, 6))).toBe("2032-01-01");
    expect(iso(periodStart("weekly", Date.parse("2026-01-11T23:00:00.000Z"), 1))).toBe("2026-01-12");
  });
});

describe("count rules in the settings", () => {
  it("`infinity-backup config` shows each count and the file it came from", async () => {
    const dir = await mkdtemp(join(tmpdir(), "infinity-counts-"));
    try {
      await mkdir(join(dir, "config"));
      const configFile = join(dir, "config", "backup-config.yaml");
      const retentionFile = join(dir, "config", "retention-policy.yaml");
      await writeFile(configFile, "version: 1\n");
      await writeFile(retentionFile, "within: 48h\nkeepDaily: 7\nkeepMonthly: 12\n");
      const settings = await loadSettings(configFile, {});
      expect(settings.retention).toMatchObject({ keepDaily: 7, keepMonthly: 12 });
      expect(settings.origins.get("retention.keepDaily")).toEqual({ from: "file", file: retentionFile });
      const printed: string[] = [];
      const ctx = {
        app: { settings },
        options: { json: true },
        print: (text: string) => printed.push(text),
      } as unknown as Context; // configCommand reads only these
      expect(await configCommand(ctx)).toBe(0);
      const rows = JSON.parse(printed.join("\n")).settings as {
        setting: string;
        value: unknown;
        from: unknown;
      }[];
      expect(rows.filter((r) => r.setting.startsWith("retention.keep"))).toEqual([
        { setting: "retention.keepDaily", value: 7, from: { from: "file", file: retentionFile } },
        { setting: "retention.keepMonthly", value: 12, from: { from: "file", file: retentionFile } },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
