// What the status page shows, computed from the health report (and the audit trail's restores):
// per repository a state and its facts, organization totals, storage by tier and class, and
// series over time. Pure; the page (functions/web/status-page.ts) only lays it out.
import type { AuditEntry } from "./audit-chain.js";
import { describeLifecycle, describeProblem, type HealthReport } from "./health.js";
import type { SnapshotSummary } from "./model.js";
import type { DrillRecord } from "./ports.js";

/** The recovery time objective the restore chart is drawn against. */
export const RTO_SECONDS = 3600;

/** Days the series cover, ending today (UTC). */
export const SERIES_DAYS = 60;

export type RepoState = "healthy" | "stale" | "failing" | "unverified" | "gone";

/**
 * Where the view's window of the audit trail starts: midnight (UTC) of the series' first day. The
 * restore and failures charts and each row's last restore read the trail from there on only.
 */
export function auditWindowStart(at: string): string {
  return `${seriesDays(new Date(at))[0]}T00:00:00.000Z`;
}

/** The audit actions the failures chart counts, by what failed. */
export const FAILURE_ACTIONS = {
  backup: "snapshot.failed",
  verification: "verify.failed",
  drill: "drill.failed",
} as const;
export type FailureKind = keyof typeof FAILURE_ACTIONS;

/** Every audit action the view reads: restores and drills (timed), and the failures. */
export const VIEW_ACTIONS: readonly string[] = [
  "restore.completed",
  "drill.passed",
  ...Object.values(FAILURE_ACTIONS),
];

export interface StatusRow {
  repo: string;
  state: RepoState;
  problems: string[];
  note?: string;
  lastSnapshot?: string;
  lastConfirmed?: string;
  freshnessSeconds?: number;
  verification?: { verdict: string; level: string; at: string; detail?: string };
  /** Snapshots in the newest chain: its full snapshot and the incrementals on it. */
  chainLength: number;
  snapshots: number;
  storedBytes: number;
  held: number;
  metadataKinds: string[];
  metadataUnavailable: Record<string, string>;
  lastRestore?: { at: string; seconds: number };
  lastDrill?: { at: string; verdict: "passed" | "failed"; seconds: number };
}

export interface StatusView {
  at: string;
  ok: boolean;
  totals: Record<RepoState, number> & { repos: number; snapshots: number; storedBytes: number };
  rows: StatusRow[];
  storage?: {
    byTier: { tier: string; archives: number; bytes: number }[];
    byClass: { storageClass: string; archives: number; bytes: number; monthlyCost: number }[];
    monthlyCost: number;
    currency: string;
  };
  /** One point per day, oldest first: day (YYYY-MM-DD), snapshots taken, bytes written, bytes held now. */
  series: { day: string[]; snapshots: number[]; bytesWritten: number[]; bytesHeld: number[] };
  /** Failures per day of `series.day`, from the audit trail: backups, verifications and drills. */
  failures: Record<FailureKind, number[]>;
  /** Restores and drills with their measured time, oldest first. */
  restores: { at: string; repo: string; seconds: number; drill?: boolean }[];
  /**
   * The window of the audit trail the restores, failures and last restores were read from: from
   * `since` on, each entry as stored, the hash chain not verified (`infinity-backup audit verify`
   * proves the whole trail).
   */
  audit: { since: string; chainVerified: false };
  rtoSeconds: number;
  /** The named health checks the workload ran (core/health-checks.ts): the page's badges. */
  checks: { name: string; status: "ok" | "warning" | "failed"; reason: string }[];
}

/**
 * `audit`: the trail's entries of VIEW_ACTIONS from auditWindowStart(report.at) on (older ones are
 * left out here too), oldest first.
 */
export function statusView(report: HealthReport, audit: readonly AuditEntry[] = []): StatusView {
  const since = auditWindowStart(report.at);
  const windowed = audit.filter((e) => typeof e.at === "string" && e.at >= since);
  const timed = windowed.filter((e) => typeof e.details?.seconds === "number");
  // A drill's own restore is audited too (actor "drill:…"): counted once, as the drill.
  const restores = timed
    .filter(
      (e) =>
        (e.action === "restore.completed" && !e.actor.startsWith("drill:")) || e.action === "drill.passed",
    )
    .map((e) => ({
      at: e.at,
      repo: e.repo ?? "",
      seconds: e.details!.seconds as number,
      ...(e.action === "drill.passed" ? { drill: true } : {}),
    }));
  const lastRestore = new Map(
    restores.filter((r) => !r.drill).map((r) => [r.repo, { at: r.at, seconds: r.seconds }]),
  );
  const lastDrill = new Map(
    timed
      .filter((e) => e.action === "drill.passed" || e.action === "drill.failed")
      .map((e) => [
        e.repo ?? "",
        {
          at: e.at,
          verdict: e.action === "drill.passed" ? ("passed" as const) : ("failed" as const),
          seconds: e.details!.seconds as number,
        },
      ]),
  );
  const rows = report.repos.map((h, i): StatusRow => {
    const snapshots = report.snapshots[i] ?? [];
    const kinds = h.problems.map((p) => p.kind);
    const state: RepoState = h.lifecycle
      ? "gone"
      : kinds.some((k) => k === "verification-failed" || k === "attempt-failed")
        ? "failing"
        : kinds.some((k) => k === "stale" || k === "no-snapshot")
          ? "stale"
          : kinds.includes("unverified")
            ? "unverified"
            : "healthy";
    const v = h.latest?.verification;
    const note = h.lifecycle ? describeLifecycle(h) : undefined;
    return {
      repo: h.repo,
      state,
      problems: h.problems.map(describeProblem),
      ...(note ? { note } : {}),
      ...(h.latest ? { lastSnapshot: h.latest.takenAt, lastConfirmed: h.latest.confirmedAt } : {}),
      ...(h.freshnessSeconds === undefined ? {} : { freshnessSeconds: h.freshnessSeconds }),
      ...(v
        ? {
            verification: {
              verdict: v.verdict,
              level: v.level,
              at: v.at,
              ...(v.detail ? { detail: v.detail } : {}),
            },
          }
        : {}),
      chainLength: chainLength(snapshots),
      snapshots: h.snapshots,
      storedBytes: h.storedBytes,
      held: snapshots.filter((s) => s.hold).length,
      metadataKinds: Object.keys(h.latest?.metadata?.items ?? {}).sort(),
      metadataUnavailable: h.metadataUnavailable ?? {},
      ...(lastRestore.has(h.repo) ? { lastRestore: lastRestore.get(h.repo)! } : {}),
      ...(lastDrill.has(h.repo) ? { lastDrill: lastDrill.get(h.repo)! } : {}),
    };
  });
  const count = (state: RepoState) => rows.filter((r) => r.state === state).length;
  const storage = "error" in report.storage ? undefined : report.storage;
  return {
    at: report.at,
    ok: report.ok,
    totals: {
      repos: rows.length,
      healthy: count("healthy"),
      stale: count("stale"),
      failing: count("failing"),
      unverified: count("unverified"),
      gone: count("gone"),
      snapshots: rows.reduce((n, r) => n + r.snapshots, 0),
      storedBytes: rows.reduce((n, r) => n + r.storedBytes, 0),
    },
    rows,
    ...(storage
      ? {
          storage: {
            byTier: storage.byTier.map((t) => ({ tier: t.tier, archives: t.objects, bytes: t.bytes })),
            byClass: storage.byExpectedClass.map((c) => ({
              storageClass: c.expectedClass,
              archives: c.objects,
              bytes: c.bytes,
              monthlyCost: c.monthlyCost,
            })),
            monthlyCost: storage.monthlyCost,
            currency: storage.currency,
          },
        }
      : {}),
    series: series(report.snapshots.flat(), new Date(report.at)),
    failures: failures(windowed, new Date(report.at)),
    restores,
    audit: { since, chainVerified: false },
    rtoSeconds: RTO_SECONDS,
    checks: (report.checks ?? []).map(({ name, status, reason }) => ({ name, status, reason })),
  };
}

/** The newest snapshot's chain: it and its parents back to the full one. */
function chainLength(snapshots: readonly SnapshotSummary[]): number {
  const byId = new Map(snapshots.map((s) => [s.id, s]));
  let length = 0;
  for (
    let s = snapshots[0];
    s && length <= snapshots.length;
    s = s.parentId ? byId.get(s.parentId) : undefined
  )
    length++;
  return length;
}

/** The series' days, oldest first, ending on `now`'s (UTC). */
function seriesDays(now: Date): string[] {
  const days: string[] = [];
  for (let i = SERIES_DAYS - 1; i >= 0; i--)
    days.push(new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10));
  return days;
}

/** Failed backups, verifications and drills per day of the series, counted from the audit trail. */
function failures(audit: readonly AuditEntry[], now: Date): StatusView["failures"] {
  const days = seriesDays(now);
  const index = new Map(days.map((d, i) => [d, i]));
  const counts = {
    backup: days.map(() => 0),
    verification: days.map(() => 0),
    drill: days.map(() => 0),
  };
  const kindOf = new Map<string, FailureKind>(
    Object.entries(FAILURE_ACTIONS).map(([kind, action]) => [action, kind as FailureKind]),
  );
  for (const entry of audit) {
    const kind = kindOf.get(entry.action);
    const i = typeof entry.at === "string" ? index.get(entry.at.slice(0, 10)) : undefined;
    if (kind !== undefined && i !== undefined) counts[kind][i]! += 1;
  }
  return counts;
}

function series(snapshots: readonly SnapshotSummary[], now: Date): StatusView["series"] {
  const days = seriesDays(now);
  const index = new Map(days.map((d, i) => [d, i]));
  const taken = days.map(() => 0);
  const written = days.map(() => 0);
  let before = 0;
  for (const s of snapshots) {
    const i = index.get(s.takenAt.slice(0, 10));
    if (i === undefined) {
      if (s.takenAt < days[0]!) before += s.size;
      continue;
    }
    taken[i]! += 1;
    written[i]! += s.size;
  }
  let held = before;
  const heldNow = written.map((w) => (held += w));
  return { day: days, snapshots: taken, bytesWritten: written, bytesHeld: heldNow };
}

/**
 * The view's drills from the index's drill records (core/drill.ts writes one per drill): each
 * row's last drill from `last` (DrillRecords.lastDrills), and the chart's drill times from
 * `recent` (DrillRecords.drillsSince, oldest first). The audit trail's drill entries that
 * statusView read stay only where no record can stand for them: before the oldest of `recent`.
 */
export function withDrillRecords(
  view: StatusView,
  last: readonly DrillRecord[],
  recent: readonly DrillRecord[],
): StatusView {
  const first = recent[0]?.at;
  const restores = [
    ...view.restores.filter((r) => !r.drill || first === undefined || r.at < first),
    ...recent
      .filter((d) => d.verdict === "passed")
      .map((d) => ({ at: d.at, repo: d.repo, seconds: d.seconds, drill: true })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const lastOf = new Map(last.map((d) => [d.repo, d]));
  const rows = view.rows.map((row) => {
    const d = lastOf.get(row.repo);
    return d ? { ...row, lastDrill: { at: d.at, verdict: d.verdict, seconds: d.seconds } } : row;
  });
  return { ...view, rows, restores };
}
