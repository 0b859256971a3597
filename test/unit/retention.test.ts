// The retention planner over one fixed history and a table of policies, compared to golden JSON
// (UPDATE_GOLDEN=1 rewrites the files; review the diff by hand), plus invariants and edge cases.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { UserInputError } from "../../functions/core/errors.js";
import {
  planRetention,
  type RetentionCandidate,
  type RetentionPlan,
} from "../../functions/core/retention.js";
import { periodKey } from "../../functions/core/retention-periods.js";
import {
  DEFAULT_RETENTION_POLICY,
  parseRetentionPolicy,
  type RetentionPolicy,
  type RetentionPolicyInput,
} from "../../functions/core/retention-policy.js";
import { FIXTURE_NOW, FIXTURE_SNAPSHOTS, snapshotId } from "../helpers/retention-fixture.js";

const GOLDEN_DIR = new URL("../golden/retention/", import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === "1";

const POLICIES: Record<string, RetentionPolicyInput> = {
  default: { within: "48h", daily: "30d", weekly: "90d", monthly: "1y", yearly: "7y" },
  "daily-30d": { daily: "30d" },
  "weekly-90d": { weekly: "90d" },
  "monthly-1y": { monthly: "1y" },
  "yearly-7y": { yearly: "7y" },
  "yearly-3y": { yearly: "3y" },
  "within-7d": { within: "7d" },
  "last-4": { last: 4 },
  "last-3-daily-7d": { last: 3, daily: "7d" },
  "daily-10d-weekly-3w": { daily: "10d", weekly: "3w" },
  "daily-2y-monthly-3y": { daily: "2y", monthly: "3y" },
  "within-15m-weekly-5w-monthly-6mo": { within: "15m", weekly: "5w", monthly: "6mo" },
  // Count rules (restic's --keep-daily N and kin), alone and beside the windows.
  "keepDaily-7": { keepDaily: 7 },
  "keepWeekly-4-keepMonthly-12": { keepWeekly: 4, keepMonthly: 12 },
  "keepYearly-3": { keepYearly: 3 },
  "keepYearly-20": { keepYearly: 20 },
  "daily-7d-keepDaily-10": { daily: "7d", keepDaily: 10 },
  "restic-last-3-keep-7-4-12-7": { last: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 7 },
  "keepHourly-6": { keepHourly: 6 },
  "keepLast-4": { keepLast: 4 },
  "restic-keepLast-2-keepHourly-3-keepDaily-3": { keepLast: 2, keepHourly: 3, keepDaily: 3 },
};

/** A case with its own short history, where the fixture has no instance of the edge it shows. */
interface HistoryCase {
  /** What the case shows, and what restic would do differently; kept in the golden file. */
  note: string;
  policy: RetentionPolicyInput;
  now: string;
  history: RetentionCandidate[];
}

const snap = (iso: string, tag = "s"): RetentionCandidate => ({ id: snapshotId(iso, tag), takenAt: iso });
const days = (from: string, count: number, time: string): RetentionCandidate[] =>
  Array.from({ length: count }, (_, i) =>
    snap(new Date(Date.parse(`${from}T${time}Z`) + i * 86_400_000).toISOString()),
  );

// Daily backups until 31 October, then none for two months, then one push on 30 December.
const GAP_HISTORY = [...days("2025-10-20", 12, "00:00:00"), snap("2025-12-30T10:00:00.000Z", "p")];

const HISTORY_CASES: Record<string, HistoryCase> = {
  "gap-daily-7d": {
    note: "a 7-day window measured from the push of 30 December reaches none of October's dailies",
    policy: { daily: "7d" },
    now: "2026-01-01T00:00:00.000Z",
    history: GAP_HISTORY,
  },
  "gap-keepDaily-7": {
    note: "keepDaily 7 reaches back over the two-month gap: the push plus the six newest October days",
    policy: { keepDaily: 7 },
    now: "2026-01-01T00:00:00.000Z",
    history: GAP_HISTORY,
  },
  "gap-daily-7d-keepDaily-7": {
    note: "the push is kept once, with the window's reason and the count's",
    policy: { daily: "7d", keepDaily: 7 },
    now: "2026-01-01T00:00:00.000Z",
    history: GAP_HISTORY,
  },
  "gap-keepHourly-4": {
    note:
      "keepHourly 4: the newest push of each hour (09:40, 10:50), reaching back over the week without " +
      "pushes; 09:05 and 10:10 lose their hour to a newer push, and 13:20 is the oldest hour beyond the count",
    policy: { keepHourly: 4 },
    now: "2026-01-08T12:00:00.000Z",
    history: [
      snap("2025-12-31T13:20:00.000Z", "p"),
      snap("2026-01-01T09:05:00.000Z", "p"),
      snap("2026-01-01T09:40:00.000Z", "p"),
      snap("2026-01-01T10:10:00.000Z", "p"),
      snap("2026-01-01T10:50:00.000Z", "p"),
      snap("2026-01-01T23:59:59.999Z", "p"),
      snap("2026-01-08T11:30:00.000Z", "p"),
    ],
  },
  "clamp-within-1mo-month-end": {
    note:
      "28 February 2025 12:00 is the reference. 29, 30 and 31 January + 1mo clamp to 28 February 10:00, " +
      "before the reference, so they are removed; restic (reference - 1mo = 28 January 12:00) keeps them.",
    policy: { within: "1mo" },
    now: "2025-02-28T13:00:00.000Z",
    history: [...days("2025-01-27", 5, "10:00:00"), snap("2025-02-28T12:00:00.000Z")],
  },
  "clamp-within-1mo-restic-earlier": {
    note:
      "The other way round: 31 March 2025 12:00 is the reference. 1 to 3 March + 1mo are 1 to 3 April, after " +
      "it, so they are kept; restic's reference - 1mo is 31 February, which Go rolls over to 3 March 12:00, " +
      "so restic drops them. 27 and 28 February + 1mo are 27 and 28 March: removed by both.",
    policy: { within: "1mo" },
    now: "2025-03-31T13:00:00.000Z",
    history: [...days("2025-02-27", 6, "10:00:00"), snap("2025-03-31T12:00:00.000Z")],
  },
  "clamp-monthly-1y-leap-day": {
    note:
      "29 February 2024 + 1y clamps to 28 February 2025 10:00, before the reference (12:00), so the " +
      "monthly 2024-02 snapshot is removed; restic (reference - 1y = 28 February 2024 12:00) keeps it.",
    policy: { monthly: "1y" },
    now: "2025-02-28T13:00:00.000Z",
    history: [
      snap("2024-01-15T10:00:00.000Z"),
      snap("2024-02-29T10:00:00.000Z"),
      snap("2024-06-01T10:00:00.000Z"),
      snap("2025-02-28T12:00:00.000Z"),
    ],
  },
};

function golden(
  policy: RetentionPolicyInput,
  plan: RetentionPlan<RetentionCandidate>,
  now = FIXTURE_NOW,
): unknown {
  return {
    policy,
    now: now.toISOString(),
    reference: plan.reference,
    keep: plan.keep.map(({ snapshot, reasons, keepUntil, tier }) => ({
      id: snapshot.id,
      reasons,
      keepUntil,
      tier,
    })),
    remove: plan.remove.map((snapshot) => snapshot.id),
  };
}

/** Written the way `npm run lint` (prettier --check test) wants it, so a rewrite leaves lint clean. */
async function formatJson(file: URL, value: unknown): Promise<string> {
  const prettier = await import("prettier");
  const options = await prettier.resolveConfig(file);
  return prettier.format(JSON.stringify(value), { ...options, filepath: file.pathname });
}

describe("retention golden tables", () => {
  if (UPDATE) mkdirSync(GOLDEN_DIR, { recursive: true });
  for (const [name, input] of Object.entries(POLICIES)) {
    it(`${name} keeps what the golden file says`, async () => {
      const plan = planRetention(FIXTURE_SNAPSHOTS, parseRetentionPolicy(input), FIXTURE_NOW);
      const file = new URL(`${name}.json`, GOLDEN_DIR);
      const actual = golden(input, plan);
      if (UPDATE) writeFileSync(file, await formatJson(file, actual));
      expect(actual).toEqual(JSON.parse(readFileSync(file, "utf8")));
    });
  }

  for (const [name, c] of Object.entries(HISTORY_CASES)) {
    it(`${name} keeps what the golden file says`, async () => {
      const plan = planRetention(c.history, parseRetentionPolicy(c.policy), new Date(c.now));
      const file = new URL(`${name}.json`, GOLDEN_DIR);
      const { policy, ...rest } = golden(c.policy, plan, new Date(c.now)) as Record<string, unknown>;
      const actual = { note: c.note, policy, history: c.history.map((s) => s.id), ...rest };
      if (UPDATE) writeFileSync(file, await formatJson(file, actual));
      expect(actual).toEqual(JSON.parse(readFileSync(file, "utf8")));
    });
  }

  it("the default table is the shipped default policy", () => {
    expect(parseRetentionPolicy(POLICIES.default)).toEqual(DEFAULT_RETENTION_POLICY);
  });
});

describe("retention invariants, for every policy in the table", () => {
  const byId = new Map(FIXTURE_SNAPSHOTS.map((snapshot) => [snapshot.id, snapshot]));
  for (const [name, input] of Object.entries(POLICIES)) {
    const plan = planRetention(FIXTURE_SNAPSHOTS, parseRetentionPolicy(input), FIXTURE_NOW);
    const keptIds = plan.keep.map((kept) => kept.snapshot.id);

    it(`${name}: keep + remove is every snapshot, once`, () => {
      const all = [...keptIds, ...plan.remove.map((snapshot) => snapshot.id)];
      expect(new Set(all).size).toBe(all.length);
      expect([...all].sort()).toEqual(FIXTURE_SNAPSHOTS.map((snapshot) => snapshot.id).sort());
    });

    it(`${name}: every kept snapshot has a reason, a tier, and a keepUntil after now`, () => {
      for (const kept of plan.keep) {
        expect(kept.reasons.length).toBeGreaterThan(0);
        expect(kept.tier).toBeTruthy();
        if (kept.keepUntil !== null)
          expect(Date.parse(kept.keepUntil)).toBeGreaterThan(FIXTURE_NOW.getTime());
      }
    });

    it(`${name}: no kept snapshot builds on a removed one`, () => {
      const kept = new Set(keptIds);
      for (const id of keptIds) {
        const parentId = byId.get(id)?.parentId;
        if (parentId !== undefined && byId.has(parentId)) expect(kept.has(parentId)).toBe(true);
      }
    });

    it(`${name}: the newest, the held and the future-dated snapshots are kept`, () => {
      expect(keptIds).toContain(snapshotId("2026-01-10T09:00:00Z", "p"));
      expect(keptIds).toContain(snapshotId("2025-10-15T10:00:00Z", "held"));
      expect(keptIds).toContain(snapshotId("2026-01-10T18:00:00Z", "future"));
    });

    it(`${name}: the plan does not depend on the input's order`, () => {
      const reversed = planRetention(
        [...FIXTURE_SNAPSHOTS].reverse(),
        parseRetentionPolicy(input),
        FIXTURE_NOW,
      );
      expect(reversed).toEqual(plan);
    });
  }

  it("an empty policy is refused, never read as delete-everything", () => {
    expect(() => planRetention(FIXTURE_SNAPSHOTS, {} as RetentionPolicy, FIXTURE_NOW)).toThrow(
      UserInputError,
    );
    expect(() => planRetention(FIXTURE_SNAPSHOTS, {} as RetentionPolicy, FIXTURE_NOW)).toThrow(
      /an empty policy would delete every snapshot/,
    );
  });
});

describe("retention semantics", () => {
  const daily = parseRetentionPolicy({ daily: "30d" });
  const at = (iso: string, tag = "s", extra: Partial<RetentionCandidate> = {}): RetentionCandidate => ({
    id: snapshotId(iso, tag),
    takenAt: iso,
    ...extra,
  });
  const reasonsOf = (plan: RetentionPlan<RetentionCandidate>): Record<string, string[]> =>
    Object.fromEntries(plan.keep.map((kept) => [kept.snapshot.id, kept.reasons]));

  it("period keys carry their type, so a month and an ISO week with the same digits differ", () => {
    const jan2026 = Date.parse("2026-01-08T00:00:00Z");
    expect(periodKey("monthly", jan2026)).toBe("month:2026-01");
    expect(periodKey("weekly", Date.parse("2026-01-05T00:00:00Z"))).toBe("week:2026-W02");
    expect(periodKey("weekly", Date.parse("2025-12-29T00:00:00Z"))).toBe("week:2026-W01");
    expect(periodKey("weekly", Date.parse("2026-01-04T23:59:59Z"))).toBe("week:2026-W01");
    expect(periodKey("weekly", Date.parse("2024-12-30T10:00:00Z"))).toBe("week:2025-W01");
    expect(periodKey("weekly", Date.parse("2021-01-03T00:00:00Z"))).toBe("week:2020-W53");
    expect(periodKey("weekly", Date.parse("2026-12-31T00:00:00Z"))).toBe("week:2026-W53");
    expect(periodKey("daily", Date.parse("2024-02-29T23:59:59.999Z"))).toBe("day:2024-02-29");
    expect(periodKey("yearly", Date.parse("2025-12-29T00:00:00Z"))).toBe("year:2025");
  });

  it("windows are measured from the newest snapshot, so nothing ages out when backups stop", () => {
    const history = [at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"), at("2026-01-03T00:00:00Z")];
    const soon = planRetention(history, daily, new Date("2026-01-03T01:00:00Z"));
    const muchLater = planRetention(history, daily, new Date("2027-06-01T00:00:00Z"));
    expect(muchLater.keep.map((kept) => kept.reasons)).toEqual(soon.keep.map((kept) => kept.reasons));
    expect(muchLater.reference).toBe("2026-01-03T00:00:00.000Z");
    // keepUntil moves forward with the clock while the reference stands still.
    expect(soon.keep[1]?.keepUntil).toBe("2026-02-01T01:00:00.000Z");
    expect(muchLater.keep[1]?.keepUntil).toBe("2027-06-30T00:00:00.000Z");
  });

  it("keeps the oldest snapshot while a window reaches past it, and not once history fills it", () => {
    const history = [at("2026-01-01T08:00:00Z", "a"), at("2026-01-01T20:00:00Z", "b")];
    const young = planRetention(history, daily, new Date("2026-01-02T00:00:00Z"));
    expect(reasonsOf(young)).toEqual({
      [snapshotId("2026-01-01T20:00:00Z", "b")]: ["newest", "daily 2026-01-01"],
      [snapshotId("2026-01-01T08:00:00Z", "a")]: ["oldest daily 2026-01-01"],
    });
    const filled = planRetention(
      [at("2025-11-01T00:00:00Z"), ...history],
      daily,
      new Date("2026-01-02T00:00:00Z"),
    );
    expect(filled.remove.map((snapshot) => snapshot.id)).toEqual([
      snapshotId("2026-01-01T08:00:00Z", "a"),
      snapshotId("2025-11-01T00:00:00Z", "s"),
    ]);
  });

  it("a future-dated snapshot is kept but takes neither the reference nor a period's slot", () => {
    const history = [at("2026-01-01T10:00:00Z"), at("2026-01-01T23:00:00Z", "future")];
    const plan = planRetention(history, daily, new Date("2026-01-01T12:00:00Z"));
    expect(plan.reference).toBe("2026-01-01T10:00:00.000Z");
    expect(reasonsOf(plan)).toEqual({
      [snapshotId("2026-01-01T23:00:00Z", "future")]: ["future-dated"],
      [snapshotId("2026-01-01T10:00:00Z", "s")]: ["newest", "daily 2026-01-01"],
    });
    expect(plan.keep[0]?.tier).toBe("future");
    expect(plan.keep[0]?.keepUntil).toBeNull();
  });

  it("only future-dated snapshots: all kept, windows measured from now", () => {
    const plan = planRetention([at("2030-01-01T00:00:00Z")], daily, new Date("2026-01-01T00:00:00Z"));
    expect(plan.reference).toBe("2026-01-01T00:00:00.000Z");
    expect(plan.keep.map((kept) => kept.reasons)).toEqual([["future-dated"]]);
  });

  it("keeps parents transitively, and a parent takes its dependant's keepUntil and tier", () => {
    const full = at("2020-01-01T00:00:00Z", "full");
    const inc1 = at("2020-06-01T00:00:00Z", "inc1", { parentId: full.id });
    const inc2 = at("2020-12-31T00:00:00Z", "inc2", { parentId: inc1.id });
    const later = at("2021-03-01T00:00:00Z", "s");
    const policy = parseRetentionPolicy({ yearly: "7y", daily: "1d" });
    const plan = planRetention([full, inc1, inc2, later], policy, new Date("2021-03-01T00:00:00Z"));
    const byId = new Map(plan.keep.map((kept) => [kept.snapshot.id, kept]));
    expect(byId.get(inc2.id)?.reasons).toEqual(["yearly 2020"]);
    expect(byId.get(inc1.id)?.reasons).toEqual([`parent of ${inc2.id}`]);
    expect(byId.get(full.id)?.reasons).toEqual([`oldest yearly 2020`, `parent of ${inc1.id}`]);
    expect(byId.get(inc1.id)?.keepUntil).toBe("2027-12-31T00:00:00.000Z");
    expect(byId.get(inc1.id)?.tier).toBe("yearly");
    expect(plan.remove).toEqual([]);
  });

  it("refuses a parentId loop rather than guess", () => {
    const a = at("2026-01-01T00:00:00Z", "a", { parentId: snapshotId("2026-01-02T00:00:00Z", "b") });
    const b = at("2026-01-02T00:00:00Z", "b", { parentId: a.id });
    expect(() => planRetention([a, b], daily, new Date("2026-01-03T00:00:00Z"))).toThrow(/loops back/);
  });

  it("refuses a snapshot listed twice, and an unreadable takenAt", () => {
    const one = at("2026-01-01T00:00:00Z");
    expect(() => planRetention([one, one], daily, new Date("2026-01-03T00:00:00Z"))).toThrow(/listed twice/);
    expect(() => planRetention([{ id: "x", takenAt: "yesterday" }], daily, new Date())).toThrow(/takenAt/);
  });

  it("an empty history gives an empty plan", () => {
    const plan = planRetention([], daily, new Date("2026-01-01T00:00:00Z"));
    expect(plan).toEqual({ reference: "2026-01-01T00:00:00.000Z", keep: [], remove: [], counted: {} });
  });
});
