// Layer archives: a pack written as a layer reads back as the same objects (its pack indexes to
// exactly the source's objects, its oids are exactly their ids), an empty pack stores nothing,
// and damage (a flipped byte, the oids archive in the pack's place, a record that lies) is refused.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveCorruptError } from "../../../functions/core/errors.js";
import { git, startGit } from "../../../functions/core/git/exec.js";
import { indexPack, initBare } from "../../../functions/core/git/local-repo.js";
import { readLayerOids, readLayerPack } from "../../../functions/core/layers/archive-read.js";
import { writeLayer } from "../../../functions/core/layers/archive.js";
import type { Layer } from "../../../functions/core/model.js";
import type { LocalApp as App } from "../../../functions/wiring.js";
import { objectsOf, richRepo } from "../../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../../helpers/local-app.js";

const actor = "test";
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
let layer: Layer;

/** Every object of `repo` as one pack (what a fetch with no haves sends). */
function packOf(repo: string, revs?: string): Readable {
  const args = ["pack-objects", "--stdout", "--revs", "--quiet", ...(revs ? [] : ["--all"])];
  const run = startGit(args, { env: { GIT_DIR: repo }, stdin: "pipe" });
  run.child.stdin!.end(revs ? `${revs}\n` : "");
  run.done.catch(() => undefined);
  return run.child.stdout!;
}

const stored = (key: string) => join(ws.dir, "data", "archives", key);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layer-archive-"));
  source = await richRepo(scratch);
  ws = await workspace({});
  app = await ws.open();
  layer = (await writeLayer(app, "acme/app", packOf(source), 0, { actor }))!;
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("writeLayer and its readers", () => {
  it("round trip: the pack indexes to the source's objects and the oids are exactly their ids", async () => {
    const expected = (await objectsOf(source)).split("\n");
    expect(layer).toMatchObject({
      lineage: "acme/app",
      level: 0,
      objectKey: `layers/acme/app/${layer.id}.ibk`,
      oidsKey: `layers/acme/app/${layer.id}.oids.ibk`,
      objects: expected.length,
      state: "live",
    });
    expect([...(await readLayerOids(app, layer))]).toEqual(expected);
    const repo = join(scratch, `read-${layer.id}.git`);
    await initBare(repo);
    const bytes = await readLayerPack(app, layer, (pack) => indexPack(repo, pack));
    expect(bytes).toBe(layer.size);
    const restored = await git(["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], {
      env: { GIT_DIR: repo },
    });
    expect(restored.split("\n").filter(Boolean).sort()).toEqual(expected);
  });

  it("the stored archives hold no clear text of the pack or its paths", async () => {
    for (const key of [layer.objectKey, layer.oidsKey]) {
      const archive = await readFile(stored(key));
      expect(archive.includes(Buffer.from("PACK"))).toBe(false);
      expect(archive.includes(Buffer.from("git/layer."))).toBe(false);
      expect(archive.includes(Buffer.from(layer.id))).toBe(true); // the clear-text header names it
    }
  });

  it("an empty pack stores no layer", async () => {
    const head = (await git(["rev-parse", "HEAD"], { env: { GIT_DIR: source } })).trim();
    const empty = packOf(source, `${head}\n^${head}`);
    expect(await writeLayer(app, "acme/app", empty, 0, { actor })).toBeUndefined();
    const keys: string[] = [];
    for await (const info of app.store.list("layers/acme/app/")) keys.push(info.key);
    expect(keys).toEqual([layer.objectKey, layer.oidsKey].sort());
  });

  it("a flipped byte in either archive is refused", async () => {
    for (const key of [layer.objectKey, layer.oidsKey]) {
      const original = await readFile(stored(key));
      const damaged = Buffer.from(original);
      damaged.writeUInt8(damaged.readUInt8(damaged.length - 100) ^ 0x01, damaged.length - 100);
      await writeFile(stored(key), damaged);
      try {
        const read =
          key === layer.objectKey
            ? readLayerPack(app, layer, async (pack) => void pack.resume())
            : readLayerOids(app, layer);
        await expect(read).rejects.toBeInstanceOf(ArchiveCorruptError);
      } finally {
        await writeFile(stored(key), original);
      }
    }
  });

  it("the oids archive in the pack's place, or a record that lies, is refused by name", async () => {
    const swapped = { ...layer, objectKey: layer.oidsKey, size: layer.oidsSize, sha256: layer.oidsSha256 };
    await expect(readLayerPack(app, swapped, async (p) => void p.resume())).rejects.toThrow(
      /its pack is absent bytes/,
    );
    await expect(readLayerOids(app, { ...layer, objects: layer.objects - 1 })).rejects.toThrow(
      /exceed the .* objects of its record/,
    );
    await expect(readLayerOids(app, { ...layer, oidsSha256: "0".repeat(64) })).rejects.toThrow(
      /bytes differ from the layer record/,
    );
    await expect(readLayerOids(app, { ...layer, id: "20260101T000000000Z-deadbeef" })).rejects.toThrow(
      /header belongs to acme\/app/,
    );
  });
});
