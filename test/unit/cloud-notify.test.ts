// The cloud side of notifications: backupHealth sends each stale repository to the notifier (and
// nothing for a fresh one), on top of its answer.
import { fileURLToPath } from "node:url";
import type { Request, Response } from "@google-cloud/functions-framework";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { CloudApp } from "../../functions/app.js";
import { loadSettings } from "../../functions/config/settings.js";
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

async function healthWith(hoursLater: number): Promise<Alert[]> {
  const takenAt = "2026-11-27T10:00:00.000Z";
  const clock = new ManualClock(takenAt);
  const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
  open.push(index);
  await index.commit(
    snapshot({ id: "s1", takenAt, verification: { verdict: "ok", level: "deep", at: takenAt } as never }),
  );
  clock.advance(hoursLater * 3600 * 1000);
  const sent: Alert[] = [];
  const app = {
    clock,
    index,
    settings: await loadSettings(CONFIG, { BACKUP_LOCATION: "gs://archives" }),
    notifier: { notify: async (a: Alert) => void sent.push(a) },
  } as unknown as CloudApp;
  const response = { status: () => response, json: () => {}, send: () => {}, set: () => response };
  restoreLog ??= setLogWriter(() => {});
  await healthHandler(async () => app)({ headers: {} } as Request, response as unknown as Response);
  return sent;
}

describe("backupHealth notifies", () => {
  it("a repository older than the RPO is sent as stale, naming it and how old", async () => {
    const sent = await healthWith(72);
    expect(sent).toEqual([
      {
        kind: "repository-stale",
        repo: "acme/widget",
        snapshot: "s1",
        why: "stale: last backed up 72 h ago",
        when: expect.any(String),
      },
    ]);
  });

  it("a fresh repository is not sent", async () => {
    expect(await healthWith(1)).toEqual([]);
  });
});
