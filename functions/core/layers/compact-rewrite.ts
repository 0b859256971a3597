// Live-share rewriting (docs/ARCHITECTURE.md, "Garbage and live-share rewriting"): the walk over
// the objects the kept snapshots reach, and the choice of layers to rewrite without the others. A
// layer whose reached objects are under half of its objects (a force-pushed-away branch, a deleted
// tag of an expired snapshot) is rewritten by a merge whose output keeps only reached objects and
// what the layers that stay name (compact.ts mergeLayers with `keep`), under the same T-merge at
// the generation read before the walk, so no snapshot committed meanwhile can lose an object. A
// full rewrite (`full`) merges every live layer into one holding exactly the reached objects (no
// layer stays, so nothing else is named): after it and layer garbage, the store holds no git
// object that no kept snapshot needs, at the price of rewriting the repository.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import type { Deps } from "../deps.js";
import { drained } from "../drained.js";
import { describeError } from "../errors.js";
import { startGit } from "../git/exec.js";
import { indexPack, initBare, setRefs } from "../git/local-repo.js";
import { OID_BYTES, OidSet } from "../git/oid-set.js";
import type { Layer } from "../model.js";
import { makeScratch } from "../scratch.js";
import { readLayerOids, readLayerPack } from "./archive-read.js";
import { unionOf } from "./compact-pack.js";
import { layerResolver } from "./resolve.js";

/** A layer is rewritten when fewer than this share of its objects are reached by kept snapshots. */
export const LIVE_SHARE_MIN = 0.5;

export interface RewritePlan {
  /** The generation read before the walk: T-merge must still find it. */
  generation: number;
  /** The layers to merge into one (those under the share, plus a healthy one when they hold nothing reached). */
  inputs: Layer[];
  /**
   * What the merge keeps: every object a kept snapshot reaches, and every object the layers that
   * stay name (directly or through others), so no layer is left naming an object none holds.
   */
  keep: OidSet;
  /** Each live layer's reached and total objects. */
  shares: { layerId: string; live: number; objects: number }[];
}

/**
 * Walks the objects every kept layered snapshot of `repo` reaches (every live layer indexed into
 * one scratch repository, about a restore, then `git rev-list --objects` from their tips) and plans
 * the rewrite. Resolves with undefined and a reason when there is nothing to rewrite, or when a
 * kept snapshot does not resolve (then nothing is touched).
 */
export async function planRewrite(
  deps: Deps,
  repo: string,
  lineage: string,
  options: { full?: boolean } = {},
): Promise<{ plan?: RewritePlan; reason?: string }> {
  const index = deps.layers!;
  const { generation } = await index.layerState(lineage);
  const snapshots = (await deps.index.list(repo)).filter((snapshot) => snapshot.kind === "layered");
  const all = await index.layers(lineage);
  const live = all.filter((layer) => layer.state === "live");
  if (live.length === 0 || snapshots.length === 0) return { reason: "no live layers" };
  const resolver = layerResolver(all);
  for (const snapshot of snapshots) {
    try {
      resolver.resolve(snapshot);
    } catch (err) {
      return {
        reason: `snapshot ${snapshot.id} does not resolve, so nothing is rewritten: ${describeError(err)}`,
      };
    }
  }
  const scratch = await makeScratch("live-share");
  try {
    const dir = join(scratch, "walk.git");
    await initBare(dir);
    const oids: OidSet[] = [];
    for (const layer of live) {
      await readLayerPack(deps, layer, (pack) => indexPack(dir, pack));
      oids.push(await readLayerOids(deps, layer));
    }
    const tips = [...new Set(snapshots.flatMap((snapshot) => Object.values(snapshot.refs)))];
    await setRefs(dir, Object.fromEntries(tips.map((oid, i) => [`refs/kept/${i}`, oid])));
    const reached = await reachedObjects(dir);
    const shares = live.map((layer, i) => ({
      layerId: layer.id,
      live: countIn(oids[i]!, reached),
      objects: layer.objects,
    }));
    if (options.full) return planFull(live, shares, generation, reached);
    const low = live.filter((_, i) => shares[i]!.live < shares[i]!.objects * LIVE_SHARE_MIN);
    if (low.length === 0) return { reason: "every live layer is at least half live" };
    const inputs = [...low];
    // A merge needs an output: layers holding nothing reached go with the smallest healthy one.
    if (low.every((layer) => shares[live.indexOf(layer)]!.live === 0)) {
      const healthy = live.filter((layer) => !low.includes(layer)).sort((a, b) => a.objects - b.objects)[0];
      if (!healthy) return { reason: "no live layer holds an object a kept snapshot reaches" };
      inputs.push(healthy);
    }
    // A layer that stays may hold objects nobody reaches that name objects of the rewritten ones
    // (a force-pushed-away commit whose parent or blob came in an earlier layer). Those are kept
    // too, so every layer stays closed over the live layers' union (invariant 6): otherwise a
    // restore or per-layer verification of a kept snapshot finds a link to an object no layer holds.
    const staying = oids.filter((_, i) => !inputs.includes(live[i]!));
    const keep = staying.length ? await reachedObjects(dir, staying) : reached;
    // Nothing to drop (what nobody reaches is all named by staying layers): a rewrite would only
    // write the same objects again, on every run.
    const held = unionOf(oids.filter((_, i) => inputs.includes(live[i]!)));
    if (intersectOf(held, keep).size === held.size)
      return { reason: "the layers under half live hold only objects that layers staying name" };
    return { plan: { generation, inputs, keep, shares } };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A full rewrite (`prune --compact --full`): every live layer into one that holds exactly what the
 * kept snapshots reach, each object once. Nothing to do when that is already the case.
 */
function planFull(
  live: Layer[],
  shares: RewritePlan["shares"],
  generation: number,
  keep: OidSet,
): { plan?: RewritePlan; reason?: string } {
  if (live.length === 1 && shares[0]!.live === shares[0]!.objects)
    return { reason: "one live layer already, holding only objects kept snapshots reach" };
  return { plan: { generation, inputs: [...live], keep, shares } };
}

/**
 * Every object reachable from the repository's refs (`git rev-list --objects --all`), and from
 * every object of `from` when given, as a set.
 */
async function reachedObjects(dir: string, from?: readonly OidSet[]): Promise<OidSet> {
  const run = startGit(["rev-list", "--objects", "--all", ...(from ? ["--stdin"] : [])], {
    env: { GIT_DIR: dir },
    stdin: from ? "pipe" : "ignore",
  });
  const fed = from ? feedOids(run.child.stdin!, from) : Promise.resolve();
  fed.catch(() => undefined); // a dead rev-list reports through `done`
  let found = Buffer.alloc(64 * OID_BYTES);
  let used = 0;
  for await (const line of createInterface({ input: run.child.stdout!, crlfDelay: Infinity })) {
    if (line.length < 40) continue;
    if (used + OID_BYTES > found.length) {
      const bigger = Buffer.alloc(found.length * 2);
      found.copy(bigger, 0, 0, used);
      found = bigger;
    }
    found.write(line.slice(0, 40), used, "hex");
    used += OID_BYTES;
  }
  await Promise.all([run.done, fed]);
  return sortedSet(found.subarray(0, used));
}

/** Writes every id of `sets` to `stdin`, one a line, then ends it. */
async function feedOids(stdin: Writable, sets: readonly OidSet[]): Promise<void> {
  stdin.on("error", () => undefined);
  for (const set of sets) {
    for (let i = 0; i < set.size; i++) if (!stdin.write(`${set.at(i)}\n`)) await drained(stdin);
  }
  stdin.end();
}

/** The 20-byte ids in `bytes`, sorted and deduplicated, as an OidSet. */
function sortedSet(bytes: Buffer): OidSet {
  const n = bytes.length / OID_BYTES;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) =>
    bytes.compare(bytes, b * OID_BYTES, (b + 1) * OID_BYTES, a * OID_BYTES, (a + 1) * OID_BYTES),
  );
  const out = Buffer.alloc(bytes.length);
  let used = 0;
  for (const i of order) {
    const start = i * OID_BYTES;
    if (used > 0 && bytes.compare(out, used - OID_BYTES, used, start, start + OID_BYTES) === 0) continue;
    bytes.copy(out, used, start, start + OID_BYTES);
    used += OID_BYTES;
  }
  return OidSet.fromBytes(out.subarray(0, used), "objects the kept snapshots reach");
}

function countIn(set: OidSet, keep: OidSet): number {
  let count = 0;
  for (let i = 0; i < set.size; i++)
    if (keep.has(set.bytes.subarray(i * OID_BYTES, (i + 1) * OID_BYTES))) count++;
  return count;
}

/** The objects of `set` that `keep` holds, sorted as `set` is. */
export function intersectOf(set: OidSet, keep: OidSet): OidSet {
  const out = Buffer.alloc(set.bytes.length);
  let used = 0;
  for (let i = 0; i < set.size; i++) {
    const oid = set.bytes.subarray(i * OID_BYTES, (i + 1) * OID_BYTES);
    if (!keep.has(oid)) continue;
    oid.copy(out, used);
    used += OID_BYTES;
  }
  return OidSet.fromBytes(out.subarray(0, used), "objects kept by a rewrite");
}
