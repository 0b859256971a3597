// AuditLog as structured log entries: in the cloud, Cloud Logging keeps them (and a sink can
// route them to a locked bucket); every snapshot, verification, prune and restore is one entry.
import type { AuditEvent, AuditLog } from "../../core/ports.js";
import { log } from "../../log.js";

export class LogAuditLog implements AuditLog {
  async record(event: AuditEvent): Promise<void> {
    log(event.outcome === "success" ? "NOTICE" : "ERROR", `audit ${event.action}`, {
      event: `audit.${event.action}`,
      audit: true,
      ...event,
    });
  }
}
