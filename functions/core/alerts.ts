// What needs a person, as alerts: backup results, verification verdicts, drill results and health
// problems turned into Alerts, and the de-duplication rule: the same problem of the same repository
// is sent once per window (6 h by default), a different problem at once.
import type { BackupResult } from "./backup.js";
import type { DrillResult } from "./drill.js";
import { describeProblem, type RepoHealth } from "./health.js";
import type { Alert, AlertLedger, Clock, Notifier } from "./ports.js";
import { scrub } from "./redact.js";
import type { VerifyOutcome } from "./verify.js";

export const ALERT_WINDOW_MS = 6 * 3600 * 1000;

export const ALERT_TITLES: Record<Alert["kind"], string> = {
  "backup-failed": "backup failed",
  "verification-failed": "verification failed",
  "repository-stale": "repository stale",
  "drill-failed": "restore drill failed",
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

/**
 * The problem an alert is about: kind, repository and why. A stale repository stays one problem
 * while its age grows, so its key leaves the why out.
 */
export function alertKey(a: Alert): string {
  return a.kind === "repository-stale" ? `${a.kind}\n${a.repo}` : `${a.kind}\n${a.repo}\n${a.why}`;
}

/** A Notifier that sends each problem once per window, remembering sends in `ledger`. */
export function dedupingNotifier(
  inner: Notifier,
  ledger: AlertLedger,
  clock: Clock,
  windowMs = ALERT_WINDOW_MS,
): Notifier {
  return {
    async notify(a) {
      const key = alertKey(a);
      const last = await ledger.lastSent(key);
      const now = clock.now();
      if (last && now.getTime() - Date.parse(last) < windowMs) return;
      await inner.notify(a);
      await ledger.record(key, now.toISOString());
    },
  };
}

/** A channel of a fan-out: its name (a host, never a secret) and how it sends. */
export interface AlertChannel {
  name: string;
  send(alert: Alert): Promise<void>;
}

/**
 * `channel`, sending each problem once per window, its memory under `id` (so two webhooks on one
 * host are apart). A send that failed is not remembered: the next run tries that channel again.
 */
export function dedupingChannel(
  channel: AlertChannel,
  id: string,
  ledger: AlertLedger,
  clock: Clock,
  windowMs = ALERT_WINDOW_MS,
): AlertChannel {
  return {
    name: channel.name,
    async send(a) {
      const key = `${id}\n${alertKey(a)}`;
      const last = await ledger.lastSent(key);
      const now = clock.now();
      if (last && now.getTime() - Date.parse(last) < windowMs) return;
      await channel.send(a);
      await ledger.record(key, now.toISOString());
    },
  };
}

/**
 * Sends to every channel; one that fails is handed to `onFailure` (the wiring logs it, scrubbed)
 * and the others still get the alert. Never rejects.
 */
export function fanOutNotifier(
  channels: AlertChannel[],
  onFailure: (channel: string, error: unknown) => void,
): Notifier {
  return {
    async notify(a) {
      await Promise.all(
        channels.map((c) =>
          c.send(a).catch((err: unknown) => {
            onFailure(c.name, err);
          }),
        ),
      );
    },
  };
}

/** Sends each alert in turn (a notifier never rejects; the ledger's write may). */
export async function notifyAll(notifier: Notifier, alerts: Alert[]): Promise<void> {
  for (const a of alerts) await notifier.notify(a);
}

/** The subject / first line of a notification. */
export function alertTitle(a: Alert): string {
  return `infinity-backup: ${ALERT_TITLES[a.kind]}: ${a.repo}`;
}

/** The plain-text body of a notification. */
export function alertText(a: Alert): string {
  return [
    `${ALERT_TITLES[a.kind]}: ${a.repo}`,
    ...(a.snapshot ? [`snapshot: ${a.snapshot}`] : []),
    `why: ${a.why}`,
    `when: ${a.when}`,
    "What to do: see docs/RUNBOOK.md, section Alerts.",
  ].join("\n");
}
