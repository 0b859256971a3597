// A drill reads each archive once: its restore hands the content checks what they need, counted at
// the BlobStore for a chain of a full snapshot and two incrementals and for a layered snapshot.
// Every LFS pointer the restored refs reach must have its object restored or recorded unavailable:
// a pointer whose object the source could not give passes while its manifest (for a layered
// snapshot, its index record) says so, and fails naming its path and oid once that record is gone. A difference in the middle archive of a chain
// is still found and named.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LocalApp } from "../../functions/app.js";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import { runDrill, type DrillResult } from "../../functions/core/drill.js";
import type { LfsPointer } from "../../functions/core/lfs/pointer.js";
import { kindPath } from "../../functions/core/metadata/paths.js";
import type { SnapshotMetadataSource } from "../../functions/core/metadata/source.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { BlobStore } from "../../functions/core/ports.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { compactLineage } from "../../functions/core/layers/compact.js";
import { rewriteArchive, updateRecord } from "../helpers/archive-rewrite.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { commitFiles, storeLocally } from "../helpers/lfs-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const policy: IncrementalPolicy = { maxChain: 10, fullEveryMs: 20 * 3600 * 1000 };
const clock = manualClock();
let scratch: string;
let ws: TestWorkspace;
let app: LocalApp;
let chain: Snapshot[];
let layered: Snapshot;

function lfsObject(size: number): { pointer: LfsPointer; bytes: Buffer } {
  const bytes = randomBytes(size);
  return { pointer: { oid: createHash("sha256").update(bytes).digest("hex"), size }, bytes };
}
const stored = [lfsObject(5_000), lfsObject(6_000), lfsObject(4_000)];
/** Named by a pointer in the chain's last snapshot, never in the source's store: unavailable. */
const absent = lfsObject(3_000);

/** Two labels in every snapshot, so each archive of the chain has metadata to count. */
const labels = (): SnapshotMetadataSource => ({
  collect: () => ({
    files: (async function* () {
      const bytes = Buffer.from('{"name":"bug"}\n{"name":"docs"}\n');
      yield { path: kindPath("labels"), open: () => Readable.from([bytes]) };
    })(),
    summary: Promise.resolve({
      kinds: { labels: { state: "full", items: 2 } },
      requests: { total: 1, notModified: 0 },
    }),
  }),
});

/** The store of `app`, each `get` key written to `gets`. */
function countingGets(store: BlobStore, gets: string[]): BlobStore {
  return new Proxy(store, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (name !== "get") return bound;
      return (key: string, ...rest: unknown[]) => (gets.push(key), bound(key, ...rest));
    },
  });
}

async function drill(repo: string, gets: string[] = []): Promise<DrillResult> {
  const [result, ...rest] = await runDrill(
    { ...app, store: countingGets(app.store, gets) },
    { actor, repos: [repo] },
  );
  expect(rest).toEqual([]);
  return result!;
}

/** Damages the archive (or record) of `snapshot` for one test; afterEach puts both back. */
const putBack: (() => Promise<void>)[] = [];
async function damage(snapshot: Snapshot, how: () => Promise<void>): Promise<void> {
  const file = join(ws.dir, "data", "archives", snapshot.objectKey);
  const bytes = await readFile(file);
  putBack.push(async () => {
    await writeFile(file, bytes);
    updateRecord(join(ws.dir, "data"), snapshot);
  });
  await how();
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-drill-reads-"));
  const source = await richRepo(join(scratch, "chain"));
  const other = await richRepo(join(scratch, "layered"));
  for (const { pointer, bytes } of stored) {
    await storeLocally(source, pointer, bytes);
    await storeLocally(other, pointer, bytes);
  }
  ws = await workspace({ "acme/chain": source, "acme/layered": other });
  app = await ws.open(clock);
  const snap = async (repo: string, url: string, options: { layers?: boolean } = {}) => {
    clock.advance(3600_000);
    const taken = await snapshotRepo(
      app,
      repo,
      { url },
      { actor, metadata: labels(), incremental: policy, ...options },
    );
    return taken.snapshot;
  };
  await commitFiles(source, "main", { "a.bin": stored[0]!.pointer });
  const full = await snap("acme/chain", source);
  await commitFiles(source, "main", { "b.bin": stored[1]!.pointer });
  const first = await snap("acme/chain", source);
  await pushCommit(source, "main", "notes.txt", "no LFS in this one\n");
  await commitFiles(source, "main", { "c.bin": stored[2]!.pointer, "gone.bin": absent.pointer });
  const second = await snap("acme/chain", source);
  chain = [full, first, second];
  expect(chain.map((s) => s.kind)).toEqual(["full", "incremental", "incremental"]);
  expect(second.lfs).toMatchObject({ objects: 1, unavailableCount: 1 });
  await commitFiles(other, "main", {
    "a.bin": stored[0]!.pointer,
    "b.bin": stored[1]!.pointer,
    "gone.bin": absent.pointer,
  });
  layered = await snap("acme/layered", other, { layers: true });
  expect(layered.kind).toBe("layered");
  expect(layered.lfs).toMatchObject({ objects: 2, unavailableCount: 1 });
}, 120_000);

afterEach(async () => {
  for (const put of putBack.splice(0)) await put();
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("a drill reads each archive once", () => {
  it("a full snapshot and two incrementals: each archive got once, every check made", async () => {
    const gets: string[] = [];
    const result = await drill("acme/chain", gets);
    expect(result.detail).toBeUndefined();
    expect(result.verdict).toBe("passed");
    expect(result.checks).toEqual(["restore", "refs", "fsck", "manifest", "lfs", "metadata", "lfs-pointers"]);
    expect(gets.sort()).toEqual(chain.map((s) => s.objectKey).sort());
  });

  it("a layered snapshot: its own archive got once, its layers once each; its unavailable object is known from its record", async () => {
    const gets: string[] = [];
    const result = await drill("acme/layered", gets);
    expect(result.verdict).toBe("passed");
    expect(result.checks).toEqual(expect.arrayContaining(["manifest", "metadata", "lfs-pointers"]));
    expect(gets.filter((key) => key === layered.objectKey)).toHaveLength(1);
    expect(new Set(gets).size).toBe(gets.length);
  });

  it("a count that differs in the chain's middle archive is found and named, without a second read", async () => {
    const middle = chain[1]!;
    await damage(middle, async () =>
      updateRecord(join(ws.dir, "data"), {
        ...middle,
        metadata: { ...middle.metadata!, items: { labels: 5 } },
      }),
    );
    const gets: string[] = [];
    const result = await drill("acme/chain", gets);
    expect(result.verdict).toBe("failed");
    expect(result.detail).toBe("meta/labels.jsonl holds 2 items; the manifest says 2, the index 5");
    expect(result.checks).toEqual(["restore", "refs", "fsck", "manifest", "lfs-pointers"]);
    expect(gets).toHaveLength(chain.length);
  });
});

describe("LFS pointers against what was restored", () => {
  it("a layered snapshot whose record no longer lists its unavailable object (pruned, or past the 20 listed): its layer still does", async () => {
    const [layer] = await app.layers!.layers("acme/layered");
    expect(layer?.lfsUnavailable).toEqual([absent.pointer.oid]);
    await damage(layered, async () =>
      updateRecord(join(ws.dir, "data"), { ...layered, lfs: { ...layered.lfs!, unavailable: {} } }),
    );
    const result = await drill("acme/layered");
    expect(result.detail).toBeUndefined();
    expect(result.verdict).toBe("passed");
    expect(result.checks).toContain("lfs-pointers");
  });

  it("a pointer whose object is neither restored nor recorded unavailable fails, named by path and oid", async () => {
    const last = chain[2]!;
    await damage(last, () =>
      rewriteArchive(app, join(ws.dir, "data"), last, (entries) =>
        entries.map((e) => {
          if (e.name !== "manifest.json") return e;
          const manifest = JSON.parse(e.bytes.toString("utf8")) as { lfs: { unavailable: unknown[] } };
          manifest.lfs.unavailable = [];
          return { ...e, bytes: Buffer.from(JSON.stringify(manifest)) };
        }),
      ),
    );
    const result = await drill("acme/chain");
    expect(result.verdict).toBe("failed");
    expect(result.detail).toBe(
      "LFS pointers reachable from the restored refs whose object is neither restored nor recorded " +
        `unavailable (1): gone.bin (oid ${absent.pointer.oid}, 3000 bytes): no object`,
    );
    expect(result.checks).toEqual(["restore", "refs", "fsck", "manifest", "lfs", "metadata", "lfs-pointers"]);
  });
});

describe("compaction carries what the source could not give", () => {
  it("a chain folded into a layer, and a layered lineage rewritten whole: the new live layers record it, drills pass", async () => {
    const liveUnavailable = async (lineage: string) =>
      (await app.layers!.layers(lineage))
        .filter((layer) => layer.state === "live")
        .flatMap((layer) => layer.lfsUnavailable ?? []);
    // The chain's repository goes layered (a fold needs a layered snapshot after the chain).
    clock.advance(3600_000);
    const source = join(scratch, "chain", "source.git");
    await pushCommit(source, "main", "later.txt", "after layers were turned on\n");
    const taken = await snapshotRepo(
      app,
      "acme/chain",
      { url: source },
      { actor, metadata: labels(), incremental: policy, layers: true },
    );
    expect(taken.snapshot.kind).toBe("layered");
    const folded = await compactLineage(app, "acme/chain", { actor, repo: "acme/chain", full: true });
    expect(folded.fold?.skipped).toEqual([]);
    expect(folded.fold?.folded.length).toBeGreaterThan(0);
    // The fold's own layer (the LFS objects of the chain's archives) records it from their manifests.
    const foldLayer = folded.fold!.folded[0]!.layerId;
    const foldRecord = (await app.layers!.layers("acme/chain")).find((layer) => layer.id === foldLayer);
    expect(foldRecord?.lfsUnavailable).toEqual([absent.pointer.oid]);
    expect(await liveUnavailable("acme/chain")).toContain(absent.pointer.oid);
    // A second layer for the layered lineage, so the whole rewrite merges two into one.
    clock.advance(3600_000);
    const other = join(scratch, "layered", "source.git");
    await pushCommit(other, "main", "later.txt", "a second layer\n");
    await snapshotRepo(app, "acme/layered", { url: other }, { actor, metadata: labels(), layers: true });
    const rewritten = await compactLineage(app, "acme/layered", { actor, repo: "acme/layered", full: true });
    expect(rewritten.rewrite?.reason).toBeUndefined();
    expect(rewritten.rewrite?.merged).toBeDefined();
    expect(await liveUnavailable("acme/layered")).toEqual([absent.pointer.oid]);
    for (const repo of ["acme/chain", "acme/layered"]) {
      const result = await drill(repo);
      expect(result.detail, repo).toBeUndefined();
      expect(result.checks, repo).toContain("lfs-pointers");
    }
  });
});
