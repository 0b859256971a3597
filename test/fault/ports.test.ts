// Every port made to fail the ways a machine and a network do (test/helpers/faults.ts), under the
// same retrying wrappers the wiring puts around the adapters: a transient fault is retried and the
// work completes; a permanent one fails cleanly with nothing committed; damaged bytes on read are
// caught by verify and by restore, never restored silently.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { InProcessPublisher } from "../../functions/adapters/local/in-process-publisher.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { backupAll, backupRepository, type BackupDeps } from "../../functions/core/backup.js";
import { ArchiveCorruptError, KeyError } from "../../functions/core/errors.js";
import type { SourceRepo } from "../../functions/core/model.js";
import { repoPrefix } from "../../functions/core/object-keys.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import {
  retryingIndex,
  retryingKeys,
  retryingStore,
  type RetryPolicy,
} from "../../functions/core/retrying-ports.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import {
  delay,
  diskFull,
  failAlways,
  failNth,
  failOnce,
  faultyIndex,
  faultyKeys,
  faultyPublisher,
  faultySource,
  faultyStore,
  flipBitOnRead,
  keyRefused,
  keyUnavailable,
  permanent,
  sourceUnreachable,
  transient,
  truncateOnRead,
  type Rule,
} from "../helpers/faults.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "fault-test";
/** The wiring's retry, with short waits so that a test of four tries takes milliseconds. */
const FAST: RetryPolicy = { delaysMs: [5, 5, 5] };
const noVerify = { incremental: false as const, verify: false as const };

let scratch: string;
let source: string;
let ws: TestWorkspace;
let app: App;
let repo: SourceRepo;
let n = 0;

interface Faults {
  store?: Rule[];
  index?: Rule[];
  keys?: Rule[];
  sources?: Rule[];
}

/** The local app's own adapters, the faults inside the retrying wrappers, as wiring.ts nests them. */
async function faultyDeps(faults: Faults): Promise<BackupDeps & { close(): void }> {
  const raw = new SqliteSnapshotIndex({ path: join(app.dataDir, "index.sqlite") });
  const keys = await KeyFileWrapper.open(join(app.dataDir, "keys.json"), { create: false });
  const index = faultyIndex(raw, ...(faults.index ?? []));
  const store = faultyStore(
    new FsBlobStore({ root: join(app.dataDir, "archives") }),
    ...(faults.store ?? []),
  );
  const wrapped = faultyKeys(keys, ...(faults.keys ?? []));
  return {
    index: retryingIndex(index, FAST),
    store: retryingStore(store, FAST),
    keys: retryingKeys(wrapped, FAST),
    // The index's key records (per-repository keys), from the same file, faulted with the index.
    keyRecords: raw.keyRecords(),
    audit: app.audit,
    clock: app.clock,
    sources: faultySource(app.sources, ...(faults.sources ?? [])),
    close: () => raw.close(),
  };
}

/** A change at the source, so the next backup has something new to store. */
async function change(): Promise<void> {
  n += 1;
  await pushCommit(source, "main", `fault-${n}.txt`, `change ${n}\n`);
}

async function archiveFiles(): Promise<string[]> {
  const root = join(app.dataDir, "archives");
  const files = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith(".ibk") || /\.tmp\//.test(f)).sort();
}

async function restoreAndCompare(deps: BackupDeps, id: string): Promise<void> {
  const target = join(scratch, `restored-${++n}.git`);
  await restoreRepo(
    deps,
    { repo: repo.name, snapshotId: id, target: { kind: "path", path: target } },
    { actor },
  );
  expect(await refsOf(target)).toBe(await refsOf(source));
  expect(await objectsOf(target)).toBe(await objectsOf(source));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-fault-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source, "acme/other": source });
  app = await ws.open();
  repo = (await app.sources.getRepo("acme/app"))!;
  // A first snapshot made without faults: it creates the key file the faulty runs reuse.
  await backupRepository(app, repo, noVerify, { actor });
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

beforeEach(change);

describe("BlobStore faults", () => {
  it("the disk fills mid-archive: the backup fails naming ENOSPC, no record, no object, no temp file; the rerun makes one snapshot", async () => {
    const before = await app.index.list(repo.name);
    const objects = await archiveFiles();
    const deps = await faultyDeps({ store: [diskFull(600)] });
    await expect(backupRepository(deps, repo, noVerify, { actor })).rejects.toThrow(/ENOSPC/);
    expect(await app.index.list(repo.name)).toEqual(before);
    expect(await archiveFiles()).toEqual(objects);
    expect((await app.index.attempts())[repo.name]).toMatchObject({ outcome: "failed" });
    deps.close();
    const rerun = await backupRepository(app, repo, noVerify, { actor });
    expect(rerun.snapshot?.outcome).toBe("created");
    expect(await app.index.list(repo.name)).toHaveLength(before.length + 1);
    await restoreAndCompare(app, rerun.snapshot!.snapshot.id);
  });

  it("put refused once (a 503): that run commits nothing; the retried run completes", async () => {
    const before = (await app.index.list(repo.name)).length;
    const deps = await faultyDeps({ store: [failOnce("put")] });
    await expect(backupRepository(deps, repo, noVerify, { actor })).rejects.toThrow(/injected transient/);
    expect(await app.index.list(repo.name)).toHaveLength(before);
    const rerun = await backupRepository(deps, repo, noVerify, { actor });
    expect(rerun.snapshot?.outcome).toBe("created");
    expect(await app.index.list(repo.name)).toHaveLength(before + 1);
    deps.close();
  });

  it("get failing once then working: verify and restore are retried and succeed", async () => {
    const made = (await backupRepository(app, repo, noVerify, { actor })).snapshot!.snapshot;
    const deps = await faultyDeps({ store: [failNth("get", 1), failNth("get", 2)] });
    const verdict = await verifySnapshot(deps, repo.name, made.id, { level: "quick", actor });
    expect(verdict.verification.verdict).toBe("ok");
    expect((deps.store as unknown as { faults: { calls: Record<string, number> } }).faults.calls.get).toBe(3);
    await restoreAndCompare(deps, made.id);
    deps.close();
  });

  for (const [name, rule] of [
    ["a bit flipped on read in the header", flipBitOnRead(20)],
    ["a bit flipped on read deep in the data", flipBitOnRead(1500, "every", 7)],
    ["truncated on read", truncateOnRead(900)],
    ["truncated on read to nothing", truncateOnRead(0)],
  ] as const) {
    it(`${name}: verify records a failed verdict; restore refuses and leaves no repository`, async () => {
      const made = (await backupRepository(app, repo, noVerify, { actor })).snapshot!.snapshot;
      expect(made.size).toBeGreaterThan(1500);
      const deps = await faultyDeps({ store: [rule] });
      const verdict = await verifySnapshot(deps, repo.name, made.id, { level: "quick", actor });
      expect(verdict.verification.verdict).toBe("failed");
      expect((await app.index.get(repo.name, made.id))?.verification?.verdict).toBe("failed");
      const target = join(scratch, `damaged-${++n}.git`);
      const restore = restoreRepo(
        deps,
        { repo: repo.name, snapshotId: made.id, target: { kind: "path", path: target } },
        { actor },
      );
      await expect(restore).rejects.toBeInstanceOf(ArchiveCorruptError);
      await expect(stat(target)).rejects.toThrow(/ENOENT/);
      const bundle = join(scratch, `damaged-${n}.bundle`);
      await expect(
        restoreRepo(
          deps,
          { repo: repo.name, snapshotId: made.id, target: { kind: "bundle-file", path: bundle } },
          { actor },
        ),
      ).rejects.toBeInstanceOf(ArchiveCorruptError);
      await expect(stat(bundle)).rejects.toThrow(/ENOENT/);
      deps.close();
      // The bytes at rest are whole: without the fault the same snapshot verifies.
      const clean = await verifySnapshot(app, repo.name, made.id, { level: "quick", actor });
      expect(clean.verification.verdict).toBe("ok");
    });
  }

  it("slow reads (300 ms before each open): verify still passes, restore still equals the source", async () => {
    const made = (await backupRepository(app, repo, noVerify, { actor })).snapshot!.snapshot;
    const deps = await faultyDeps({ store: [delay("get", 300)] });
    const t0 = Date.now();
    expect(
      (await verifySnapshot(deps, repo.name, made.id, { level: "deep", actor })).verification.verdict,
    ).toBe("ok");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    await restoreAndCompare(deps, made.id);
    deps.close();
  });

  it("a store that cannot be read at all (permanent): verify gives no verdict rather than a wrong one", async () => {
    const made = (await backupRepository(app, repo, noVerify, { actor })).snapshot!.snapshot;
    const deps = await faultyDeps({ store: [failAlways("get")] });
    await expect(verifySnapshot(deps, repo.name, made.id, { level: "quick", actor })).rejects.toThrow(
      /injected permanent/,
    );
    expect((await app.index.get(repo.name, made.id))?.verification).toBeUndefined();
    expect((deps.store as unknown as { faults: { calls: Record<string, number> } }).faults.calls.get).toBe(1);
    deps.close();
  });

  it("a delete failing once during prune is retried: the orphan is collected", async () => {
    const deps = await faultyDeps({ index: [failAlways("commit", transient("index unavailable"))] });
    await expect(backupRepository(deps, repo, noVerify, { actor })).rejects.toThrow(/index unavailable/);
    deps.close();
    const orphans = await orphanKeys();
    expect(orphans).toHaveLength(1);
    const pruning = await faultyDeps({ store: [failOnce("delete")] });
    const report = await pruneRepo(pruning, repo.name, app.settings.retention, {
      dryRun: false,
      actor,
      orphanGraceMs: 0,
    });
    expect(report.orphans.map((o) => o.key)).toEqual(orphans);
    expect(await orphanKeys()).toEqual([]);
    pruning.close();
  });
});

/** Archive objects of the repository that no index record names. */
async function orphanKeys(): Promise<string[]> {
  const named = new Set((await app.index.list(repo.name)).map((s) => s.objectKey));
  const keys: string[] = [];
  for await (const o of app.store.list(repoPrefix(repo.name))) if (!named.has(o.key)) keys.push(o.key);
  return keys;
}

describe("SnapshotIndex faults", () => {
  it("commit failing once (a busy index) is retried: exactly one snapshot, and it restores", async () => {
    const before = (await app.index.list(repo.name)).length;
    const deps = await faultyDeps({ index: [failOnce("commit")] });
    const made = await backupRepository(deps, repo, noVerify, { actor });
    expect(made.snapshot?.outcome).toBe("created");
    expect((deps.index as unknown as { faults: { calls: Record<string, number> } }).faults.calls.commit).toBe(
      2,
    );
    expect(await app.index.list(repo.name)).toHaveLength(before + 1);
    expect(await orphanKeys()).toEqual([]);
    await restoreAndCompare(app, made.snapshot!.snapshot.id);
    deps.close();
  });

  it("commit failing on every try: the first error is reported, no record, and prune collects the orphan", async () => {
    const before = await app.index.list(repo.name);
    const deps = await faultyDeps({ index: [failAlways("commit", transient("database or disk is full"))] });
    await expect(backupRepository(deps, repo, noVerify, { actor })).rejects.toThrow(
      /database or disk is full/,
    );
    expect((deps.index as unknown as { faults: { calls: Record<string, number> } }).faults.calls.commit).toBe(
      4,
    );
    deps.close();
    expect(await app.index.list(repo.name)).toEqual(before);
    const orphans = await orphanKeys();
    expect(orphans).toHaveLength(1);
    // Younger than the grace period: left alone. Past it: collected, and only it.
    const young = await pruneRepo(app, repo.name, app.settings.retention, { dryRun: false, actor });
    expect(young.orphans).toEqual([]);
    const report = await pruneRepo(app, repo.name, app.settings.retention, {
      dryRun: false,
      actor,
      orphanGraceMs: 0,
    });
    expect(report.orphans.map((o) => o.key)).toEqual(orphans);
    expect(await orphanKeys()).toEqual([]);
    for (const s of await app.index.list(repo.name)) expect(await app.store.stat(s.objectKey)).toBeDefined();
  });

  it("a permanent commit refusal is not retried and commits nothing", async () => {
    const before = (await app.index.list(repo.name)).length;
    const deps = await faultyDeps({ index: [failAlways("commit", permanent("schema too new"))] });
    await expect(backupRepository(deps, repo, noVerify, { actor })).rejects.toThrow(/schema too new/);
    expect((deps.index as unknown as { faults: { calls: Record<string, number> } }).faults.calls.commit).toBe(
      1,
    );
    expect(await app.index.list(repo.name)).toHaveLength(before);
    deps.close();
    await pruneRepo(app, repo.name, app.settings.retention, { dryRun: false, actor, orphanGraceMs: 0 });
  });

  it("the lease and the verdict failing once each: both retried, the snapshot verified", async () => {
    const deps = await faultyDeps({ index: [failOnce("acquireLease"), failOnce("recordVerification")] });
    const made = await backupRepository(
      deps,
      repo,
      { incremental: false, verify: { level: "deep", where: "inline" } },
      { actor },
    );
    expect(made.verify?.verification.verdict).toBe("ok");
    expect((await app.index.get(repo.name, made.snapshot!.snapshot.id))?.verification?.verdict).toBe("ok");
    expect(await app.index.leases()).toEqual([]);
    deps.close();
  });

  it("a slow index (200 ms a call): the backup completes, one snapshot", async () => {
    const before = (await app.index.list(repo.name)).length;
    const deps = await faultyDeps({ index: [delay("latest", 200), delay("commit", 200)] });
    expect((await backupRepository(deps, repo, noVerify, { actor })).snapshot?.outcome).toBe("created");
    expect(await app.index.list(repo.name)).toHaveLength(before + 1);
    deps.close();
  });
});

describe("KeyWrapper faults", () => {
  it("wrap unavailable once (KMS UNAVAILABLE): retried, the snapshot completes and restores", async () => {
    const deps = await faultyDeps({ keys: [failOnce("wrap", keyUnavailable)] });
    const made = await backupRepository(deps, repo, noVerify, { actor });
    expect(made.snapshot?.outcome).toBe("created");
    await restoreAndCompare(app, made.snapshot!.snapshot.id);
    deps.close();
  });

  it("the key service refusing for good: fails before a byte is stored, nothing committed", async () => {
    const before = (await app.index.list(repo.name)).length;
    const objects = await archiveFiles();
    // A repository that has its key already needs it unwrapped (a new one would wrap a new key).
    const deps = await faultyDeps({
      keys: [failAlways("wrap", keyRefused), failAlways("unwrap", keyRefused)],
    });
    await expect(backupRepository(deps, repo, noVerify, { actor })).rejects.toBeInstanceOf(KeyError);
    const calls = (deps.keys as unknown as { faults: { calls: Record<string, number> } }).faults.calls;
    expect((calls.wrap ?? 0) + (calls.unwrap ?? 0)).toBe(1);
    expect(await archiveFiles()).toEqual(objects);
    expect(await app.index.list(repo.name)).toHaveLength(before);
    deps.close();
  });

  it("unwrap unavailable once: verify and restore retry and succeed", async () => {
    const made = (await backupRepository(app, repo, noVerify, { actor })).snapshot!.snapshot;
    const deps = await faultyDeps({
      keys: [failOnce("unwrap", keyUnavailable), failNth("unwrap", 3, keyUnavailable)],
    });
    expect(
      (await verifySnapshot(deps, repo.name, made.id, { level: "quick", actor })).verification.verdict,
    ).toBe("ok");
    await restoreAndCompare(deps, made.id);
    deps.close();
  });

  it("unwrap refused (wrong or destroyed key): verify records failed naming it, restore refuses", async () => {
    const made = (await backupRepository(app, repo, noVerify, { actor })).snapshot!.snapshot;
    const deps = await faultyDeps({ keys: [failAlways("unwrap", keyRefused)] });
    const verdict = await verifySnapshot(deps, repo.name, made.id, { level: "quick", actor });
    expect(verdict.verification).toMatchObject({
      verdict: "failed",
      detail: expect.stringMatching(/key refused/),
    });
    const target = join(scratch, `nokey-${++n}.git`);
    await expect(
      restoreRepo(
        deps,
        { repo: repo.name, snapshotId: made.id, target: { kind: "path", path: target } },
        { actor },
      ),
    ).rejects.toBeInstanceOf(KeyError);
    await expect(stat(target)).rejects.toThrow(/ENOENT/);
    deps.close();
  });
});

describe("Publisher and SourceHost faults", () => {
  it("a verify request that cannot be published fails the run after the commit; the retry queues it", async () => {
    const queue = new InProcessPublisher();
    const publisher = faultyPublisher(queue, failOnce("publish"));
    const deps = await faultyDeps({});
    const policy = {
      incremental: false as const,
      verify: { level: "quick" as const, where: "queue" as const },
    };
    await expect(backupRepository({ ...deps, publisher }, repo, policy, { actor })).rejects.toThrow(
      /injected transient/,
    );
    const retried = await backupRepository({ ...deps, publisher }, repo, policy, { actor });
    expect(retried).toMatchObject({ snapshot: { outcome: "unchanged" }, verifyQueued: true });
    const latest = await app.index.latest(repo.name);
    expect(queue.drain("verify-requests").map((m) => m.data)).toEqual([
      { v: 1, repo: repo.name, snapshotId: latest!.id, level: "quick" },
    ]);
    deps.close();
  });

  it("one repository's source unreachable: it fails by name, the other is backed up; the rerun completes it", async () => {
    await pushCommit(source, "main", `both-${n}.txt`, "both\n");
    const beforeApp = (await app.index.list("acme/app")).length;
    const beforeOther = (await app.index.list("acme/other")).length;
    const deps = await faultyDeps({ sources: [failOnce("gitRemote", sourceUnreachable)] });
    const results = await backupAll(deps, noVerify, { actor });
    expect(results.map((r) => [r.repo, r.error ?? r.snapshot?.outcome])).toEqual([
      ["acme/app", "injected: source host unreachable"],
      ["acme/other", "created"],
    ]);
    expect(await app.index.list("acme/app")).toHaveLength(beforeApp);
    const again = await backupAll(deps, noVerify, { actor });
    expect(again.map((r) => [r.repo, r.snapshot?.outcome])).toEqual([
      ["acme/app", "created"],
      ["acme/other", "unchanged"],
    ]);
    expect(await app.index.list("acme/app")).toHaveLength(beforeApp + 1);
    expect(await app.index.list("acme/other")).toHaveLength(beforeOther + 1);
    deps.close();
  });

  it("the source list unavailable: the run fails before any work, nothing committed", async () => {
    const repos = await app.index.repos();
    const counts = await Promise.all(repos.map((r) => app.index.list(r).then((l) => l.length)));
    const deps = await faultyDeps({ sources: [failAlways("listRepos", sourceUnreachable)] });
    await expect(backupAll(deps, noVerify, { actor })).rejects.toThrow(/unreachable/);
    expect(await Promise.all(repos.map((r) => app.index.list(r).then((l) => l.length)))).toEqual(counts);
    deps.close();
  });

  it("faults compose: wrap, commit and reads each failing once and every read slowed, the snapshot still verifies", async () => {
    const deps = await faultyDeps({
      keys: [failOnce("wrap", keyUnavailable)],
      index: [failOnce("commit"), failOnce("recordVerification")],
      store: [delay("get", 50), failOnce("get")],
    });
    const made = await backupRepository(
      deps,
      repo,
      { incremental: false, verify: { level: "quick", where: "inline" } },
      { actor },
    );
    expect(made.verify?.verification.verdict).toBe("ok");
    await restoreAndCompare(deps, made.snapshot!.snapshot.id);
    deps.close();
  });
});
