// What needs a person, as alerts: backup results, verification verdicts, drill results and health
// problems turned into Alerts, with what each run checked (so an incident it no longer sees is
// known to have cleared), and the words of a message. Sending once per incident: incidents.ts.
import type { BackupResult } from "./backup.js";
import type { DrillResult } from "./drill.js";
import type { HealthCheck } from "./health-checks.js";
import { describeProblem, type RepoHealth } from "./health.js";
import type { Alert, Incident } from "./ports.js";
import { scrub } from "./redact.js";
import type { VerifyOutcome } from "./verify.js";

export const ALERT_TITLES: Record<Alert["kind"], string> = {
  "backup-failed": "backup failed",
  "verification-failed": "verification failed",
  "repository-stale": "repository stale",
  "drill-failed": "restore drill failed",
  "dead-letter-backlog": "dead-lettered requests waiting",
  capacity: "capacity warning",
};

/** What the recovery message of each kind says cleared. */
export const RECOVERY_WHY: Record<Alert["kind"], string> = {
  "backup-failed": "a backup of the repository succeeded",
  "verification-failed": "the repository's snapshots verified ok",
  "repository-stale": "the repository's latest backup is within the promise again",
  "drill-failed": "a restore drill of the repository passed",
  "dead-letter-backlog": "the dead-letter subscription is empty",
  capacity: "the capacity rule is met again",
};

function alert(kind: Alert["kind"], repo: string, why: string, when: string, snapshot?: string): Alert {
  return { kind, repo, why: scrub(why), when, ...(snapshot ? { snapshot } : {}) };
}

/** A failed repository of backupAll; a new snapshot that failed verification is a verification alert. */
export function backupAlerts(results: BackupResult[], when: string): Alert[] {
  return results.flatMap((r) => {
    if (!r.error) return [];
    const v = r.verify?.verification;
    if (v && v.verdict !== "ok")
      return [alert("verification-failed", r.repo, v.detail ?? r.error, when, r.verify!.snapshot.id)];
    return [alert("backup-failed", r.repo, r.error, when, r.snapshot?.snapshot.id)];
  });
}

export function verifyAlerts(outcomes: VerifyOutcome[], when: string): Alert[] {
  return outcomes
    .filter((o) => o.verification.verdict !== "ok")
    .map((o) =>
      alert(
        "verification-failed",
        o.snapshot.repo,
        `${o.verification.level} verification ${o.verification.verdict}: ${o.verification.detail ?? "no detail"}`,
        when,
        o.snapshot.id,
      ),
    );
}

export function drillAlerts(results: DrillResult[], when: string): Alert[] {
  return results
    .filter((r) => r.verdict === "failed")
    .map((r) =>
      alert("drill-failed", r.repo, r.detail ?? "the restore did not match the index", when, r.snapshotId),
    );
}

/** Health problems that need a person: stale (or never backed up), a failed latest verification or attempt. */
export function healthAlerts(repos: RepoHealth[], when: string): Alert[] {
  return repos.flatMap((h) =>
    h.problems.flatMap((p) => {
      if (p.kind === "stale" || p.kind === "no-snapshot")
        return [alert("repository-stale", h.repo, describeProblem(p), when, h.latest?.id)];
      if (p.kind === "verification-failed")
        return [alert("verification-failed", h.repo, describeProblem(p), when, h.latest?.id)];
      // The error alone: the attempt's time would make each failed attempt a new problem.
      if (p.kind === "attempt-failed") return [alert("backup-failed", h.repo, p.error, when)];
      return [];
    }),
  );
}

/** What a list of backup results checked: each repository's backup, and its verification when one ran. */
export function backupChecked(results: BackupResult[]): (i: Incident) => boolean {
  const backedUp = new Set(results.map((r) => r.repo));
  const verified = new Set(results.filter((r) => r.verify?.verification).map((r) => r.repo));
  return (i) =>
    (i.kind === "backup-failed" && backedUp.has(i.repo)) ||
    (i.kind === "verification-failed" && verified.has(i.repo));
}

export function verifyChecked(outcomes: VerifyOutcome[]): (i: Incident) => boolean {
  const repos = new Set(outcomes.map((o) => o.snapshot.repo));
  return (i) => i.kind === "verification-failed" && repos.has(i.repo);
}

export function drillChecked(results: DrillResult[]): (i: Incident) => boolean {
  const repos = new Set(results.map((r) => r.repo));
  return (i) => i.kind === "drill-failed" && repos.has(i.repo);
}

/** What a health report checked: every kind healthAlerts can raise, for every repository in it. */
export function healthChecked(
  repos: RepoHealth[],
  kinds: readonly Alert["kind"][],
): (i: Incident) => boolean {
  const names = new Set(repos.map((h) => h.repo));
  return (i) => kinds.includes(i.kind) && names.has(i.repo);
}

const CHECK_KIND: Partial<Record<HealthCheck["name"], Alert["kind"]>> = {
  capacity: "capacity",
  "dead-letters": "dead-letter-backlog",
};

/** The capacity rules and dead-letter subscriptions the named checks found wanting. */
export function checkAlerts(checks: readonly HealthCheck[], when: string): Alert[] {
  return checks.flatMap((c) => {
    const kind = CHECK_KIND[c.name];
    return kind ? (c.incidents ?? []).map((i) => alert(kind, i.subject, i.why, when)) : [];
  });
}

/** The kinds whose check ran to its end: their incidents not found again have cleared. */
export function checksChecked(checks: readonly HealthCheck[]): (i: Incident) => boolean {
  const kinds = new Set(checks.filter((c) => c.incidents).map((c) => CHECK_KIND[c.name]));
  return (i) => kinds.has(i.kind);
}

/** Runs that check several things clear what any of them checked. */
export function eitherChecked(...checked: ((i: Incident) => boolean)[]): (i: Incident) => boolean {
  return (i) => checked.some((c) => c(i));
}

/** The recovery message of an incident that cleared. */
export function recoveryAlert(i: Incident, when: string): Alert {
  return { kind: i.kind, repo: i.repo, why: RECOVERY_WHY[i.kind], when, resolved: true };
}

/** The subject / first line of a notification. */
export function alertTitle(a: Alert): string {
  return `infinity-backup: ${a.resolved ? "resolved: " : ""}${ALERT_TITLES[a.kind]}: ${a.repo}`;
}

/** The plain-text body of a notification. */
export function alertText(a: Alert): string {
  if (a.resolved)
    return [`resolved: ${ALERT_TITLES[a.kind]}: ${a.repo}`, `cleared: ${a.why}`, `when: ${a.when}`].join(
      "\n",
    );
  return [
    `${ALERT_TITLES[a.kind]}: ${a.repo}`,
    ...(a.snapshot ? [`snapshot: ${a.snapshot}`] : []),
    `why: ${a.why}`,
    `when: ${a.when}`,
    "What to do: see docs/RUNBOOK.md, section Alerts.",
  ].join("\n");
}
