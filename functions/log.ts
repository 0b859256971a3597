// Structured JSON logs that Cloud Logging understands (severity, message, labels), one line each.
// Values that look like credentials are redacted before anything is written.

import { scrub } from "./core/redact.js";

export type Severity = "DEBUG" | "INFO" | "NOTICE" | "WARNING" | "ERROR" | "CRITICAL";

/** Credentials scrubbed (core/redact.ts): the one scrubber every log line goes through. */
export function redact(text: string): string {
  return scrub(text);
}

export interface LogFields {
  /** The event name alert policies match on: "snapshot_failed", "verification_failed", "stale_repo". */
  event?: string;
  repo?: string;
  snapshotId?: string;
  [key: string]: unknown;
}

export type LogWriter = (line: string) => void;

let writer: LogWriter = (line) => process.stdout.write(line + "\n");

/** Tests capture log lines here. */
export function setLogWriter(next: LogWriter): LogWriter {
  const previous = writer;
  writer = next;
  return previous;
}

export function log(severity: Severity, message: string, fields: LogFields = {}): void {
  const entry = {
    severity,
    message,
    ...fields,
    time: new Date().toISOString(),
    "logging.googleapis.com/labels": {
      component: "infinity-backup",
      ...(fields.repo ? { repo: String(fields.repo) } : {}),
    },
  };
  writer(redact(JSON.stringify(entry)));
}
