// The email channel: one plain-text mail per alert over SMTP (nodemailer). The password comes from
// the environment (SMTP_PASSWORD), never the config file, and is cut out of any error it reaches.
import { createTransport } from "nodemailer";
import { alertText, alertTitle } from "../../core/alerts.js";
import type { AlertChannel } from "../../core/incidents.js";
import type { Alert } from "../../core/ports.js";
import { scrub } from "../../core/redact.js";

export interface EmailOptions {
  to: string[];
  from: string;
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  password?: string;
  /** The oldest TLS accepted (network.minTlsVersion). */
  minTlsVersion?: "TLSv1.2" | "TLSv1.3";
  /** Test servers with a self-signed certificate only. */
  rejectUnauthorized?: boolean;
}

export class EmailChannelError extends Error {}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1)$/i;

export function emailChannel(o: EmailOptions): AlertChannel {
  const transport = createTransport({
    host: o.host,
    port: o.port,
    secure: o.secure,
    // The password never crosses the network in clear: STARTTLS is required for a login, except
    // to this machine (a local relay, tests).
    requireTLS: !o.secure && !!o.user && !LOOPBACK.test(o.host),
    ...(o.user ? { auth: { user: o.user, pass: o.password ?? "" } } : {}),
    tls: {
      ...(o.minTlsVersion ? { minVersion: o.minTlsVersion } : {}),
      ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const name = `email ${o.host}:${o.port}`;
  return {
    name,
    async send(alert: Alert) {
      try {
        await transport.sendMail({
          from: o.from,
          to: o.to,
          subject: alertTitle(alert),
          text: alertText(alert),
        });
      } catch (err) {
        let why = scrub((err as Error).message ?? String(err));
        if (o.password) why = why.split(o.password).join("***");
        throw new EmailChannelError(`${name}: ${why}`);
      }
    },
  };
}
