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

/** Claims (or releases) of one channel in flight at once: round trips overlap, the database is not crowded. */
const LEDGER_CALLS_IN_FLIGHT = 8;

/**
 * The Notifier over `channels`: for each channel, an alert whose incident it has not sent (or sent
 * before the window) is claimed and sent; an open incident that the run checked and no longer sees
 * is released and its recovery sent. A failed send is handed to `onFailure` and undone in the
 * ledger (a new incident forgotten, a recovery put back), so the next run tries that channel again.
 * Each channel's open incidents are read once per run: an incident open and sent within the window
 * costs no claim (on Firestore a transaction), so a status page load with hundreds of stale
 * repositories already sent makes no write.
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
  const at = now.toISOString();
  const resendBefore = new Date(now.getTime() - windowMs).toISOString();
  const open = await ledger.openIncidents(prefix);
  const current = byIncident(alerts);
  // Sent within the window: the claim would be refused. The claim still decides every other one,
  // so two instances that both read an incident as new send it once between them. One closed by
  // another instance after this read (its recovery sent) is opened again by the next run.
  const due = [...current].filter(([tail]) => {
    const lastSent = open.get(prefix + tail);
    return lastSent === undefined || lastSent < resendBefore;
  });
  await eachAtMost(due, LEDGER_CALLS_IN_FLIGHT, async ([tail, alert]) => {
    const key = prefix + tail;
    if (!(await ledger.claim(key, at, resendBefore))) return;
    try {
      await channel.send(alert);
    } catch (err) {
      await ledger.release(key);
      onFailure(channel.name, err);
    }
  });
  // Open when read, not raised by this run, and checked by it: cleared. An incident another
  // instance opens meanwhile is seen by the next run.
  const cleared = [...open.keys()].flatMap((key) => {
    const tail = key.slice(prefix.length);
    const incident = parseIncidentKey(tail);
    return incident && !current.has(tail) && checked(incident) ? [{ key, incident }] : [];
  });
  await eachAtMost(cleared, LEDGER_CALLS_IN_FLIGHT, async ({ key, incident }) => {
    const lastSent = await ledger.release(key);
    if (lastSent === undefined) return; // another instance closed it
    try {
      await channel.send(recoveryAlert(incident, when));
    } catch (err) {
      await ledger.record(key, lastSent);
      onFailure(channel.name, err);
    }
  });
}

/** The run's alerts by incident (key tail), the first of each: one message per incident, also within one run. */
function byIncident(alerts: readonly Alert[]): Map<string, Alert> {
  const first = new Map<string, Alert>();
  for (const alert of alerts) if (!first.has(incidentKey(alert))) first.set(incidentKey(alert), alert);
  return first;
}

/** Runs `step` on every item, at most `width` at a time: ledger calls overlap without flooding it. */
async function eachAtMost<T>(
  items: readonly T[],
  width: number,
  step: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await step(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** A notifier that sends nothing (no notifications section). */
export const silentNotifier: Notifier = { report: async () => {} };
