// Old chains with GitHub metadata folded into layers (docs/ARCHITECTURE.md, "Old archives folded
// in"). Snapshots are taken through the local pipeline with the real metadata collection against
// the GitHub stand-in: two chains (a full snapshot and incrementals whose metadata are deltas over
// it: issues renamed, comments added and edited, a label added, a release asset uploaded, a kind
// turned unavailable), then layered snapshots. Before the fold, every old snapshot's metadata (each
// kind's state and every item, as readMetadata gives them) and the bytes of every release asset
// and attachment its lines name are recorded, with its refs and objects. Crashes mid-write, before
// T-fold and after the first T-fold change nothing any read gives; the fold gives each folded
// snapshot its metadata whole, item for item the same, and deep verification passes on it; a chain
// on legal hold stays as taken until released; and after the grace period, with the old archives
// gone, every snapshot still reads the same.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthOptions } from "../../functions/app.js";
import { GitHubMetadataSource } from "../../functions/adapters/github/metadata-source.js";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import { healthReport } from "../../functions/core/health.js";
import { handCompactionsToJob } from "../../functions/core/layers/compact-run.js";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import { ALL_KINDS } from "../../functions/core/metadata/kinds.js";
import { readMetadata } from "../../functions/core/metadata/read.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { BlobStore, LayerIndex } from "../../functions/core/ports.js";
import { pruneRepo } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { readAssetFiles } from "../../functions/core/restore-github/snapshot-items.js";
import { parseRetentionPolicy } from "../../functions/core/retention-policy.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp } from "../../functions/wiring.js";
import { cli } from "../helpers/cli-run.js";
import { at, fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startMetadataStandin, type MetadataStandin } from "../helpers/github-world.js";
import type { RepoMetadata } from "../helpers/github-standin-metadata.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

type O = Record<string, unknown>;

const APP_ID = 727272;
const REPO = "acme/app";
const actor = "test";
const DAY = 86_400_000;
const INCREMENTAL: IncrementalPolicy = { maxChain: 48, fullEveryMs: DAY };
const KEEP_ALL = parseRetentionPolicy({ last: 100 });
const clock = manualClock("2026-11-20T09:00:00.000Z");

let standin: MetadataStandin;
let github: GitHubStandin;
let metadata: GitHubMetadataSource;
let served: RepoMetadata;
let ws: TestWorkspace;
let app: LocalApp;
let scratch: string;
let source: string;
/** The old snapshots as taken (layers off): chain 1 is [0..2], chain 2 [3..4]. */
const legacy: Snapshot[] = [];
/** What every snapshot gave when taken: refs and objects restored, metadata read, stored files' bytes. */
const taken = new Map<
  string,
  { refs: string; objects: string; metadata: Awaited<ReturnType<typeof readAll>> }
>();

async function take(layers: boolean): Promise<Snapshot> {
  clock.advance(3_600_000);
  const outcome = await snapshotRepo(
    app,
    REPO,
    { url: source },
    { actor, incremental: INCREMENTAL, layers, metadata },
  );
  expect(outcome.outcome).toBe("created");
  return outcome.snapshot;
}

/** Every kind's state and items at the snapshot, and the bytes of every stored file its lines name. */
async function readAll(id: string) {
  const snapshot = (await app.index.get(REPO, id))!;
  const read = await readMetadata(app, snapshot, { kinds: ALL_KINDS }, { actor, purpose: "test" });
  const paths = new Set<string>();
  for (const release of (read.lines.releases ?? []) as O[])
    for (const asset of release.assets as O[]) if (typeof asset.path === "string") paths.add(asset.path);
  for (const line of (read.lines.attachments ?? []) as O[])
    if (line.state === "stored" && typeof line.path === "string") paths.add(line.path);
  const files: Record<string, string> = {};
  await readAssetFiles(app, read.chain, paths, async (path, body) => {
    files[path] = Buffer.concat(await body.toArray()).toString("base64");
  });
  return { kinds: read.kinds, lines: read.lines, files };
}

async function record(snapshot: Snapshot): Promise<void> {
  const path = join(scratch, `restore-${snapshot.id}.git`);
  await restoreRepo(app, { repo: REPO, snapshotId: snapshot.id, target: { kind: "path", path } }, { actor });
  taken.set(snapshot.id, {
    refs: await refsOf(path),
    objects: await objectsOf(path),
    metadata: await readAll(snapshot.id),
  });
  await rm(path, { recursive: true, force: true });
}

/** Every snapshot restores the refs and objects, and reads the metadata and files, it gave when taken. */
async function expectEverySnapshotAsTaken(): Promise<void> {
  for (const [id, expected] of taken) {
    const path = join(scratch, `restore-${id}.git`);
    await restoreRepo(app, { repo: REPO, snapshotId: id, target: { kind: "path", path } }, { actor });
    expect(await refsOf(path), id).toBe(expected.refs);
    expect(await objectsOf(path), id).toBe(expected.objects);
    await rm(path, { recursive: true, force: true });
    const now = await readAll(id);
    expect(now.kinds, id).toEqual(expected.metadata.kinds);
    for (const kind of ALL_KINDS)
      expect(now.lines[kind], `${id} ${kind}`).toEqual(expected.metadata.lines[kind]);
    expect(now.files, id).toEqual(expected.metadata.files);
  }
}

/** The repositories the scheduled prune would hand to the job (no layer level is full here: only folds). */
async function handedOver(): Promise<string[]> {
  const published: unknown[] = [];
  const publisher = {
    publish: (_topic: string, messages: readonly unknown[]) => (
      published.push(...messages),
      Promise.resolve([])
    ),
  };
  const repos = await handCompactionsToJob({ ...app, publisher }, [REPO]);
  expect(published).toEqual(repos.map((repo) => expect.objectContaining({ kind: "compact", repo })));
  return repos;
}

/** The storage report's bytes and objects by tier. */
async function byTier(): Promise<Record<string, { objects: number; bytes: number }>> {
  const options = {
    ...healthOptions(app.settings, [REPO], { projectedRepos: 0 }),
    newObjectClass: "STANDARD",
  };
  const { storage } = await healthReport(app, options);
  if ("error" in storage) throw new Error(storage.error);
  return Object.fromEntries(storage.byTier.map((t) => [t.tier, { objects: t.objects, bytes: t.bytes }]));
}

const kindsOf = async () => Promise.all(legacy.map(async (old) => (await app.index.get(REPO, old.id))?.kind));

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layered-fold-meta-"));
  source = await richRepo(scratch);
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  fillMetadata(github.addRepo(REPO), { repo: REPO, issues: 30, comments: 40 });
  served = github.metadata(REPO);
  metadata = standin.source();
  ws = await workspace({ [REPO]: source });
  app = await ws.open(clock);

  // Chain 1: everything, then deltas over it.
  legacy.push(await take(false));
  const issue = served.issues.find((i) => i.number === 5)!;
  Object.assign(issue, {
    title: "Issue 5, renamed",
    comments: Number(issue.comments) + 1,
    updated_at: at(900_000),
  });
  served.comments.push({
    id: 799_999,
    issue_url: `https://api.github.com/repos/${REPO}/issues/5`,
    user: { login: "dave" },
    body: "A new comment",
    created_at: at(900_000),
    updated_at: at(900_000),
  });
  served.labels.push({ ...served.labels[0]!, id: 9_901, node_id: "x", name: "added-later" });
  // A new asset on the draft release: the incremental stores its bytes only; the others stay in the full one.
  const bytes = Buffer.from("a new asset's bytes\n");
  served.assetBytes.set(203, bytes);
  (served.releases[1]!.assets as O[]).push({
    ...(served.releases[0]!.assets as O[])[1]!,
    id: 203,
    url: `https://api.github.com/repos/${REPO}/releases/assets/203`,
    name: "notes.txt",
    size: bytes.length,
    digest: null,
    updated_at: at(900_001),
  });
  await pushCommit(source, "main", "one.txt", "one\n");
  legacy.push(await take(false));
  const comment = served.comments.find((c) => c.id === 799_999)!;
  Object.assign(comment, { body: "A new comment, edited", updated_at: at(950_000) });
  served.settings.has_issues = false; // issues and their comments unavailable from here
  legacy.push(await take(false));
  // Chain 2, the next day, issues back.
  clock.advance(DAY);
  served.settings.has_issues = true;
  await pushCommit(source, "main", "two.txt", "two\n");
  legacy.push(await take(false));
  Object.assign(
    served.issues.find((i) => i.number === 7)!,
    { title: "Issue 7, renamed", updated_at: at(990_000) },
  );
  legacy.push(await take(false));
  expect(legacy.map((s) => s.kind)).toEqual(["full", "incremental", "incremental", "full", "incremental"]);
  for (const old of legacy.filter((s) => s.kind === "incremental")) expect(old.metadata).toBeDefined();
  // Layers on.
  await pushCommit(source, "main", "three.txt", "three\n");
  expect((await take(true)).kind).toBe("layered");
  for (const snapshot of await app.index.list(REPO)) await record(snapshot);
}, 300_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await github?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("old chains holding GitHub metadata deltas folded into layers", () => {
  it("the chains are what a fold has to replay: deltas, an asset stored once, a kind gone unavailable", () => {
    const [full, first, second] = legacy;
    expect(first!.metadata!.items.issues).toBeLessThan(full!.metadata!.items.issues!);
    expect(taken.get(first!.id)!.metadata.lines.issues).toContainEqual(
      expect.objectContaining({ number: 5, title: "Issue 5, renamed" }),
    );
    expect(Object.keys(taken.get(first!.id)!.metadata.files)).toContain("meta/assets/12/203");
    expect(taken.get(second!.id)!.metadata.kinds.issues).toMatchObject({ state: "unavailable" });
  });

  it("the cloud's prune hands the repository to the job for the fold alone (no layer level is full)", async () => {
    expect(await handedOver()).toEqual([REPO]);
  });

  it("a crash mid-write (a folded archive's put fails) leaves every snapshot as it was", async () => {
    let puts = 0;
    const store: BlobStore = Object.assign(Object.create(app.store) as BlobStore, {
      put: (key: string, ...rest: Parameters<BlobStore["put"]> extends [string, ...infer R] ? R : never) =>
        key.includes(".folded-") && ++puts === 2
          ? Promise.reject(new Error("crash mid-write"))
          : app.store.put(key, ...rest),
    });
    await expect(
      pruneRepo({ ...app, store }, REPO, KEEP_ALL, { dryRun: false, actor, compact: true }),
    ).rejects.toThrow(/crash mid-write/);
    for (const old of legacy) expect(await app.index.get(REPO, old.id)).toEqual(old);
    await expectEverySnapshotAsTaken();
  }, 180_000);

  it("a crash before T-fold leaves every snapshot as it was", async () => {
    const crashing: LayerIndex = Object.assign(Object.create(app.layers!) as LayerIndex, {
      commitFold: () => Promise.reject(new Error("crash before T-fold")),
    });
    await expect(
      pruneRepo({ ...app, layers: crashing }, REPO, KEEP_ALL, { dryRun: false, actor, compact: true }),
    ).rejects.toThrow(/crash before T-fold/);
    for (const old of legacy) expect(await app.index.get(REPO, old.id)).toEqual(old);
    await expectEverySnapshotAsTaken();
  }, 180_000);

  it("a chain on legal hold stays as taken; a crash right after the other chain's T-fold leaves it layered; every read is the same", async () => {
    await app.index.setHold(REPO, legacy[3]!.id, true);
    const audit = {
      record: (event: Parameters<LocalApp["audit"]["record"]>[0]) =>
        event.action === "compact.folded"
          ? Promise.reject(new Error("crash after T-fold"))
          : app.audit.record(event),
    };
    await expect(
      pruneRepo({ ...app, audit }, REPO, KEEP_ALL, { dryRun: false, actor, compact: true }),
    ).rejects.toThrow(/crash after T-fold/);
    expect(await kindsOf()).toEqual(["layered", "layered", "layered", "full", "incremental"]);
    await expectEverySnapshotAsTaken();
    const report = await pruneRepo(app, REPO, KEEP_ALL, { dryRun: false, actor, compact: true });
    expect(report.compaction?.fold?.folded).toEqual([]);
    expect(report.compaction?.fold?.skipped).toEqual([
      { snapshots: [legacy[3]!.id, legacy[4]!.id], reason: expect.stringMatching(/legal hold/) },
    ]);
    expect(await kindsOf()).toEqual(["layered", "layered", "layered", "full", "incremental"]);
    // The held chain is not handed over again every day.
    expect(await handedOver()).toEqual([]);
  }, 180_000);

  it("released, the chain folds: each folded snapshot holds its metadata whole, reads item for item as taken, and verifies deep", async () => {
    await app.index.setHold(REPO, legacy[3]!.id, false);
    expect(await handedOver()).toEqual([REPO]);
    const report = await pruneRepo(app, REPO, KEEP_ALL, { dryRun: false, actor, compact: true });
    expect(report.compaction?.fold?.skipped).toEqual([]);
    expect(report.compaction?.fold?.folded.map((f) => f.snapshots)).toEqual([[legacy[3]!.id, legacy[4]!.id]]);
    expect(await kindsOf()).toEqual(["layered", "layered", "layered", "layered", "layered"]);
    const records = await app.layers!.layers(REPO);
    for (const old of legacy) {
      const now = (await app.index.get(REPO, old.id))!;
      expect(now.parentId).toBeUndefined();
      // Verified right after the fold, at level "layer", with every layer it names.
      expect(now.verification, old.id).toMatchObject({ verdict: "ok", level: "layer" });
      for (const id of now.layers!)
        expect(records.find((l) => l.id === id)?.verification, id).toMatchObject({ verdict: "ok" });
      // Whole: the index counts every item the snapshot holds, not the delta it was taken with.
      const lines = taken.get(old.id)!.metadata.lines;
      for (const [kind, items] of Object.entries(now.metadata!.items))
        expect(items, `${old.id} ${kind}`).toBe((lines[kind as keyof typeof lines] ?? []).length);
      const verified = await verifySnapshot(app, REPO, old.id, { level: "deep", actor });
      expect(verified.verification, old.id).toMatchObject({ verdict: "ok", level: "deep" });
    }
    await expectEverySnapshotAsTaken();
    expect(await handedOver()).toEqual([]);
    // Until layer garbage deletes them, the old archives count as retired, not as expired.
    const tiers = await byTier();
    expect(tiers.retired).toEqual({ objects: legacy.length, bytes: legacy.reduce((n, s) => n + s.size, 0) });
    expect(tiers.expired).toBeUndefined();
    // And so does the cost command, which files objects by their keys.
    const { code, stdout } = await cli("cost", "--config", ws.configFile, "--json");
    expect(code).toBe(0);
    const cost = JSON.parse(stdout) as {
      summary: { byTier: { tier: string; objects: number; bytes: number }[] };
    };
    expect(cost.summary.byTier.find((t) => t.tier === "retired")).toEqual({
      tier: "retired",
      objects: legacy.length,
      bytes: legacy.reduce((n, s) => n + s.size, 0),
    });
  }, 240_000);

  it("after the grace period the old archives go, and every snapshot still reads as taken", async () => {
    clock.advance(LAYER_GRACE_MS + 3 * DAY);
    const report = await pruneRepo(app, REPO, KEEP_ALL, { dryRun: false, actor });
    expect(report.layers?.deleted).toHaveLength(legacy.length);
    for (const old of legacy) expect(await app.store.stat(old.objectKey), old.objectKey).toBeUndefined();
    expect((await byTier()).retired).toBeUndefined();
    await expectEverySnapshotAsTaken();
  }, 240_000);
});
