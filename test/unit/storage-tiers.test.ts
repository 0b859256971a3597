// Storage class choice: the coldest class whose minimum storage duration the archive is sure to
// outlive, never warmer, never leaving a class early; and what "sure to be kept" means.
import { describe, expect, it } from "vitest";
import { planRetention } from "../../functions/core/retention.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import {
  chooseStorageClass,
  coldestClassFor,
  settledKeepUntil,
  type ClassChoiceInput,
} from "../../functions/core/storage-tiers.js";

const DAY = 86_400_000;
const NOW = new Date("2026-01-10T00:00:00Z");
const inDays = (days: number): string => new Date(NOW.getTime() + days * DAY).toISOString();
const longAgo = inDays(-1000);

interface Case {
  name: string;
  current: string | undefined;
  /** Days from NOW the archive is sure to be kept; null for open-ended. */
  keptDays: number | null;
  /** Days since the object was written (default: long ago). */
  writtenDaysAgo?: number;
  expected: string | undefined;
  move: boolean;
}

const CASES: Case[] = [
  {
    name: "open-ended stays where it is",
    current: "STANDARD",
    keptDays: null,
    expected: "STANDARD",
    move: false,
  },
  {
    name: "open-ended, no class reported",
    current: undefined,
    keptDays: null,
    expected: undefined,
    move: false,
  },
  {
    name: "open-ended never goes colder, even in LOCAL",
    current: "LOCAL",
    keptDays: null,
    expected: "LOCAL",
    move: false,
  },
  {
    name: "10 more days: no class with a minimum",
    current: "STANDARD",
    keptDays: 10,
    expected: "STANDARD",
    move: false,
  },
  {
    name: "just under 30 days: not Nearline",
    current: "STANDARD",
    keptDays: 30 - 1 / 24,
    expected: "STANDARD",
    move: false,
  },
  { name: "exactly 30 days: Nearline", current: "STANDARD", keptDays: 30, expected: "NEARLINE", move: true },
  {
    name: "89 days: Nearline, not Coldline",
    current: "STANDARD",
    keptDays: 89.9,
    expected: "NEARLINE",
    move: true,
  },
  { name: "exactly 90 days: Coldline", current: "STANDARD", keptDays: 90, expected: "COLDLINE", move: true },
  {
    name: "364 days: Coldline, not Archive",
    current: "STANDARD",
    keptDays: 364.99,
    expected: "COLDLINE",
    move: true,
  },
  { name: "exactly 365 days: Archive", current: "STANDARD", keptDays: 365, expected: "ARCHIVE", move: true },
  { name: "7 years: Archive", current: "STANDARD", keptDays: 7 * 365, expected: "ARCHIVE", move: true },
  {
    name: "expiry already past: stays",
    current: "STANDARD",
    keptDays: -3,
    expected: "STANDARD",
    move: false,
  },
  { name: "LOCAL counts as the warmest", current: "LOCAL", keptDays: 40, expected: "NEARLINE", move: true },
  {
    name: "a legacy class counts as the warmest",
    current: "REGIONAL",
    keptDays: 100,
    expected: "COLDLINE",
    move: true,
  },
  {
    name: "no class reported, 100 days",
    current: undefined,
    keptDays: 100,
    expected: "COLDLINE",
    move: true,
  },
  {
    name: "never back to a warmer class",
    current: "COLDLINE",
    keptDays: 10,
    expected: "COLDLINE",
    move: false,
  },
  { name: "Archive stays Archive", current: "ARCHIVE", keptDays: 40, expected: "ARCHIVE", move: false },
  { name: "same class: no move", current: "NEARLINE", keptDays: 60, expected: "NEARLINE", move: false },
  {
    name: "Nearline for 10 days: its 30-day minimum is not served, no move to Coldline",
    current: "NEARLINE",
    keptDays: 200,
    writtenDaysAgo: 10,
    expected: "NEARLINE",
    move: false,
  },
  {
    name: "Nearline for 30 days: minimum served, on to Coldline",
    current: "NEARLINE",
    keptDays: 200,
    writtenDaysAgo: 30,
    expected: "COLDLINE",
    move: true,
  },
  {
    name: "Coldline for 89 days: not yet to Archive",
    current: "COLDLINE",
    keptDays: 2000,
    writtenDaysAgo: 89,
    expected: "COLDLINE",
    move: false,
  },
  {
    name: "Coldline for 90 days, kept 2000 more: Archive",
    current: "COLDLINE",
    keptDays: 2000,
    writtenDaysAgo: 90,
    expected: "ARCHIVE",
    move: true,
  },
  {
    name: "STANDARD has no minimum: a fresh object moves at once",
    current: "STANDARD",
    keptDays: 400,
    writtenDaysAgo: 0,
    expected: "ARCHIVE",
    move: true,
  },
];

describe("chooseStorageClass", () => {
  it.each(CASES)("$name", (c) => {
    const input: ClassChoiceInput = {
      current: c.current,
      createdAt: c.writtenDaysAgo === undefined ? longAgo : inDays(-c.writtenDaysAgo),
      settledUntil: c.keptDays === null ? null : inDays(c.keptDays),
      now: NOW,
    };
    const choice = chooseStorageClass(input);
    expect({ storageClass: choice.storageClass, move: choice.move }).toEqual({
      storageClass: c.expected,
      move: c.move,
    });
  });

  it("says why it stays", () => {
    expect(
      chooseStorageClass({ current: "NEARLINE", createdAt: inDays(-10), settledUntil: inDays(200), now: NOW })
        .why,
    ).toBe("NEARLINE minimum of 30 days not served");
    expect(
      chooseStorageClass({ current: "STANDARD", createdAt: longAgo, settledUntil: null, now: NOW }).why,
    ).toBe("open-ended");
    expect(
      chooseStorageClass({ current: "STANDARD", createdAt: longAgo, settledUntil: inDays(95.5), now: NOW })
        .why,
    ).toBe("kept 95 more days");
  });

  it.each([
    [0, "STANDARD"],
    [29, "STANDARD"],
    [30, "NEARLINE"],
    [90, "COLDLINE"],
    [365, "ARCHIVE"],
    [Infinity, "ARCHIVE"],
  ])("coldestClassFor(%d days) = %s", (days, expected) => {
    expect(coldestClassFor(days)).toBe(expected);
  });
});

describe("settledKeepUntil", () => {
  const weekly = parseRetentionPolicy({ weekly: "90d" });

  it("leaves out the stretch a pause in backups adds, which the next backup takes back", () => {
    // Backups stopped after 2025-11-03; it is now 2026-01-05, 63 days later.
    const snapshots = [
      { id: "sun", takenAt: "2025-11-02T00:00:00.000Z" },
      { id: "mon", takenAt: "2025-11-03T00:00:00.000Z" },
    ];
    const now = new Date("2026-01-05T00:00:00Z");
    const plan = planRetention(snapshots, weekly, now);
    const sunday = plan.keep.find((k) => k.snapshot.id === "sun");
    expect(sunday?.keepUntil).toBe("2026-04-04T00:00:00.000Z"); // 90 days + the 63-day pause
    const settled = settledKeepUntil(snapshots, weekly, now);
    expect(settled.get("sun")).toBe("2026-01-31T00:00:00.000Z"); // 90 days, as once backups resume
    expect(settled.get("mon")).toBe("2026-02-01T00:00:00.000Z"); // no longer the newest: weekly only
    // By the plan's keepUntil it would go to Nearline (89 days) and be deleted 26 days later.
    const naive = chooseStorageClass({
      current: "STANDARD",
      createdAt: longAgo,
      settledUntil: sunday!.keepUntil,
      now,
    });
    const sure = chooseStorageClass({
      current: "STANDARD",
      createdAt: longAgo,
      settledUntil: settled.get("sun")!,
      now,
    });
    expect([naive.storageClass, sure.storageClass]).toEqual(["NEARLINE", "STANDARD"]);
  });

  it("gives the newest snapshot only what survives the next one; held stay open-ended", () => {
    const policy = parseRetentionPolicy({ within: "48h", daily: "30d", yearly: "7y" });
    const snapshots = [
      { id: "dec31", takenAt: "2025-12-31T00:00:00.000Z" },
      { id: "held", takenAt: "2026-01-02T00:00:00.000Z", hold: true },
      { id: "today", takenAt: "2026-01-10T00:00:00.000Z" },
    ];
    const now = new Date("2026-01-10T01:00:00Z");
    const settled = settledKeepUntil(snapshots, policy, now);
    expect(settled.get("today")).toBe("2026-01-12T00:00:00.000Z"); // within 48h; the day, the year go on
    expect(settled.get("dec31")).toBe("2032-12-31T00:00:00.000Z"); // yearly 2025: the year is over
    expect(settled.get("held")).toBeNull();
    expect([...settled.keys()].some((id) => !snapshots.some((s) => s.id === id))).toBe(false);
  });

  it("drops what the next snapshot would let go at once", () => {
    const policy = parseRetentionPolicy({ last: 1 });
    const snapshots = [{ id: "only", takenAt: "2026-01-09T00:00:00.000Z" }];
    expect(settledKeepUntil(snapshots, policy, NOW).has("only")).toBe(false);
  });
});
