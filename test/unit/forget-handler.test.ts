// forgetRepo, the cloud function: only the admin role may forget (others get 403 and an audit
// entry, nothing destroyed); an admin with the name typed back destroys the repository's keys, and
// its data keys no longer open; a wrong confirmation is a 400 that destroys nothing.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { CloudApp } from "../../functions/app.js";
import { ShreddedError } from "../../functions/core/errors.js";
import { openArchiveKey, sealArchiveKey } from "../../functions/core/keys/repository-keys.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { forgetHandler } from "../../functions/handlers/forget.js";
import { callHttp, testAuthorizer } from "../helpers/http-call.js";

const SNAPSHOT = "20261201T000000000Z-aaaaaaaa";
let dir: string;
let index: SqliteSnapshotIndex;
let events: AuditEvent[];
let app: CloudApp;

async function call(token: string, body: unknown) {
  return callHttp(
    forgetHandler(async () => app),
    token,
    body,
  );
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "infinity-forget-fn-"));
  index = new SqliteSnapshotIndex({ path: join(dir, "index.sqlite") });
  events = [];
  const keys = await KeyFileWrapper.open(join(dir, "keys.json"), { create: true });
  const clock = { now: () => new Date("2026-12-01T12:00:00.000Z") };
  app = {
    index,
    keys,
    keyRecords: index.keyRecords(),
    clock,
    audit: { record: async (e: AuditEvent) => void events.push(e) },
    authorizer: testAuthorizer(),
  } as unknown as CloudApp;
  await sealArchiveKey({ ...app, keyRecords: index.keyRecords() }, "acme/app", SNAPSHOT, randomBytes(32));
});

afterEach(async () => {
  index.close();
  await rm(dir, { recursive: true, force: true });
});

const snapshot = { id: SNAPSHOT, repo: "acme/app" } as Snapshot;

describe("forgetRepo", () => {
  it("refuses a caller outside the admin role with 403 and an audit entry; nothing is destroyed", async () => {
    const res = await call("rita@example.com", { repo: "acme/app", reason: "GDPR 1", confirm: "acme/app" });
    expect(res.status).toBe(403);
    expect(events).toEqual([
      expect.objectContaining({ action: "authz.denied", repo: "acme/app", actor: "user:rita@example.com" }),
    ]);
    expect((await openArchiveKey(app, snapshot)).length).toBe(32);
  });

  it("refuses a name not typed back with 400; nothing is destroyed", async () => {
    const res = await call("ada@example.com", { repo: "acme/app", reason: "GDPR 1", confirm: "acme/ap" });
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toContain("type the repository name to confirm");
    expect((await openArchiveKey(app, snapshot)).length).toBe(32);
  });

  it("an admin forgets: the keys are destroyed, the data key no longer opens, the audit names who and why", async () => {
    const res = await call("ada@example.com", {
      data: { repo: "acme/app", reason: "GDPR 1", confirm: "acme/app" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      repo: "acme/app",
      already: false,
      shredding: { by: "user:ada@example.com" },
    });
    await expect(openArchiveKey(app, snapshot)).rejects.toThrow(ShreddedError);
    expect(events.at(-1)).toMatchObject({
      action: "key.forget",
      repo: "acme/app",
      actor: "user:ada@example.com",
      outcome: "success",
      details: { reason: "GDPR 1" },
    });
  });
});
