// What the layers property test asserts about a repository's backups: the index is consistent
// (every kept snapshot resolves to live layers whose archives are stored), every kept snapshot
// restores exactly as the source was when it was taken and passes `git fsck --full`, and, after a
// full compaction with the grace period passed, what the store still holds.
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { gitEnv } from "../../functions/core/git/exec.js";
import { fsck, indexPack, initBare } from "../../functions/core/git/local-repo.js";
import { readLayerOids, readLayerPack } from "../../functions/core/layers/archive-read.js";
import { LIVE_SHARE_MIN } from "../../functions/core/layers/compact-rewrite.js";
import { resolveLayers } from "../../functions/core/layers/resolve.js";
import type { Layer, Snapshot } from "../../functions/core/model.js";
import { restoreRepo } from "../../functions/core/restore.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { headOf, objectsOf, refsOf } from "../helpers/git-repos.js";

/** The source as it was when a snapshot was taken. */
export interface Taken {
  refs: string;
  objects: string;
  head: string;
}

export async function sourceNow(source: string): Promise<Taken> {
  return { refs: await refsOf(source), objects: await objectsOf(source), head: await headOf(source) };
}

/** `refsOf`'s text as name -> object id. */
const refMap = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" "))
      .map(([oid, , name]) => [name!, oid!]),
  );

/**
 * The index is consistent: every kept snapshot is one the test took, records the source's refs as
 * they were, and reads stored archives only: a layered one resolves to live layers whose pack and
 * oids are stored, an old one has its archive and its parent.
 */
export async function checkIndex(
  app: App,
  repo: string,
  taken: Map<string, Taken>,
  where: string,
): Promise<void> {
  const kept = await app.index.list(repo);
  const layers = await app.layers!.layers(repo);
  const ids = new Set(kept.map((s) => s.id));
  const problems: string[] = [];
  const stored = async (key: string, what: string) => {
    if (!(await app.store.stat(key))) problems.push(`${what}: ${key} is not stored`);
  };
  for (const snapshot of kept) {
    const was = taken.get(snapshot.id);
    if (!was) problems.push(`snapshot ${snapshot.id} is not one the test took`);
    else if (JSON.stringify(snapshot.refs) !== JSON.stringify(refMap(was.refs)))
      problems.push(`snapshot ${snapshot.id} records refs ${JSON.stringify(snapshot.refs)}, not ${was.refs}`);
    await stored(snapshot.objectKey, `archive of ${snapshot.id}`);
    if (snapshot.kind !== "layered") {
      if (snapshot.parentId && !ids.has(snapshot.parentId))
        problems.push(`parent ${snapshot.parentId} of ${snapshot.id} is gone`);
      continue;
    }
    let resolved: Layer[];
    try {
      resolved = resolveLayers(snapshot, layers);
    } catch (err) {
      problems.push(`snapshot ${snapshot.id} does not resolve: ${(err as Error).message}`);
      continue;
    }
    for (const layer of resolved) {
      if (layer.state !== "live")
        problems.push(`${snapshot.id} resolves to ${layer.state} layer ${layer.id}`);
      await stored(layer.objectKey, `pack of layer ${layer.id} (${snapshot.id})`);
      await stored(layer.oidsKey, `oids of layer ${layer.id} (${snapshot.id})`);
    }
  }
  expect(problems, `${where}: the index`).toEqual([]);
}

/**
 * Restores every kept snapshot: exactly its refs, objects and HEAD, and `git fsck --full` passes.
 * With `memo`, a snapshot that restored before from the same archive and the same layers (which
 * are immutable, and checkIndex finds stored) is not restored again. Resolves with how many it restored.
 */
export async function checkRestores(
  app: App,
  repo: string,
  taken: Map<string, Taken>,
  scratch: string,
  where: string,
  memo?: Map<string, string>,
): Promise<number> {
  const layers = await app.layers!.layers(repo);
  const readsOf = (s: Snapshot) =>
    [s.objectKey, ...(s.kind === "layered" ? resolveLayers(s, layers).map((l) => l.id) : [])].join(" ");
  const list = (await app.index.list(repo)).filter((s) => memo?.get(s.id) !== readsOf(s));
  for (const snapshot of list) {
    const id = snapshot.id;
    const path = join(scratch, `restore-${id}.git`);
    try {
      await restoreRepo(app, { repo, snapshotId: id, target: { kind: "path", path } }, { actor: "property" });
      const was = taken.get(id)!;
      expect(await refsOf(path), `${where}: refs of ${id}`).toBe(was.refs);
      expect(await objectsOf(path), `${where}: objects of ${id}`).toBe(was.objects);
      expect(await headOf(path), `${where}: HEAD of ${id}`).toBe(was.head);
      await fsck(path, "full");
      memo?.set(id, readsOf(snapshot));
    } catch (err) {
      throw new Error(`${where}: restore of ${id}: ${(err as Error).message}`, { cause: err });
    } finally {
      await rm(path, { recursive: true, force: true });
    }
  }
  return list.length;
}

/** What the store holds after a full compaction, in objects. */
export interface StoredObjects {
  liveLayers: number;
  /** Objects in stored layers, counted once per layer (a copy in two layers counts twice). */
  stored: number;
  /** Stored objects no kept snapshot reaches. */
  unneeded: number;
  /** Of those, in layers under the live share (kept because a layer at the share names them). */
  namedByOthers: number;
  /** Objects held by more than one stored layer. */
  duplicated: number;
}

/**
 * After a full compaction (compaction run until it does nothing, then layer garbage past the grace
 * period and the store's retention): the store holds exactly the kept snapshots' own archives and
 * the archives of the live layers they resolve to (no orphan, no retired or dead layer, no live
 * layer nobody reads); every object a kept snapshot reaches is in one of those layers; and every
 * object nobody reaches is either in a layer at least LIVE_SHARE_MIN reached or named (directly
 * or through others) by an object of such a layer, which the rewrite must keep so that layer stays
 * closed (invariant 6). So up to half of a layer, and what such garbage names, may be objects
 * nobody needs: "no stored object is unneeded" is not what the product promises.
 */
export async function checkStoreAfterFullCompaction(
  app: App,
  repo: string,
  taken: Map<string, Taken>,
  scratch: string,
  where: string,
): Promise<StoredObjects> {
  const kept: Snapshot[] = await app.index.list(repo);
  // Compaction folds every old chain in once the repository has a layered snapshot.
  if (kept.some((s) => s.kind === "layered"))
    expect(
      kept.filter((s) => s.kind !== "layered").map((s) => s.id),
      `${where}: old snapshots left unfolded`,
    ).toEqual([]);
  const layered = kept.filter((s) => s.kind === "layered");
  const layers = await app.layers!.layers(repo);
  const read = new Map<string, Layer>();
  for (const snapshot of layered)
    for (const layer of resolveLayers(snapshot, layers)) read.set(layer.id, layer);
  const expected = new Set([
    ...kept.map((s) => s.objectKey),
    ...[...read.values()].flatMap((l) => [l.objectKey, l.oidsKey]),
  ]);
  const keys: string[] = [];
  for (const prefix of [`repos/${repo}/`, `layers/${repo}/`])
    for await (const object of app.store.list(prefix)) keys.push(object.key);
  expect(keys.sort(), `${where}: the store holds exactly what kept snapshots read`).toEqual(
    [...expected].sort(),
  );
  expect(
    layers.filter((l) => l.state === "live" && !read.has(l.id)).map((l) => l.id),
    `${where}: live layers no kept snapshot reads`,
  ).toEqual([]);

  const needed = new Set(layered.flatMap((s) => taken.get(s.id)!.objects.split("\n").filter(Boolean)));
  const seen = new Map<string, number>();
  const healthy: string[] = [];
  const lowGarbage: string[] = [];
  let unneeded = 0;
  for (const layer of read.values()) {
    const oids = await readLayerOids(app, layer);
    const ids = Array.from({ length: oids.size }, (_, i) => oids.at(i));
    for (const oid of ids) seen.set(oid, (seen.get(oid) ?? 0) + 1);
    const garbage = ids.filter((oid) => !needed.has(oid));
    unneeded += garbage.length;
    if (ids.length - garbage.length < ids.length * LIVE_SHARE_MIN) lowGarbage.push(...garbage);
    else healthy.push(...ids);
  }
  const missing = [...needed].filter((oid) => !seen.has(oid));
  expect(missing, `${where}: objects kept snapshots need that no stored layer holds`).toEqual([]);
  if (lowGarbage.length) {
    const named = await namedFrom(app, [...read.values()], healthy, scratch);
    expect(
      lowGarbage.filter((oid) => !named.has(oid)),
      `${where}: unneeded objects in layers under the live share that no layer at the share names`,
    ).toEqual([]);
  }
  return {
    liveLayers: read.size,
    stored: [...seen.values()].reduce((a, b) => a + b, 0),
    unneeded,
    namedByOthers: lowGarbage.length,
    duplicated: [...seen.values()].filter((n) => n > 1).length,
  };
}

/** Every object reachable from `from`, in a scratch repository holding every object of `layers`. */
async function namedFrom(app: App, layers: Layer[], from: string[], scratch: string): Promise<Set<string>> {
  const dir = join(scratch, "named.git");
  await initBare(dir);
  try {
    for (const layer of layers) await readLayerPack(app, layer, (pack) => indexPack(dir, pack));
    const listed = spawnSync("git", ["rev-list", "--objects", "--stdin"], {
      input: from.map((oid) => `${oid}\n`).join(""),
      encoding: "utf8",
      env: gitEnv({ GIT_DIR: dir }),
      maxBuffer: 1 << 28,
    });
    if (listed.status !== 0) throw new Error(`git rev-list in ${dir}: ${listed.stderr}`);
    return new Set(listed.stdout.split("\n").map((line) => line.slice(0, 40)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
