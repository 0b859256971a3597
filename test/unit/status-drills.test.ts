// The status view's drills from the index's drill records (status-view.ts withDrillRecords): each
// row's last drill is its newest record, the chart's drill times are the records' passed drills,
// and the audit trail's drill entries stay only for drills older than every record read.
import { describe, expect, it } from "vitest";
import type { DrillRecord } from "../../functions/core/ports.js";
import { withDrillRecords, type StatusRow, type StatusView } from "../../functions/core/status-view.js";

const row = (repo: string, lastDrill?: StatusRow["lastDrill"]): StatusRow => ({
  repo,
  state: "healthy",
  problems: [],
  chainLength: 1,
  snapshots: 1,
  storedBytes: 10,
  held: 0,
  metadataKinds: [],
  metadataUnavailable: {},
  ...(lastDrill ? { lastDrill } : {}),
});

const record = (repo: string, at: string, verdict: "passed" | "failed", seconds: number): DrillRecord => ({
  repo,
  snapshotId: `s-${repo}`,
  at,
  verdict,
  seconds,
  withinRto: verdict === "passed",
  refs: 2,
  bytes: 100,
  checks: ["restore", "refs", "fsck", "manifest"],
});

// What statusView made from the audit trail: an old drill of acme/a (before records existed), the
// audit entry of the first recorded drill (the record stands for it), and a plain restore.
const fromTrail: StatusView = {
  at: "2026-12-01T12:00:00.000Z",
  ok: true,
  audit: { since: "2026-10-03T00:00:00.000Z", chainVerified: false },
  totals: {
    repos: 2,
    healthy: 2,
    stale: 0,
    failing: 0,
    unverified: 0,
    gone: 0,
    snapshots: 2,
    storedBytes: 20,
  },
  rows: [
    row("acme/a", { at: "2026-11-20T00:00:00.000Z", verdict: "passed", seconds: 9 }),
    row("acme/b", { at: "2026-11-30T10:00:00.000Z", verdict: "passed", seconds: 3 }),
  ],
  series: { day: [], snapshots: [], bytesWritten: [], bytesHeld: [] },
  failures: { backup: [], verification: [], drill: [] },
  restores: [
    { at: "2026-11-20T00:00:00.000Z", repo: "acme/a", seconds: 9, drill: true },
    { at: "2026-11-29T00:00:00.000Z", repo: "acme/b", seconds: 40 },
    { at: "2026-11-30T10:00:00.100Z", repo: "acme/b", seconds: 3, drill: true },
  ],
  rtoSeconds: 3600,
  checks: [],
};

describe("status view drills from the index's records", () => {
  it("takes each row's last drill and the chart's drill times from the records, each drill once", () => {
    const recent = [
      record("acme/b", "2026-11-30T10:00:00.000Z", "passed", 3),
      record("acme/b", "2026-12-01T08:00:00.000Z", "failed", 0),
      record("acme/a", "2026-12-01T09:00:00.000Z", "passed", 7.5),
    ];
    const view = withDrillRecords(fromTrail, [recent[1]!, recent[2]!], recent);
    expect(view.rows.map((r) => [r.repo, r.lastDrill])).toEqual([
      ["acme/a", { at: "2026-12-01T09:00:00.000Z", verdict: "passed", seconds: 7.5 }],
      ["acme/b", { at: "2026-12-01T08:00:00.000Z", verdict: "failed", seconds: 0 }],
    ]);
    // The trail's old drill and the plain restore stay; its recorded drill is the record's; a
    // failed drill has no restore time to chart.
    expect(view.restores).toEqual([
      { at: "2026-11-20T00:00:00.000Z", repo: "acme/a", seconds: 9, drill: true },
      { at: "2026-11-29T00:00:00.000Z", repo: "acme/b", seconds: 40 },
      { at: "2026-11-30T10:00:00.000Z", repo: "acme/b", seconds: 3, drill: true },
      { at: "2026-12-01T09:00:00.000Z", repo: "acme/a", seconds: 7.5, drill: true },
    ]);
  });

  it("with no records it is the trail's view unchanged", () => {
    expect(withDrillRecords(fromTrail, [], [])).toEqual(fromTrail);
  });
});
