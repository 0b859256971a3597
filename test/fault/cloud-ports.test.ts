// The fault suite's cases that matter most, on the cloud adapters: GcsBlobStore on fake-gcs-server
// and FirestoreSnapshotIndex on the Firestore emulator, under the retrying wrappers the wiring puts
// around them. A transient commit failure is retried; an upload cut short leaves no object and no
// record; a bit flipped on read is caught by verify and by restore; three concurrent copies of a
// snapshot request make one snapshot (the Firestore lease and commit are transactions).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FirestoreSnapshotIndex } from "../../functions/adapters/gcp/firestore-index.js";
import { GcsBlobStore } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { InProcessPublisher } from "../../functions/adapters/local/in-process-publisher.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { ConfigSourceHost } from "../../functions/adapters/local/config-sources.js";
import { backupRepository, type BackupDeps } from "../../functions/core/backup.js";
import { ArchiveCorruptError, LeaseHeldError } from "../../functions/core/errors.js";
import type { SourceRepo } from "../../functions/core/model.js";
import type { AuditEvent } from "../../functions/core/ports.js";
import { systemClock } from "../../functions/core/ports.js";
import { restoreRepo } from "../../functions/core/restore.js";
import {
  retryingIndex,
  retryingKeys,
  retryingStore,
  type RetryPolicy,
} from "../../functions/core/retrying-ports.js";
import { runSnapshotRequest } from "../../functions/core/snapshot-request.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import { diskFull, failOnce, faultyIndex, faultyStore, flipBitOnRead, type Rule } from "../helpers/faults.js";
import { firestoreClient, storageClient, uniqueName } from "../helpers/emulators.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";

const FAST: RetryPolicy = { delaysMs: [5, 5, 5] };
const actor = "fault-test";
const noVerify = { incremental: false as const, verify: false as const };
const storage = storageClient();
const firestore = firestoreClient({ projectId: uniqueName("fault") });
const bucket = uniqueName("fault-archives");
const root = `tests/${uniqueName("fault-root")}`;
let scratch: string;
let source: string;
let keys: KeyFileWrapper;
let repo: SourceRepo;
let sources: ConfigSourceHost;
let n = 0;
const audit: AuditEvent[] = [];

const index = () => new FirestoreSnapshotIndex({ firestore, root, clock: systemClock });
const store = () => new GcsBlobStore({ storage, bucket, clock: systemClock });

function deps(faults: { store?: Rule[]; index?: Rule[] } = {}): BackupDeps {
  return {
    index: retryingIndex(faultyIndex(index(), ...(faults.index ?? [])), FAST),
    store: retryingStore(faultyStore(store(), ...(faults.store ?? [])), FAST),
    keys: retryingKeys(keys, FAST),
    audit: { record: async (e) => void audit.push(e) },
    clock: systemClock,
    sources,
  };
}

async function objects(): Promise<string[]> {
  const [files] = await storage.bucket(bucket).getFiles();
  return files.map((f) => f.name).sort();
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-cloud-fault-"));
  source = await richRepo(scratch);
  await storage.createBucket(bucket);
  keys = await KeyFileWrapper.open(join(scratch, "keys.json"), { create: true });
  sources = new ConfigSourceHost([{ name: "acme/app", url: source }], scratch);
  repo = (await sources.getRepo("acme/app"))!;
}, 120_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("faults on the cloud adapters (emulators)", () => {
  it("a Firestore commit failing once is retried: one snapshot, and it restores from GCS", async () => {
    await pushCommit(source, "main", `c-${++n}.txt`, `${n}\n`);
    const made = await backupRepository(deps({ index: [failOnce("commit")] }), repo, noVerify, { actor });
    expect(made.snapshot?.outcome).toBe("created");
    expect(await index().list(repo.name)).toHaveLength(1);
    const target = join(scratch, "restored.git");
    await restoreRepo(deps(), { repo: repo.name, target: { kind: "path", path: target } }, { actor });
    expect(await refsOf(target)).toBe(await refsOf(source));
    expect(await objectsOf(target)).toBe(await objectsOf(source));
  });

  it("an upload cut short (the disk behind it full): no object in the bucket, no record", async () => {
    await pushCommit(source, "main", `c-${++n}.txt`, `${n}\n`);
    const before = await objects();
    const records = (await index().list(repo.name)).length;
    await expect(
      backupRepository(deps({ store: [diskFull(700)] }), repo, noVerify, { actor }),
    ).rejects.toThrow(/ENOSPC/);
    expect(await objects()).toEqual(before);
    expect(await index().list(repo.name)).toHaveLength(records);
  });

  it("a bit flipped on read from GCS: verify records failed, restore refuses and leaves nothing", async () => {
    const latest = (await index().latest(repo.name))!;
    const outcome = await verifySnapshot(deps({ store: [flipBitOnRead(900)] }), repo.name, latest.id, {
      level: "quick",
      actor,
    });
    expect(outcome.verification.verdict).toBe("failed");
    const target = join(scratch, "damaged.git");
    await expect(
      restoreRepo(
        deps({ store: [flipBitOnRead(900)] }),
        { repo: repo.name, target: { kind: "path", path: target } },
        { actor },
      ),
    ).rejects.toBeInstanceOf(ArchiveCorruptError);
    await expect(stat(target)).rejects.toThrow(/ENOENT/);
    expect(
      (await verifySnapshot(deps(), repo.name, latest.id, { level: "quick", actor })).verification.verdict,
    ).toBe("ok");
  });

  it("three concurrent copies of a snapshot request on Firestore make one snapshot", async () => {
    await pushCommit(source, "main", `c-${++n}.txt`, `${n}\n`);
    const before = (await index().list(repo.name)).length;
    const request = {
      v: 1 as const,
      repo: repo.name,
      reason: "event" as const,
      requestedAt: new Date().toISOString(),
    };
    const deliver = async (): Promise<string> => {
      for (;;) {
        try {
          const out = await runSnapshotRequest(
            { ...deps(), publisher: new InProcessPublisher() },
            request,
            noVerify,
            {
              actor,
              deadlineMs: 60_000,
            },
          );
          return "snapshot" in out && out.snapshot ? out.snapshot.outcome : "served";
        } catch (err) {
          if (!(err instanceof LeaseHeldError)) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const outcomes = await Promise.all([deliver(), deliver(), deliver()]);
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    const after = await index().list(repo.name);
    expect(after).toHaveLength(before + 1);
    expect(after[0]!.refs).toEqual(
      Object.fromEntries(
        (await refsOf(source))
          .split("\n")
          .filter(Boolean)
          .map((l) => [l.split(" ")[2]!, l.split(" ")[0]!]),
      ),
    );
  });
});
