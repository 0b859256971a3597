// Structured JSON logs that Cloud Logging understands (severity, message, labels), one line each.
// Values that look like credentials are redacted before anything is written.

export type Severity = "DEBUG" | "INFO" | "NOTICE" | "WARNING" | "ERROR" | "CRITICAL";

const SECRET_PATTERNS: RegExp[] = [
  /gh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /(authorization:\s*)(basic|bearer|token)\s+[^\s"',]+/gi,
  /(x-access-token:)[^@\s"']+/gi,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /(\/\/)[^/@\s:]+:[^/@\s]+@/g, // credentials in a URL
];

export function redact(text: string): string {
  return SECRET_PATTERNS.reduce(
    (out, pattern) =>
      out.replace(pattern, (_m, lead?: string) => `${typeof lead === "string" ? lead : ""}[REDACTED]`),
    text,
  );
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
