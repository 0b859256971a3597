// The fixed snapshot history that the retention golden tables run over: about 100 snapshots of one
// repository from 2019 to 2026, shaped to hit every edge the planner has (see the notes per block).

import type { RetentionCandidate } from "../../functions/core/retention.js";

/** The wall clock of every golden case. The newest real snapshot is 3h older: windows start there. */
export const FIXTURE_NOW = new Date("2026-01-10T12:00:00.000Z");

/** "2026-01-10T09:00:00Z" + "s" -> "20260110T090000000Z-s": time-sortable like real ids. */
export function snapshotId(takenAt: string, tag: string): string {
  return `${new Date(takenAt).toISOString().replace(/[-:.]/g, "")}-${tag}`;
}

function snap(takenAt: string, tag: string, extra: Partial<RetentionCandidate> = {}): RetentionCandidate {
  return { id: snapshotId(takenAt, tag), takenAt: new Date(takenAt).toISOString(), ...extra };
}

function everyDay(from: string, days: number, times: readonly string[]): RetentionCandidate[] {
  const out: RetentionCandidate[] = [];
  for (let i = 0; i < days; i++) {
    const day = new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
    for (const time of times) out.push(snap(`${day}T${time}Z`, time === "00:00:00" ? "s" : "p"));
  }
  return out;
}

const chainFull = snap("2026-01-05T00:00:00Z", "full");
const chain1 = snap("2026-01-05T14:00:00Z", "inc1", { parentId: chainFull.id });
const chain2 = snap("2026-01-06T00:00:00Z", "inc2", { parentId: chain1.id });
const chain3 = snap("2026-01-06T14:00:00Z", "inc3", { parentId: chain2.id });
const chain4 = snap("2026-01-07T00:00:00Z", "inc4", { parentId: chain3.id });
const chain5 = snap("2026-01-08T12:00:00Z", "inc5", { parentId: chain4.id });
const oldFull = snap("2023-12-20T10:00:00Z", "full");

export const FIXTURE_SNAPSHOTS: readonly RetentionCandidate[] = [
  // Sparse years, with gaps of months: year ends and starts, a leap day, month ends.
  snap("2019-03-15T10:00:00Z", "s"), // the oldest: yearly windows longer than the history keep it
  snap("2019-07-01T10:00:00Z", "inc", { parentId: "20190601T000000000Z-gone" }), // parent already gone
  snap("2019-12-31T23:59:59Z", "s"),
  snap("2020-01-01T00:00:00Z", "s"),
  snap("2020-02-29T12:00:00Z", "s"),
  snap("2020-06-30T10:00:00Z", "s"),
  snap("2021-05-05T10:00:00Z", "s"),
  snap("2021-12-31T10:00:00Z", "s"),
  snap("2022-08-20T10:00:00Z", "s"),
  snap("2023-03-31T23:00:00Z", "s"),
  snap("2023-04-01T01:00:00Z", "s"),
  oldFull,
  snap("2023-12-31T22:00:00Z", "inc", { parentId: oldFull.id }), // yearly 2023 pick, built on oldFull
  // 2024: month ends to the millisecond, 28 and 29 February, and 2024-12-30 (ISO week 2025-W01).
  snap("2024-01-31T23:59:59.999Z", "s"),
  snap("2024-02-01T00:00:00Z", "s"),
  snap("2024-02-28T12:00:00Z", "s"),
  snap("2024-02-29T00:00:00Z", "s"),
  snap("2024-02-29T23:59:59Z", "s"),
  snap("2024-03-01T00:00:00Z", "s"),
  snap("2024-04-30T10:00:00Z", "s"),
  snap("2024-06-15T10:00:00Z", "s"),
  snap("2024-09-30T10:00:00Z", "s"),
  snap("2024-10-31T23:30:00Z", "s"),
  snap("2024-12-30T10:00:00Z", "s"),
  snap("2024-12-31T23:59:59Z", "s"),
  // 2025 to September: month ends, May missing, and the edge of a 1y window measured from the
  // reference 2026-01-10T09:00Z (09:00:00 exactly is outside, 09:30 inside).
  snap("2025-01-01T00:00:00Z", "s"),
  snap("2025-01-05T10:00:00Z", "s"), // Sunday of 2025-W01
  snap("2025-01-06T10:00:00Z", "s"), // Monday of 2025-W02
  snap("2025-01-10T09:00:00Z", "s"),
  snap("2025-01-10T09:30:00Z", "p"),
  snap("2025-02-28T10:00:00Z", "s"),
  snap("2025-03-31T10:00:00Z", "s"),
  snap("2025-04-30T10:00:00Z", "s"),
  snap("2025-06-30T10:00:00Z", "s"),
  snap("2025-07-31T10:00:00Z", "s"),
  snap("2025-08-31T10:00:00Z", "s"),
  snap("2025-09-30T10:00:00Z", "s"),
  // Weekly from October, a held snapshot, a month end inside an ISO week, and three empty weeks.
  snap("2025-10-05T00:00:00Z", "s"),
  snap("2025-10-12T00:00:00Z", "s"),
  snap("2025-10-15T10:00:00Z", "held", { hold: true }),
  snap("2025-10-19T00:00:00Z", "s"),
  snap("2025-10-26T00:00:00Z", "s"),
  snap("2025-10-31T23:59:59Z", "s"), // Friday of 2025-W44
  snap("2025-11-01T00:00:00Z", "s"), // Saturday of 2025-W44, another month
  snap("2025-11-23T00:00:00Z", "s"),
  snap("2025-11-30T00:00:00Z", "s"),
  snap("2025-12-07T00:00:00Z", "s"),
  // Daily from 8 December, two empty days (21, 22), pushes on some days.
  ...everyDay("2025-12-08", 13, ["00:00:00"]),
  ...everyDay("2025-12-23", 6, ["00:00:00"]),
  snap("2025-12-24T15:00:00Z", "p"),
  snap("2025-12-27T15:00:00Z", "p"),
  // ISO week 2026-W01 runs from Monday 2025-12-29 to Sunday 2026-01-04: two snapshots a day.
  ...everyDay("2025-12-29", 7, ["00:00:00", "14:00:00"]),
  // An incremental chain: full on 5 January, then each snapshot builds on the one before.
  chainFull,
  chain1,
  chain2,
  chain3,
  chain4,
  snap("2026-01-08T00:00:00Z", "s"),
  chain5,
  snap("2026-01-09T00:00:00Z", "s"),
  snap("2026-01-09T10:00:00Z", "p"),
  // Two snapshots with the same takenAt: the greater id ("b") counts as the newer, so it is the day's pick.
  snap("2026-01-09T20:00:00Z", "a"),
  snap("2026-01-09T20:00:00Z", "b"),
  snap("2026-01-10T00:00:00Z", "s"),
  snap("2026-01-10T08:45:00Z", "p"), // exactly 15 minutes before the reference: outside "15m"
  snap("2026-01-10T09:00:00Z", "p"), // the newest real snapshot: the reference
  // Dated after FIXTURE_NOW (a skewed clock): kept, but neither the reference nor a period's pick.
  snap("2026-01-10T18:00:00Z", "future"),
];
