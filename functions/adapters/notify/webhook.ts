// A chat webhook channel (Slack-compatible): POSTs {"text": ..., plus the alert's fields} as JSON.
// The URL's path is the webhook's secret (Slack, Teams): the channel is named by host only, and no
// error or log line holds the URL.
import { alertText, alertTitle } from "../../core/alerts.js";
import type { AlertChannel } from "../../core/incidents.js";
import type { Alert } from "../../core/ports.js";

export class WebhookChannelError extends Error {}

export function webhookChannel(url: string, options: { timeoutMs?: number } = {}): AlertChannel {
  const host = new URL(url).host;
  const name = `webhook ${host}`;
  return {
    name,
    async send(alert: Alert) {
      const body = JSON.stringify({
        text: `${alertTitle(alert)}\n${alertText(alert)}`,
        kind: alert.kind,
        repo: alert.repo,
        ...(alert.snapshot ? { snapshot: alert.snapshot } : {}),
        why: alert.why,
        when: alert.when,
        ...(alert.resolved ? { resolved: true } : {}),
      });
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (err) {
        // fetch's own messages may quote the URL: only the cause's code is kept.
        const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        throw new WebhookChannelError(`${name}: not reached (${code})`);
      }
      await res.body?.cancel().catch(() => {});
      if (!res.ok) throw new WebhookChannelError(`${name}: HTTP ${res.status}`);
    },
  };
}
