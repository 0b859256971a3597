// Key rotation in the cloud (issue 11): the rotateKeys function over the Firestore emulator (index
// and key records) and the Cloud KMS stand-in. A rotation that crashes midway (the nth write of a
// key record fails) leaves every archive readable, and running it again finishes the work. After
// the KMS key's new primary version rewraps every repository key, the old version is disabled and
// every archive still opens; so does a snapshot taken afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FirestoreAuditLog } from "../../functions/adapters/gcp/firestore-audit-log.js";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { FirestoreKeyRecords } from "../../functions/adapters/gcp/firestore-key-records.js";
import { KmsKeyWrapper } from "../../functions/adapters/gcp/kms-key-wrapper.js";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import type { CloudApp } from "../../functions/app.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import type { Deps } from "../../functions/core/deps.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { KeyRecords } from "../../functions/core/ports.js";
import { readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { rotateKeysHandler } from "../../functions/handlers/keys.js";
import { firestoreClient, uniqueName } from "../helpers/emulators.js";
import { callHttp, testAuthorizer } from "../helpers/http-call.js";
import { failNth, faulty, type Faulty } from "../helpers/faults.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { KMS_TEST_KEY, KmsStandin } from "../helpers/kms-standin.js";

const REPOS = ["acme/a", "acme/b", "acme/c"];
const firestore = firestoreClient();
const root = `rotate-keys/${uniqueName("run")}`;
let scratch: string;
let kms: KmsStandin;
let records: FirestoreKeyRecords;
let trail: FirestoreAuditLog;
let deps: Deps & { keyRecords: KeyRecords };
let app: CloudApp;
const snapshots: Snapshot[] = [];
const v1 = `${KMS_TEST_KEY}/cryptoKeyVersions/1`;

/** Calls rotateKeys as the admin, with `keyRecords` as the function's key records. */
async function rotate(body: unknown, keyRecords: KeyRecords = records) {
  app = { ...app, keyRecords } as CloudApp;
  return callHttp(
    rotateKeysHandler(async () => app),
    "ada@example.com",
    body,
  );
}

/** Reads every archive whole (each segment authenticated); resolves with the files of each. */
async function readAll(): Promise<string[][]> {
  const out: string[][] = [];
  for (const snapshot of snapshots) {
    const files: string[] = [];
    await readSnapshotArchive(deps, snapshot, async (path, body) => {
      files.push(path);
      for await (const _ of body) {
        // drained: every byte passes the segment's authentication
      }
    });
    out.push(files);
  }
  return out;
}

async function rotateEntries(): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  for await (const s of trail.stored()) {
    const entry = s.value as AuditEntry;
    if (entry.action === "key.rotate") all.push(entry);
  }
  return all;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-rotate-cloud-"));
  kms = await KmsStandin.start();
  records = new FirestoreKeyRecords({ firestore, root });
  trail = new FirestoreAuditLog({ firestore, root });
  const clock = { now: () => new Date() };
  deps = {
    store: new FsBlobStore({ root: join(scratch, "archives") }),
    index: new FirestoreSnapshotIndex({ firestore, root }),
    keys: new KmsKeyWrapper({ client: kms.client(), keyName: KMS_TEST_KEY }),
    keyRecords: records,
    audit: trail,
    clock,
  };
  for (const repo of REPOS) {
    const source = await richRepo(await mkdtemp(join(scratch, "src-")));
    snapshots.push((await snapshotRepo(deps, repo, { url: source }, { actor: "test" })).snapshot!);
    await pushCommit(source, "main", "two.txt", "two\n");
    snapshots.push(
      (await snapshotRepo(deps, repo, { url: source }, { actor: "test", incremental: false })).snapshot!,
    );
  }
  app = {
    ...deps,
    authorizer: testAuthorizer(),
  } as unknown as CloudApp;
}, 120_000);

afterAll(async () => {
  await firestore.recursiveDelete(firestore.doc(root));
  await firestore.terminate();
  await kms?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("rotateKeys on Firestore and Cloud KMS", () => {
  it("a repository key rotation that fails at its second data key record leaves every archive readable; run again, it finishes", async () => {
    const expected = await readAll();
    const crashing = faulty(records, [failNth("putDataKey", 2)]) as KeyRecords & Faulty;
    const crashed = await rotate({ repo: "acme/a" }, crashing);
    expect(crashed.status).toBeGreaterThanOrEqual(500);
    expect(crashing.faults.injected.putDataKey).toBe(1);
    // Midway: the new key beside the old one, one data key record moved, nothing unreadable.
    const midway = (await records.keySet("acme/a"))!;
    expect(midway.keys).toHaveLength(2);
    expect(new Set((await records.dataKeys("acme/a")).map((r) => r.keyId)).size).toBe(2);
    expect(await readAll()).toEqual(expected);

    const done = await rotate({ repo: "acme/a" });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const set = (await records.keySet("acme/a"))!;
    expect(set.keys.map((k) => k.id)).toEqual([done.body.to]);
    expect((await records.dataKeys("acme/a")).map((r) => r.keyId)).toEqual([done.body.to, done.body.to]);
    expect(await readAll()).toEqual(expected);
    expect((await rotateEntries()).map((e) => [e.repo, e.outcome])).toEqual([
      ["acme/a", "failure"],
      ["acme/a", "success"],
    ]);
  });

  it("a rewrap under the new primary version that fails midway leaves every archive readable; run again, the old version is disabled and all still open", async () => {
    const expected = await readAll();
    const v2 = kms.rotate();
    const crashing = faulty(records, [failNth("updateKeySet", 2)]) as KeyRecords & Faulty;
    const crashed = await rotate({ data: {} }, crashing);
    expect(crashed.status).toBeGreaterThanOrEqual(500);
    const refs = async () =>
      (
        await Promise.all(REPOS.map(async (r) => (await records.keySet(r))!.keys.map((k) => k.keyRef)))
      ).flat();
    // Midway: one repository moved to v2, the others still on v1; every archive opens.
    expect((await refs()).sort()).toEqual([v1, v1, v2].sort());
    expect(await readAll()).toEqual(expected);

    const done = await rotate({});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ kind: "rewrap", rewrapped: 3, to: [v2] });
    expect(await refs()).toEqual([v2, v2, v2]);
    // A second run changes nothing that matters: still every key under v2.
    expect((await rotate({})).status).toBe(200);
    expect(await refs()).toEqual([v2, v2, v2]);

    kms.setVersionState(v1, "DISABLED");
    expect(await readAll()).toEqual(expected);
    const source = await richRepo(await mkdtemp(join(scratch, "after-")));
    const { snapshot } = await snapshotRepo(deps, "acme/d", { url: source }, { actor: "test" });
    snapshots.push(snapshot!);
    expect((await readAll()).at(-1)).toContain("git/repo.bundle");
    const entries = (await rotateEntries()).filter((e) => e.repo === undefined);
    expect(entries.map((e) => e.outcome)).toEqual(["failure", "success", "success"]);
    expect(entries.at(-1)!.actor).toBe("user:ada@example.com");
  });
});
