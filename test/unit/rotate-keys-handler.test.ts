// rotateKeys, the cloud function: only the admin role may rotate (no token 401, another role 403,
// each with an audit entry, no key changed); a body that is wrong is a 400 naming the field; an
// admin's {repo} gives the repository a new key and {} rewraps every repository key under the
// wrapper's current key. Either way the data keys still open, and `key.rotate` names who did it.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { CloudApp } from "../../functions/app.js";
import { openArchiveKey, sealArchiveKey } from "../../functions/core/keys/repository-keys.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { AuditEvent, RepositoryKeySet } from "../../functions/core/ports.js";
import { rotateKeysHandler } from "../../functions/handlers/keys.js";
import { callHttp, testAuthorizer } from "../helpers/http-call.js";

const SNAPSHOTS = ["20261201T000000000Z-aaaaaaaa", "20261201T010000000Z-bbbbbbbb"];
let dir: string;
let index: SqliteSnapshotIndex;
let keys: KeyFileWrapper;
let events: AuditEvent[];
let app: CloudApp;
const dataKeys = new Map<string, Buffer>();

async function call(token: string | undefined, body: unknown) {
  return callHttp(
    rotateKeysHandler(async () => app),
    token,
    body,
  );
}

/** Every data key of every sealed snapshot opens to the bytes it was sealed with. */
async function expectAllOpen(): Promise<void> {
  for (const [key, clear] of dataKeys) {
    const [repo, id] = key.split(" ") as [string, string];
    expect(await openArchiveKey(app, { id, repo } as Snapshot)).toEqual(clear);
  }
}

const keySet = async (repo: string): Promise<RepositoryKeySet> => (await index.keyRecords().keySet(repo))!;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "infinity-rotate-fn-"));
  index = new SqliteSnapshotIndex({ path: join(dir, "index.sqlite") });
  events = [];
  keys = await KeyFileWrapper.open(join(dir, "keys.json"), { create: true });
  const clock = { now: () => new Date("2026-12-01T12:00:00.000Z") };
  app = {
    index,
    keys,
    keyRecords: index.keyRecords(),
    clock,
    audit: { record: async (e: AuditEvent) => void events.push(e) },
    authorizer: testAuthorizer(),
  } as unknown as CloudApp;
  dataKeys.clear();
  for (const repo of ["acme/app", "acme/lib"]) {
    for (const id of SNAPSHOTS) {
      const clear = randomBytes(32);
      await sealArchiveKey({ ...app, keyRecords: index.keyRecords() }, repo, id, clear);
      dataKeys.set(`${repo} ${id}`, clear);
    }
  }
});

afterEach(async () => {
  index.close();
  await rm(dir, { recursive: true, force: true });
});

describe("rotateKeys", () => {
  it("refuses a call without a token (401) and a caller outside the admin role (403), each audited; no key changes", async () => {
    const before = await keySet("acme/app");
    const anonymous = await call(undefined, { repo: "acme/app" });
    expect(anonymous.status).toBe(401);
    const restorer = await call("rita@example.com", { repo: "acme/app" });
    expect(restorer.status).toBe(403);
    expect(String(restorer.body.error)).toContain("admin role");
    expect(events).toEqual([
      expect.objectContaining({ action: "authz.denied", actor: "unauthenticated", repo: "acme/app" }),
      expect.objectContaining({ action: "authz.denied", actor: "user:rita@example.com", repo: "acme/app" }),
    ]);
    expect(await keySet("acme/app")).toEqual(before);
  });

  it("a bad body is a 400 that names the field; no key changes", async () => {
    const before = await keySet("acme/app");
    const notAName = await call("ada@example.com", { repo: "not a repo" });
    expect(notAName.status).toBe(400);
    expect(String(notAName.body.error)).toMatch(/^invalid rotateKeys request: repo: /);
    const unknown = await call("ada@example.com", { repo: "acme/app", everything: true });
    expect(unknown.status).toBe(400);
    expect(String(unknown.body.error)).toContain("everything");
    expect(await keySet("acme/app")).toEqual(before);
    expect(events.filter((e) => e.action === "key.rotate")).toEqual([]);
  });

  it("{repo}: a new key for that repository only; its data keys open; audited as key.rotate", async () => {
    const before = await keySet("acme/app");
    const lib = await keySet("acme/lib");
    const res = await call("ada@example.com", { data: { repo: "acme/app" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ kind: "repository", repo: "acme/app", dataKeys: 2 });
    const after = await keySet("acme/app");
    expect(after.keys.map((k) => k.id)).toEqual([res.body.to]);
    expect(before.keys.map((k) => k.id)).not.toContain(res.body.to);
    expect(await keySet("acme/lib")).toEqual(lib);
    await expectAllOpen();
    expect(events.at(-1)).toMatchObject({
      action: "key.rotate",
      repo: "acme/app",
      actor: "user:ada@example.com",
      outcome: "success",
      details: { kind: "repository", dataKeys: 2 },
    });
  });

  it("{}: every repository key rewrapped under the new primary key; the old key can go", async () => {
    const newRef = await keys.rotate();
    const res = await call("ada@example.com", {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ kind: "rewrap", rewrapped: 2, to: [newRef] });
    for (const repo of ["acme/app", "acme/lib"])
      expect((await keySet(repo)).keys.map((k) => k.keyRef)).toEqual([newRef]);
    await expectAllOpen();
    expect(events.filter((e) => e.action === "key.rotate")).toEqual([
      expect.objectContaining({ actor: "user:ada@example.com", outcome: "success" }),
    ]);
  });
});
