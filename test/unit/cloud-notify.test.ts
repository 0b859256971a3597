// The cloud side of notifications: backupHealth sends a stale repository once however often it is
// called (another instance sharing the ledger too), nothing for a fresh one, and a recovery when
// the repository is fresh again; restoreDrill's answer and its incident.
import { fileURLToPath } from "node:url";
import type { Request, Response } from "@google-cloud/functions-framework";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { MemoryAlertLedger } from "../../functions/adapters/notify/memory-alert-ledger.js";
import type { CloudApp } from "../../functions/app.js";
import { loadSettings } from "../../functions/config/settings.js";
import { incidentNotifier } from "../../functions/core/incidents.js";
import type { Alert } from "../../functions/core/ports.js";
import { healthHandler } from "../../functions/handlers/health.js";
import { setLogWriter } from "../../functions/log.js";
import { ManualClock, snapshot } from "../contract/snapshot-index.js";

const CONFIG = fileURLToPath(new URL("../../config/backup-config.yaml", import.meta.url));
const open: SqliteSnapshotIndex[] = [];
let restoreLog: ReturnType<typeof setLogWriter> | undefined;
afterEach(() => {
  for (const index of open.splice(0)) index.close();
  if (restoreLog) setLogWriter(restoreLog);
  restoreLog = undefined;
});

const takenAt = "2026-11-27T10:00:00.000Z";

async function deployment() {
  const clock = new ManualClock(takenAt);
  const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
  open.push(index);
  await index.commit(
    snapshot({ id: "s1", takenAt, verification: { verdict: "ok", level: "deep", at: takenAt } as never }),
  );
  const sent: Alert[] = [];
  const ledger = new MemoryAlertLedger(); // shared by the instances, as Firestore is
  const settings = await loadSettings(CONFIG, { BACKUP_LOCATION: "gs://archives" });
  const instance = () =>
    ({
      clock,
      index,
      settings,
      notifier: incidentNotifier(
        [{ channel: { name: "hook", send: async (a) => void sent.push(a) }, id: "0:hook" }],
        ledger,
        clock,
        (name, err) => {
          throw new Error(`${name}: ${String(err)}`);
        },
      ),
    }) as unknown as CloudApp;
  const response = { status: () => response, json: () => {}, send: () => {}, set: () => response };
  restoreLog ??= setLogWriter(() => {});
  const call = (app: CloudApp) =>
    healthHandler(async () => app)({ headers: {} } as Request, response as unknown as Response);
  return { clock, index, sent, instance, call };
}

describe("backupHealth notifies", () => {
  it("a repository older than the RPO is sent once, naming it and how old, by either instance", async () => {
    const d = await deployment();
    d.clock.advance(72 * 3600 * 1000);
    const [a, b] = [d.instance(), d.instance()];
    await Promise.all([d.call(a), d.call(b)]);
    d.clock.advance(30 * 60 * 1000);
    await d.call(b); // the next scheduled check: still stale, nothing new
    expect(d.sent).toEqual([
      {
        kind: "repository-stale",
        repo: "acme/widget",
        snapshot: "s1",
        why: "stale: last backed up 72 h ago",
        when: expect.any(String),
      },
    ]);
  });

  it("a fresh repository is not sent; one fresh again after being stale gets a recovery", async () => {
    const d = await deployment();
    d.clock.advance(3600 * 1000);
    await d.call(d.instance());
    expect(d.sent).toEqual([]);
    d.clock.advance(71 * 3600 * 1000);
    await d.call(d.instance());
    const at = d.clock.now().toISOString();
    await d.index.commit(
      snapshot({ id: "s2", takenAt: at, verification: { verdict: "ok", level: "deep", at } as never }),
    );
    await d.call(d.instance());
    await d.call(d.instance());
    expect(d.sent.map((a) => [a.kind, a.repo, a.resolved ?? false])).toEqual([
      ["repository-stale", "acme/widget", false],
      ["repository-stale", "acme/widget", true],
    ]);
    expect(d.sent[1]!.why).toBe("the repository's latest backup is within the promise again");
  });
});
