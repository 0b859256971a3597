// The world the layered integration tests share: a rich repository in a scratch folder, a local app
// over it on a manual clock, and snapshots taken an hour apart, each recorded with the source's
// refs, objects and HEAD then, so that a test can restore any of them and compare with the source.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "vitest";
import { fsck } from "../../functions/core/git/local-repo.js";
import type { Deps } from "../../functions/core/deps.js";
import type { Snapshot } from "../../functions/core/model.js";
import { layerPrefixes, repoPrefix } from "../../functions/core/object-keys.js";
import { pruneRepo, type PruneReport } from "../../functions/core/prune.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { parseRetentionPolicy, type RetentionPolicyInput } from "../../functions/core/retention-policy.js";
import { snapshotRepo, type SnapshotOptions } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { headOf, objectsOf, pushCommit, refsOf, richRepo } from "./git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "./local-app.js";

export const REPO = "acme/app";
export const actor = "test";
const HOUR = 3_600_000;

/** A snapshot with what the source held when it was taken. */
export interface Taken {
  snapshot: Snapshot;
  refs: string;
  objects: string;
  head: string;
}

export interface LayeredWorldOptions {
  /** Names the scratch folder (`infinity-<name>-…`). */
  name: string;
  /** The clock's start (default 2026-11-27T00:00:00.000Z). */
  start?: string;
  /** Config appended to the workspace's (e.g. "snapshots:\n  layers: true\n"). */
  config?: string;
}

interface Opened {
  scratch: string;
  source: string;
  ws: TestWorkspace;
  app: App;
}

export class LayeredWorld {
  readonly clock: ReturnType<typeof manualClock>;
  /** Every snapshot `snap` took, by id, in the order taken. */
  readonly taken = new Map<string, Taken>();
  #open?: Opened;
  #restores = 0;

  constructor(private readonly options: LayeredWorldOptions) {
    this.clock = manualClock(options.start);
  }

  /** Makes the source repository and opens the app over it (in `beforeAll`). */
  async open(): Promise<void> {
    const scratch = await mkdtemp(join(tmpdir(), `infinity-${this.options.name}-`));
    const source = await richRepo(scratch);
    const ws = await workspace({ [REPO]: source }, this.options.config);
    this.#open = { scratch, source, ws, app: await ws.open(this.clock) };
  }

  get app(): App {
    return this.#world().app;
  }
  get ws(): TestWorkspace {
    return this.#world().ws;
  }
  /** The source repository (bare), for `pushCommit` and `git`. */
  get source(): string {
    return this.#world().source;
  }
  /** A folder thrown away with the world, for restores and other files. */
  get scratch(): string {
    return this.#world().scratch;
  }

  /** Pushes a commit that writes `text` to `file` on `branch` of the source; returns its oid. */
  push(branch: string, file: string, text: string): Promise<string> {
    return pushCommit(this.source, branch, file, text);
  }

  /** The file that holds the archive stored under `key`. */
  archiveFile(key: string): string {
    return join(this.ws.dir, "data", "archives", key);
  }

  /** Runs `check` while the archive under `key` has one byte flipped (at `at(length)`), then mends it. */
  async withFlippedByte(
    key: string,
    at: (length: number) => number,
    check: () => Promise<void>,
  ): Promise<void> {
    const file = this.archiveFile(key);
    const original = await readFile(file);
    const damaged = Buffer.from(original);
    const offset = at(damaged.length);
    damaged.writeUInt8(damaged.readUInt8(offset) ^ 0x01, offset);
    await writeFile(file, damaged);
    try {
      await check();
    } finally {
      await writeFile(file, original);
    }
  }

  /**
   * An hour later, a new snapshot of the source (layered unless `options.layers` is false),
   * recorded in `taken`.
   */
  async snap(options: Omit<Partial<SnapshotOptions>, "actor"> = {}): Promise<Taken> {
    this.clock.advance(HOUR);
    const layers = options.layers ?? true;
    const outcome = await snapshotRepo(this.app, REPO, { url: this.source }, { actor, ...options, layers });
    expect(outcome.outcome).toBe("created");
    if (layers) expect(outcome.snapshot.kind).toBe("layered");
    const t: Taken = {
      snapshot: outcome.snapshot,
      refs: await refsOf(this.source),
      objects: await objectsOf(this.source),
      head: await headOf(this.source),
    };
    this.taken.set(t.snapshot.id, t);
    return t;
  }

  /** The size of every object stored under `prefixes` (default: the repository's archives and layers), by key. */
  async stored(prefixes = [repoPrefix(REPO), ...layerPrefixes(REPO)]): Promise<Map<string, number>> {
    const objects = new Map<string, number>();
    for (const prefix of prefixes)
      for await (const object of this.app.store.list(prefix)) objects.set(object.key, object.size);
    return objects;
  }

  /** Prunes the repository by `policy`, for real (`compact`: merging layers too), through `deps`. */
  prune(
    policy: RetentionPolicyInput,
    options: { compact?: boolean; fullCompaction?: boolean } = {},
    deps: Deps = this.app,
  ): Promise<PruneReport> {
    return pruneRepo(deps, REPO, parseRetentionPolicy(policy), { dryRun: false, actor, ...options });
  }

  /** Restores snapshot `id` into the scratch folder (to `name`, or a new name), returning its path. */
  async restore(id: string, name = `restore-${id}-${++this.#restores}.git`): Promise<string> {
    const path = join(this.scratch, name);
    await restoreRepo(this.app, { repo: REPO, snapshotId: id, target: { kind: "path", path } }, { actor });
    return path;
  }

  /** The repository at `path` has exactly the refs, objects and HEAD snapshot `id` was taken with. */
  async expectAsTaken(path: string, id: string, check: { fsck?: boolean } = {}): Promise<void> {
    const t = this.taken.get(id);
    expect(t, `snapshot ${id} was not taken by this world`).toBeDefined();
    expect(await refsOf(path), id).toBe(t!.refs);
    expect(await objectsOf(path), id).toBe(t!.objects);
    expect(await headOf(path), id).toBe(t!.head);
    if (check.fsck) await fsck(path, "full");
  }

  /** Restores snapshot `id`, checks it is as taken, and removes the restored copy. */
  async expectRestoresAsTaken(id: string): Promise<void> {
    const path = await this.restore(id);
    await this.expectAsTaken(path, id);
    await rm(path, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await this.#open?.app.close();
    await this.#open?.ws.cleanup();
    if (this.#open) await rm(this.#open.scratch, { recursive: true, force: true });
  }

  #world(): Opened {
    if (!this.#open) throw new Error("the layered world is not open yet: call world.open() in beforeAll");
    return this.#open;
  }
}

/** A world for one test file, closed after all its tests. */
export function layeredWorld(options: LayeredWorldOptions): LayeredWorld {
  const world = new LayeredWorld(options);
  afterAll(() => world.close());
  return world;
}
