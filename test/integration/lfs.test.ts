// Git LFS objects: found through the pointers of a snapshot's new blobs, fetched through the LFS
// batch API with the installation token (an object server on another origin gets only its own
// header), checked against their oids, stored in the archive, verified, and restored into the
// repository's lfs/objects. Driven through the real GitHubAppSource, the git HTTP server and the
// GitHub stand-in's LFS side; a local path source reads its own lfs/objects store.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcsBlobStore } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { backupPolicy } from "../../functions/app.js";
import { main } from "../../functions/cli/main.js";
import { readArchive } from "../../functions/core/archive/reader.js";
import { archiveDataKey } from "../../functions/core/read-snapshot.js";
import { writeArchive } from "../../functions/core/archive/writer.js";
import { newSnapshotId } from "../../functions/core/ids.js";
import { archiveKey } from "../../functions/core/object-keys.js";
import { backupRepository } from "../../functions/core/backup.js";
import { describeError } from "../../functions/core/errors.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import { repoHealth } from "../../functions/core/health.js";
import { lfsObjectFile, lfsStoreFile } from "../../functions/core/lfs/paths.js";
import { lfsObjectKey } from "../../functions/core/lfs/sinks.js";
import type { LfsPointer } from "../../functions/core/lfs/pointer.js";
import { lfsObjectsOf } from "../../functions/core/lfs/restore.js";
import type { Snapshot } from "../../functions/core/model.js";
import type { BlobStore } from "../../functions/core/ports.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import { openApp, type LocalApp } from "../../functions/wiring.js";
import { storageClient, uniqueName } from "../helpers/emulators.js";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server.js";
import { refsOf } from "../helpers/git-repos.js";
import { LfsStandin } from "../helpers/github-standin-lfs.js";
import { startGitHubStandin, type GitHubStandin } from "../helpers/github-standin.js";
import { commitFiles, lfsStoreListing, storeLocally } from "../helpers/lfs-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 616161;
const { publicKey, privateKey } = appKeys();
const actor = "test";

let root: string;
let gitServer: GitHttpServer;
let github: GitHubStandin;
let lfs: LfsStandin;
let ws: TestWorkspace;
let app: LocalApp;
/** Every object the stand-in serves, by oid: what a restore must give back byte for byte. */
const served = new Map<string, Buffer>();
/** Messages of every error the tests saw: none may carry a token. */
const errors: string[] = [];

/** An LFS object of `size` random bytes, stored on the stand-in for `repo`. */
function lfsObject(repo: string, size: number): LfsPointer {
  const bytes = randomBytes(size);
  const pointer = lfs.put(repo, bytes);
  served.set(pointer.oid, bytes);
  return pointer;
}

async function backup(repo: string) {
  const source = await app.sources.getRepo(repo);
  if (!source) throw new Error(`${repo} is not a source`);
  try {
    return await backupRepository(app, source, backupPolicy(app.settings, "inline"), { actor });
  } catch (err) {
    errors.push(describeError(err));
    throw err;
  }
}

/** The manifest of a snapshot's archive, read back through the real reader. */
async function manifestOf(snapshot: Snapshot) {
  const { manifest } = await readArchive(await app.store.get(snapshot.objectKey), {
    dataKey: (header) => archiveDataKey(app, snapshot, header),
  });
  return manifest;
}

/** The CLI in-process, with the App's credentials in the environment for the call. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  const saved = { id: process.env.GITHUB_APP_ID, key: process.env.GITHUB_APP_PRIVATE_KEY };
  process.env.GITHUB_APP_ID = String(APP_ID);
  process.env.GITHUB_APP_PRIVATE_KEY = privateKey;
  let stdout = "";
  const sink = { isTTY: false, write: (chunk: string) => ((stdout += chunk), true) };
  try {
    const code = await main(argv, {
      stdout: sink as unknown as NodeJS.WriteStream,
      stderr: sink as unknown as NodeJS.WriteStream,
    });
    return { code, stdout };
  } finally {
    for (const [name, value] of [
      ["GITHUB_APP_ID", saved.id],
      ["GITHUB_APP_PRIVATE_KEY", saved.key],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Every file under `dir`, recursively (the data folder). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "infinity-lfs-"));
  github = await startGitHubStandin({ appId: APP_ID, publicKey, gitUrl: "", gitRoot: root });
  lfs = await new LfsStandin((password, repo) => github.canRead(password, repo)).start();
  gitServer = await startGitHttpServer({
    root,
    checkPassword: (password, repo) => github.canRead(password, repo),
    lfs: (req, res, repo) => lfs.handleBatch(req, res, repo),
  });
  github.install("acme");
  for (const name of ["acme/app", "acme/lost", "acme/bad"]) {
    github.addRepo(name);
    await initBare(join(root, `${name}.git`));
  }
  const local = join(root, "local", "tools.git");
  await initBare(local);
  ws = await workspace(
    { "local/tools": local },
    `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${gitServer.url}\n`,
  );
  app = await openApp(ws.configFile, {
    env: { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: privateKey },
  });
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await gitServer?.close();
  await lfs?.close();
  await github?.close();
  await rm(root, { recursive: true, force: true });
});

describe("LFS objects", () => {
  const appRepo = () => join(root, "acme", "app.git");
  const pointers: LfsPointer[] = [];

  it("backs up every object the refs' pointers name, through the batch API, and verifies them", async () => {
    // One object bigger than a tar part's chunking and the server's chunks, two on main, one only on a branch.
    pointers.push(lfsObject("acme/app", 1_300_000), lfsObject("acme/app", 40_000), lfsObject("acme/app", 3));
    await commitFiles(appRepo(), "main", {
      "README.md": "# app\n",
      "assets/logo.bin": pointers[0]!,
      "assets/data.bin": pointers[1]!,
    });
    await commitFiles(appRepo(), "feature", { "assets/tiny.bin": pointers[2]! });
    // A transient fault on each side: two 502s from the batch API, a 503 and a 429 from the object server.
    lfs.faults.batch5xx = 2;
    lfs.faults.object5xx = 1;
    lfs.faults.object429 = 1;

    const result = await backup("acme/app");
    expect(result.error).toBeUndefined();
    expect(result.verify?.verification.verdict).toBe("ok");
    const snapshot = result.snapshot!.snapshot;
    const total = pointers.reduce((sum, p) => sum + p.size, 0);
    expect(snapshot.lfs).toEqual({ objects: 3, bytes: total, unavailableCount: 0, unavailable: {} });
    const manifest = await manifestOf(snapshot);
    expect(manifest.lfs).toEqual({ objects: 3, bytes: total, unavailable: [] });
    const entries = manifest.entries.filter((e) => e.path.startsWith("lfs/"));
    expect(entries.map((e) => [e.path, e.size, e.sha256]).sort()).toEqual(
      pointers.map((p) => [`lfs/objects/${p.oid}`, p.size, p.oid]).sort(),
    );
    // The batch API was asked as the spec says, with the installation token (Basic) on the git host.
    const asked = lfs.batchRequests.filter((r) => r.status === 200);
    expect(asked.map((r) => r.oids.sort())).toEqual([pointers.map((p) => p.oid).sort()]);
    expect(asked[0]!.auth).toBe("Basic");
    expect(asked[0]!.accept).toContain("application/vnd.git-lfs+json");
    expect(lfs.batchRequests.filter((r) => r.status === 502)).toHaveLength(2);
    // The object server saw only its own header, never the installation token.
    const authorizations = new Set(lfs.objectRequests.map((r) => r.authorization));
    expect([...authorizations].every((a) => a?.startsWith("RemoteAuth "))).toBe(true);
    expect(
      (await verifySnapshot(app, "acme/app", snapshot.id, { level: "quick", actor })).verification,
    ).toMatchObject({
      verdict: "ok",
    });
  });

  it("stores only the new object in an incremental snapshot after a push that adds one LFS file", async () => {
    const added = lfsObject("acme/app", 70_000);
    pointers.push(added);
    await commitFiles(appRepo(), "main", { "assets/new.bin": added, "README.md": "# app, again\n" });
    const before = lfs.batchRequests.length;
    const result = await backup("acme/app");
    expect(result.error).toBeUndefined();
    const snapshot = result.snapshot!.snapshot;
    expect(snapshot.kind).toBe("incremental");
    expect(snapshot.lfs).toEqual({ objects: 1, bytes: added.size, unavailableCount: 0, unavailable: {} });
    const manifest = await manifestOf(snapshot);
    expect(manifest.entries.filter((e) => e.path.startsWith("lfs/")).map((e) => e.path)).toEqual([
      `lfs/objects/${added.oid}`,
    ]);
    expect(lfs.batchRequests.slice(before).map((r) => r.oids)).toEqual([[added.oid]]);
    expect(result.verify?.verification).toMatchObject({ verdict: "ok", level: "deep" });
  });

  it("restores the chain's LFS objects into lfs/objects byte for byte, with the refs", async () => {
    const target = join(root, "restored", "app.git");
    const outcome = await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "path", path: target } },
      { actor },
    );
    expect(outcome.snapshot.kind).toBe("incremental");
    expect(await refsOf(target)).toBe(await refsOf(appRepo()));
    expect(await lfsStoreListing(target)).toEqual(
      pointers.map((p) => `${p.oid.slice(0, 2)}/${p.oid.slice(2, 4)}/${p.oid}`).sort(),
    );
    for (const p of pointers)
      expect((await readFile(lfsStoreFile(target, p.oid))).equals(served.get(p.oid)!)).toBe(true);
  });

  it("writes a bundle target's LFS objects beside it, for a full and an incremental snapshot", async () => {
    const [latest, first] = (await app.index.list("acme/app")) as [Snapshot, Snapshot];
    expect([first.kind, latest.kind]).toEqual(["full", "incremental"]);
    for (const [snapshot, count] of [
      [first, 3],
      [latest, 4],
    ] as const) {
      const bundle = join(root, "bundles", `${snapshot.kind}.bundle`);
      await mkdir(join(root, "bundles"), { recursive: true });
      await restoreRepo(
        app,
        { repo: "acme/app", snapshotId: snapshot.id, target: { kind: "bundle-file", path: bundle } },
        { actor },
      );
      const folder = join(root, "bundles", `${snapshot.kind}.lfs`);
      const expected = pointers.slice(0, count);
      const listing = (await readdir(folder, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
      expect(listing, snapshot.kind).toEqual(expected.map((p) => p.oid).sort());
      for (const p of expected)
        expect((await readFile(lfsObjectFile(folder, p.oid))).equals(served.get(p.oid)!)).toBe(true);
    }
  });

  it("writes a bucket target's LFS objects beside its bundle (local store and fake-gcs), each its oid's bytes", async () => {
    const [latest, first] = (await app.index.list("acme/app")) as [Snapshot, Snapshot];
    const storage = storageClient();
    const bucket = uniqueName("restores");
    await storage.createBucket(bucket);
    const stores: [string, BlobStore][] = [
      ["local", new FsBlobStore({ root: join(root, "restore-bucket") })],
      ["gcs", new GcsBlobStore({ storage, bucket })],
    ];
    for (const [name, store] of stores) {
      for (const [snapshot, count] of [
        [first, 3],
        [latest, 4],
      ] as const) {
        const key = `restores/acme/app/${snapshot.kind}.bundle`;
        const outcome = await restoreRepo(
          app,
          { repo: "acme/app", snapshotId: snapshot.id, target: { kind: "bundle-store", store, key } },
          { actor },
        );
        const expected = pointers.slice(0, count);
        const prefix = `restores/acme/app/${snapshot.kind}.lfs/`;
        expect(outcome.lfsObjects, `${name} ${snapshot.kind}`).toEqual({
          objects: count,
          bytes: expected.reduce((sum, p) => sum + p.size, 0),
          target: prefix,
        });
        const keys: string[] = [];
        for await (const blob of store.list(prefix)) keys.push(blob.key);
        expect(keys, `${name} ${snapshot.kind}`).toEqual(
          expected.map((p) => `${prefix}${p.oid.slice(0, 2)}/${p.oid.slice(2, 4)}/${p.oid}`).sort(),
        );
        for (const p of expected) {
          const bytes = await buffer(await store.get(lfsObjectKey(prefix.slice(0, -1), p.oid)));
          expect(bytes.equals(served.get(p.oid)!), `${name} ${p.oid}`).toBe(true);
          expect(createHash("sha256").update(bytes).digest("hex")).toBe(p.oid);
        }
        expect(await store.stat(key)).toBeDefined();
        // A second restore to the same key is refused and leaves the first one's objects.
        await expect(
          restoreRepo(
            app,
            { repo: "acme/app", snapshotId: snapshot.id, target: { kind: "bundle-store", store, key } },
            { actor },
          ),
        ).rejects.toThrow(/already exists/);
        expect(await store.stat(keys[0]!)).toBeDefined();
      }
    }
  });

  it("pushes to a repository on this machine with the LFS objects in that repository's store", async () => {
    const target = join(root, "pushed", "app.git");
    await initBare(target);
    const outcome = await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "push", remote: { url: target } } },
      { actor },
    );
    expect(await refsOf(target)).toBe(await refsOf(appRepo()));
    expect(outcome.lfsObjects?.objects).toBe(pointers.length);
    expect(await lfsStoreListing(target)).toEqual(
      pointers.map((p) => `${p.oid.slice(0, 2)}/${p.oid.slice(2, 4)}/${p.oid}`).sort(),
    );
    for (const p of pointers)
      expect((await readFile(lfsStoreFile(target, p.oid))).equals(served.get(p.oid)!)).toBe(true);
  });

  it("hands out the snapshot's LFS objects as streams (for a restore to another LFS server)", async () => {
    const latest = (await app.index.latest("acme/app"))!;
    const got = new Map<string, Buffer>();
    for await (const object of lfsObjectsOf(app, latest)) {
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(chunk as Buffer);
      got.set(object.oid, Buffer.concat(chunks));
    }
    expect([...got.keys()].sort()).toEqual(pointers.map((p) => p.oid).sort());
    for (const [oid, bytes] of got) expect(bytes.equals(served.get(oid)!)).toBe(true);
  });

  it("records an object the server lost as unavailable, and the snapshot still succeeds", async () => {
    const kept = lfsObject("acme/lost", 5_000);
    const lost = lfsObject("acme/lost", 6_000);
    lfs.lose("acme/lost", lost.oid);
    await commitFiles(join(root, "acme", "lost.git"), "main", { "a.bin": kept, "b.bin": lost });
    const result = await backup("acme/lost");
    expect(result.error).toBeUndefined();
    const snapshot = result.snapshot!.snapshot;
    expect(snapshot.lfs).toEqual({
      objects: 1,
      bytes: kept.size,
      unavailableCount: 1,
      unavailable: { [lost.oid]: "404: Object does not exist" },
    });
    expect((await manifestOf(snapshot)).lfs?.unavailable).toEqual([
      { oid: lost.oid, size: lost.size, status: 404, reason: "Object does not exist" },
    ]);
    const health = repoHealth("acme/lost", await app.index.list("acme/lost"), new Date());
    expect(health.lfsUnavailable).toEqual({
      count: 1,
      objects: { [lost.oid]: "404: Object does not exist" },
    });
    const status = await cli("status", "--config", ws.configFile);
    expect(status.stdout).toContain(
      `acme/lost: 1 LFS object not backed up: ${lost.oid.slice(0, 12)} (404: Object does not exist)`,
    );
  });

  it("asks the batch API again when a download action has expired", async () => {
    github.addRepo("acme/expiring");
    await initBare(join(root, "acme", "expiring.git"));
    const object = lfsObject("acme/expiring", 20_000);
    await commitFiles(join(root, "acme", "expiring.git"), "main", { "e.bin": object });
    lfs.faults.objectExpired = 1;
    const result = await backup("acme/expiring");
    expect(result.error).toBeUndefined();
    expect(result.snapshot!.snapshot.lfs).toMatchObject({ objects: 1, unavailableCount: 0 });
    const asked = lfs.batchRequests.filter((r) => r.repo === "acme/expiring").map((r) => r.oids);
    expect(asked).toEqual([[object.oid], [object.oid]]);
  });

  it("refuses an object whose bytes are not its oid, and commits nothing", async () => {
    const good = lfsObject("acme/bad", 2_000);
    const bad = lfsObject("acme/bad", 300_000);
    lfs.corrupt("acme/bad", bad.oid);
    await commitFiles(join(root, "acme", "bad.git"), "main", { "good.bin": good, "bad.bin": bad });
    await expect(backup("acme/bad")).rejects.toThrow(
      new RegExp(`LFS object ${bad.oid} from the LFS server of .* has bytes whose SHA-256 is .*: refused`),
    );
    expect(await app.index.list("acme/bad")).toEqual([]);
    const stored = [];
    for await (const blob of app.store.list("repos/acme/bad/")) stored.push(blob.key);
    expect(stored).toEqual([]);
    expect(
      (await filesUnder(join(ws.dir, "data", "archives"))).filter((f) => f.includes("acme/bad")),
    ).toEqual([]);
  });

  it("reads a local source's objects from its own lfs/objects store; one it lacks is unavailable", async () => {
    const local = join(root, "local", "tools.git");
    const present = { bytes: randomBytes(9_000) };
    const absent = { bytes: randomBytes(1_000) };
    const pointer = (bytes: Buffer): LfsPointer => ({
      oid: createHash("sha256").update(bytes).digest("hex"),
      size: bytes.length,
    });
    const [p1, p2] = [pointer(present.bytes), pointer(absent.bytes)];
    await storeLocally(local, p1, present.bytes);
    await commitFiles(local, "main", { "x.bin": p1, "y.bin": p2 });
    const result = await backup("local/tools");
    expect(result.error).toBeUndefined();
    const snapshot = result.snapshot!.snapshot;
    expect(snapshot.lfs).toMatchObject({ objects: 1, bytes: p1.size, unavailableCount: 1 });
    expect(snapshot.lfs!.unavailable[p2.oid]).toMatch(/not in the source repository's LFS store/);
    const target = join(root, "restored", "tools.git");
    await restoreRepo(app, { repo: "local/tools", target: { kind: "path", path: target } }, { actor });
    expect(await lfsStoreListing(target)).toEqual([`${p1.oid.slice(0, 2)}/${p1.oid.slice(2, 4)}/${p1.oid}`]);
    expect((await readFile(lfsStoreFile(target, p1.oid))).equals(present.bytes)).toBe(true);
  });

  it("fails verification and restore of an archive whose LFS object is not its oid's bytes", async () => {
    // An archive the writer made whole (segments, manifest hashes, index record all agree) but whose
    // lfs/objects/<oid> holds other bytes: only the check against the oid can see it.
    const takenAt = new Date();
    const id = newSnapshotId(takenAt);
    const repo = "acme/forged";
    const oid = createHash("sha256").update("the real object").digest("hex");
    const dataKey = randomBytes(32);
    const wrapped = await app.keys.wrap(dataKey);
    const archive = writeArchive({
      header: {
        aead: "AES256_GCM_HKDF_1MB",
        keyRef: wrapped.keyRef,
        wrappedKey: wrapped.wrapped.toString("base64"),
        snapshotId: id,
        repo,
        createdAt: takenAt.toISOString(),
      },
      dataKey,
      manifest: {
        format: 1,
        snapshotId: id,
        repo,
        takenAt: takenAt.toISOString(),
        kind: "full",
        refs: {},
        prerequisites: [],
      },
      files: [{ path: `lfs/objects/${oid}`, open: () => Readable.from([Buffer.from("something else!")]) }],
      completeManifest: async () => ({ lfs: { objects: 1, bytes: 15, unavailable: [] } }),
    });
    const objectKey = archiveKey(repo, takenAt, id);
    const hash = createHash("sha256");
    archive.stream.on("data", (chunk: Buffer) => hash.update(chunk));
    const [, stored] = await Promise.all([archive.manifest, app.store.put(objectKey, archive.stream)]);
    await app.index.commit({
      id,
      repo,
      takenAt: takenAt.toISOString(),
      kind: "full",
      refs: {},
      objectKey,
      size: stored.size,
      sha256: hash.digest("hex"),
      bundleBytes: 0,
      keyRef: wrapped.keyRef,
      confirmedAt: takenAt.toISOString(),
      lfs: { objects: 1, bytes: 15, unavailableCount: 0, unavailable: {} },
    });
    const named = new RegExp(`LFS object ${oid} from the archive of ${id} has bytes whose SHA-256 is`);
    for (const level of ["quick", "deep"] as const) {
      const { verification } = await verifySnapshot(app, repo, id, { level, actor });
      expect(verification.verdict, level).toBe("failed");
      expect(verification.detail, level).toMatch(named);
    }
    const target = join(root, "restored", "forged.git");
    await expect(
      restoreRepo(app, { repo, target: { kind: "path", path: target } }, { actor }),
    ).rejects.toThrow(named);
    await expect(readdir(target)).rejects.toThrow(/ENOENT/);
  });

  describe("a new full snapshot (a chain restarting)", () => {
    const repo = "acme/reuse";
    const bare = () => join(root, "acme", "reuse.git");
    const objects: LfsPointer[] = [];
    /** Oids downloaded from the object server (status 200) since `from`, and their bytes. */
    const downloadsSince = (from: number) => {
      const oids = lfs.objectRequests
        .slice(from)
        .filter((r) => r.status === 200 && r.path.startsWith(`/${repo}/`))
        .map((r) => r.path.slice(repo.length + 2));
      return { oids: oids.sort(), bytes: oids.reduce((sum, oid) => sum + served.get(oid)!.length, 0) };
    };
    const batchOidsSince = (from: number) =>
      lfs.batchRequests
        .slice(from)
        .filter((r) => r.repo === repo && r.status === 200)
        .map((r) => r.oids.sort());
    /** A full snapshot, as the daily chain restart or the weekly reconciliation takes it. */
    const fullBackup = async () => {
      const source = (await app.sources.getRepo(repo))!;
      const result = await backupRepository(app, source, backupPolicy(app.settings, "inline"), {
        actor,
        full: true,
      });
      expect(result.error).toBeUndefined();
      expect(result.snapshot!.snapshot.kind).toBe("full");
      return result;
    };
    /** Restores the snapshot to a folder and checks every object equals what the server serves. */
    const restoresAll = async (snapshot: Snapshot, name: string) => {
      const target = join(root, "restored", name);
      await restoreRepo(
        app,
        { repo, snapshotId: snapshot.id, target: { kind: "path", path: target } },
        { actor },
      );
      expect(await lfsStoreListing(target)).toEqual(
        objects.map((p) => `${p.oid.slice(0, 2)}/${p.oid.slice(2, 4)}/${p.oid}`).sort(),
      );
      for (const p of objects)
        expect((await readFile(lfsStoreFile(target, p.oid))).equals(served.get(p.oid)!)).toBe(true);
    };
    /** The archive file of a snapshot in the local data folder. */
    const archiveFile = (snapshot: Snapshot) => join(ws.dir, "data", "archives", snapshot.objectKey);

    it("copies the objects the latest chain holds from its archives and downloads only new ones", async () => {
      github.addRepo(repo);
      await initBare(bare());
      objects.push(lfsObject(repo, 1_300_000), lfsObject(repo, 40_000), lfsObject(repo, 3));
      await commitFiles(bare(), "main", {
        "a.bin": objects[0]!,
        "b.bin": objects[1]!,
        "c.bin": objects[2]!,
      });
      let from = lfs.objectRequests.length;
      let batches = lfs.batchRequests.length;
      const first = await fullBackup();
      // Before: a full snapshot downloads every object (one batch request, one GET each).
      const before = downloadsSince(from);
      expect(before.oids).toEqual(objects.map((p) => p.oid).sort());
      expect(before.bytes).toBe(1_340_003);
      expect(batchOidsSince(batches)).toEqual([objects.map((p) => p.oid).sort()]);
      expect(first.snapshot!.snapshot.lfs?.reused).toBeUndefined();

      const added = lfsObject(repo, 70_000);
      objects.push(added);
      await commitFiles(bare(), "main", { "d.bin": added });
      from = lfs.objectRequests.length;
      batches = lfs.batchRequests.length;
      const second = await fullBackup();
      // After: the three the previous chain holds are copied from its archive; only the new one is downloaded.
      const after = downloadsSince(from);
      expect(after.oids).toEqual([added.oid]);
      expect(after.bytes).toBe(70_000);
      expect(batchOidsSince(batches)).toEqual([[added.oid]]);
      const snapshot = second.snapshot!.snapshot;
      const total = objects.reduce((sum, p) => sum + p.size, 0);
      expect(snapshot.lfs).toEqual({
        objects: 4,
        bytes: total,
        reused: 3,
        unavailableCount: 0,
        unavailable: {},
      });
      // The new archive holds every object itself (self-contained), each entry's SHA-256 its oid.
      const manifest = await manifestOf(snapshot);
      expect(manifest.lfs).toEqual({ objects: 4, bytes: total, unavailable: [] });
      expect(
        manifest.entries
          .filter((e) => e.path.startsWith("lfs/"))
          .map((e) => [e.path, e.size, e.sha256])
          .sort(),
      ).toEqual(objects.map((p) => [`lfs/objects/${p.oid}`, p.size, p.oid]).sort());
      expect(second.verify?.verification.verdict).toBe("ok");
      // It restores alone, with the older chain gone.
      await rename(archiveFile(first.snapshot!.snapshot), `${archiveFile(first.snapshot!.snapshot)}.gone`);
      await restoresAll(snapshot, "reuse-1.git");
      await rename(`${archiveFile(first.snapshot!.snapshot)}.gone`, archiveFile(first.snapshot!.snapshot));
    });

    it("downloads everything again when the latest archive is missing", async () => {
      const latest = (await app.index.latest(repo))!;
      await rename(archiveFile(latest), `${archiveFile(latest)}.gone`);
      const from = lfs.objectRequests.length;
      const result = await fullBackup();
      expect(downloadsSince(from).oids).toEqual(objects.map((p) => p.oid).sort());
      expect(result.snapshot!.snapshot.lfs).toMatchObject({ objects: 4, unavailableCount: 0 });
      expect(result.snapshot!.snapshot.lfs?.reused).toBeUndefined();
      await restoresAll(result.snapshot!.snapshot, "reuse-2.git");
    });

    it("downloads the rest of an object whose old archive breaks in its middle, and what follows", async () => {
      const latest = (await app.index.latest(repo))!;
      // Flip one byte of the archive 90% into the largest object (1.3 MB): the 1 MiB segment that
      // holds it fails its authentication after the object's first bytes were copied, so the rest
      // of it is downloaded (its first bytes skipped), and so is every object after it.
      const manifest = await manifestOf(latest);
      const big = objects[0]!;
      const tarBytes = (size: number, parts: number) => parts * 512 + Math.ceil(size / 512) * 512;
      let after = 4 * 1024; // the manifest's own entry and the tar's end, about
      for (const e of manifest.entries.slice(manifest.entries.findIndex((e) => e.sha256 === big.oid) + 1))
        after += tarBytes(e.size, e.parts.length);
      const file = archiveFile(latest);
      const bytes = await readFile(file);
      const at = bytes.length - Math.round((after + big.size / 10) * (1 + 16 / (1024 * 1024)));
      bytes[at] = bytes[at]! ^ 0xff;
      await writeFile(file, bytes);
      const from = lfs.objectRequests.length;
      const batches = lfs.batchRequests.length;
      const result = await fullBackup();
      const downloaded = downloadsSince(from).oids;
      expect(downloaded).toContain(big.oid);
      expect(batchOidsSince(batches).flat().sort()).toEqual(downloaded);
      const reused = objects.length - downloaded.length;
      expect(result.snapshot!.snapshot.lfs).toMatchObject({
        objects: 4,
        ...(reused ? { reused } : {}),
        unavailableCount: 0,
      });
      expect(result.verify?.verification.verdict).toBe("ok");
      await restoresAll(result.snapshot!.snapshot, "reuse-3.git");
    });
  });

  it("never lets a token reach the data folder, the audit log or an error", async () => {
    const tokens = new Set(gitServer.requests.map((r) => r.password).filter((p): p is string => !!p));
    expect(tokens.size).toBeGreaterThan(0);
    const needles = [...tokens].flatMap((t) => [t, Buffer.from(`x-access-token:${t}`).toString("base64")]);
    for (const file of await filesUnder(ws.dir)) {
      const bytes = await readFile(file);
      for (const needle of needles) expect(bytes.includes(needle), file).toBe(false);
    }
    for (const message of errors) for (const needle of needles) expect(message).not.toContain(needle);
    // No request path carried one either (the object server's hrefs hold only their own signature).
    for (const r of [...lfs.objectRequests, ...gitServer.requests])
      for (const needle of needles) expect("path" in r ? r.path : r.url).not.toContain(needle);
  });
});
