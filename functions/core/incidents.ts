// One message per incident, and one when it clears. An incident is a kind of problem and what it is
// about (a repository, a dead-letter subscription, a capacity rule), whatever its wording: a retry
// that fails again, a second cloud instance or the next scheduled check says nothing new. Each
// channel keeps its own memory in the AlertLedger (shared by every instance in the cloud), so a
// channel whose send failed tries again on the next run while the others stay quiet.
import { recoveryAlert } from "./alerts.js";
import type { Alert, AlertKind, AlertLedger, Clock, Incident, Notifier } from "./ports.js";

/** An open incident is sent again after this long (notifications.repeatAfterHours). */
export const ALERT_WINDOW_MS = 6 * 3600 * 1000;

/** A channel: its name (a host, never a secret) and how it sends one message. */
export interface AlertChannel {
  name: string;
  send(alert: Alert): Promise<void>;
}

const KINDS: readonly AlertKind[] = [
  "backup-failed",
  "verification-failed",
  "repository-stale",
  "drill-failed",
  "dead-letter-backlog",
  "capacity",
];

/** The incident an alert belongs to, as a ledger key's tail: its kind and repository. */
export function incidentKey(i: Incident): string {
  return `${i.kind}\n${i.repo}`;
}

function parseIncidentKey(tail: string): Incident | undefined {
  const cut = tail.indexOf("\n");
  const kind = tail.slice(0, cut) as AlertKind;
  return cut > 0 && KINDS.includes(kind) ? { kind, repo: tail.slice(cut + 1) } : undefined;
}

export interface IncidentChannel {
  channel: AlertChannel;
  /** The channel's memory prefix: its position and name, so two webhooks on one host stay apart. */
  id: string;
}

/**
 * The Notifier over `channels`: for each channel, an alert whose incident it has not sent (or sent
 * before the window) is claimed and sent; an open incident that the run checked and no longer sees
 * is released and its recovery sent. A failed send is handed to `onFailure` and undone in the
 * ledger (a new incident forgotten, a recovery put back), so the next run tries that channel again.
 */
export function incidentNotifier(
  channels: readonly IncidentChannel[],
  ledger: AlertLedger,
  clock: Clock,
  onFailure: (channel: string, error: unknown) => void,
  windowMs = ALERT_WINDOW_MS,
): Notifier {
  return {
    async report(alerts, checked, when) {
      await Promise.all(
        channels.map((c) => reportTo(c, alerts, checked, when, ledger, clock, windowMs, onFailure)),
      );
    },
  };
}

async function reportTo(
  { channel, id }: IncidentChannel,
  alerts: readonly Alert[],
  checked: (incident: Incident) => boolean,
  when: string,
  ledger: AlertLedger,
  clock: Clock,
  windowMs: number,
  onFailure: (channel: string, error: unknown) => void,
): Promise<void> {
  const prefix = `${id}\n`;
  const now = clock.now();
  const seen = new Set<string>();
  for (const alert of alerts) {
    const tail = incidentKey(alert);
    if (seen.has(tail)) continue; // one message per incident, also within one run
    seen.add(tail);
    const key = prefix + tail;
    if (!(await ledger.claim(key, now.toISOString(), new Date(now.getTime() - windowMs).toISOString())))
      continue;
    try {
      await channel.send(alert);
    } catch (err) {
      await ledger.release(key);
      onFailure(channel.name, err);
    }
  }
  for (const key of await ledger.openKeys(prefix)) {
    const incident = parseIncidentKey(key.slice(prefix.length));
    if (!incident || seen.has(key.slice(prefix.length)) || !checked(incident)) continue;
    const lastSent = await ledger.release(key);
    if (lastSent === undefined) continue; // another instance closed it
    try {
      await channel.send(recoveryAlert(incident, when));
    } catch (err) {
      await ledger.record(key, lastSent);
      onFailure(channel.name, err);
    }
  }
}

/** A notifier that sends nothing (no notifications section). */
export const silentNotifier: Notifier = { report: async () => {} };
