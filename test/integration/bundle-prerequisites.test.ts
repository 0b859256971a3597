// Every bundle of an incremental chain is a bundle git itself accepts once the parents are in the
// repository: its prerequisites are commits (annotated tags peeled, tags of trees and blobs left
// out). Proved with real `git bundle verify` and `git fetch` on the bundles our reader extracts,
// over a local path and over smart HTTP, and for a parent recorded before tags were peeled.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import { snapshotChain } from "../../functions/core/chain.js";
import type { Deps } from "../../functions/core/deps.js";
import { git } from "../../functions/core/git/exec.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import type { Snapshot } from "../../functions/core/model.js";
import { readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { BUNDLE_PATH } from "../../functions/core/archive/paths.js";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server.js";
import { pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

type App = Awaited<ReturnType<TestWorkspace["open"]>>;

const actor = "test";
const policy: IncrementalPolicy = { maxChain: 10, fullEveryMs: 20 * 3600 * 1000 };
const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};
let scratch: string;
let server: GitHttpServer;

const inRepo = (repo: string, ...args: string[]) => git(args, { env: { GIT_DIR: repo, ...IDENTITY } });

/** Adds the awkward tags: a tag of a tag, a tag of a tree, a lightweight tag of a blob, a tag of a blob. */
async function addOddTags(repo: string, suffix: string): Promise<void> {
  await inRepo(repo, "tag", "-a", "-m", `release ${suffix}`, `rel-${suffix}`, "refs/heads/main");
  await inRepo(repo, "tag", "-a", "-m", `tag of a tag ${suffix}`, `tag-of-tag-${suffix}`, `rel-${suffix}`);
  await inRepo(repo, "tag", "-a", "-m", `a tree ${suffix}`, `tree-${suffix}`, "refs/heads/main^{tree}");
  const blob = (
    await git(["hash-object", "-w", "--stdin"], {
      env: { GIT_DIR: repo },
      input: `key ${suffix} ${randomBytes(8).toString("hex")}\n`,
    })
  ).trim();
  await inRepo(repo, "tag", `blob-${suffix}`, blob);
  await inRepo(repo, "tag", "-a", "-m", `a blob ${suffix}`, `signed-blob-${suffix}`, blob);
}

/** Our reader's bytes of each archive's git/repo.bundle along the snapshot's chain, oldest first. */
async function chainBundles(app: App, snapshot: Snapshot, dir: string): Promise<string[]> {
  const files: string[] = [];
  await mkdir(dir, { recursive: true });
  for (const link of await snapshotChain(app.index, snapshot)) {
    const file = join(dir, `${link.id}.bundle`);
    await readSnapshotArchive(app, link, async (path, body) => {
      if (path !== BUNDLE_PATH) return void body.resume();
      await pipeline(body, createWriteStream(file));
    });
    files.push(file);
  }
  return files;
}

/** Replays bundles into a new repository with plain git, verifying each before fetching it. */
async function replayWithGit(bundles: string[], dir: string): Promise<string> {
  const repo = join(dir, "replayed.git");
  await initBare(repo);
  for (const bundle of bundles) {
    await inRepo(repo, "bundle", "verify", "--quiet", bundle);
    await inRepo(repo, "fetch", "--quiet", "--prune", bundle, "+refs/*:refs/*");
  }
  return repo;
}

/** The `-<oid>` lines of a bundle, each with the type git gives it in `repo`. */
async function prerequisiteTypes(bundle: string, repo: string): Promise<string[]> {
  const text = (await readFile(bundle)).subarray(0, 64 * 1024).toString("latin1");
  const lines = text.slice(0, text.indexOf("\n\n")).split("\n");
  const oids = lines.filter((l) => l.startsWith("-")).map((l) => l.slice(1, 41));
  return Promise.all(oids.map(async (oid) => (await inRepo(repo, "cat-file", "-t", oid)).trim()));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-prereq-"));
  server = await startGitHttpServer({ root: join(scratch, "served") });
});

afterAll(async () => {
  await server?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe.each(["path", "http"] as const)("incremental bundles git accepts (%s source)", (via) => {
  let ws: TestWorkspace;
  let app: App;
  let source: string;
  let url: string;
  let dir: string;
  const clock = manualClock("2026-11-27T00:00:00.000Z");

  async function snap(): Promise<Snapshot> {
    clock.advance(60 * 60_000);
    const outcome = await snapshotRepo(app, "acme/app", { url }, { actor, incremental: policy });
    expect(outcome.outcome).toBe("created");
    return outcome.snapshot;
  }

  beforeAll(async () => {
    dir = join(scratch, via);
    await mkdir(dir, { recursive: true });
    source = await richRepo(join(scratch, "served", via)); // served/<via>/source.git
    url = via === "path" ? source : server.remoteUrl(`${via}/source`);
    await addOddTags(source, "1");
    ws = await workspace({ "acme/app": url });
    app = await ws.open(clock);
  });

  afterAll(async () => {
    await app?.close();
    await ws?.cleanup();
  });

  it("records what tags peel to and which refs lead to no commit", async () => {
    const full = await snap();
    expect(full.kind).toBe("full");
    const peel = (ref: string) => inRepo(source, "rev-parse", `${ref}^{}`).then((s) => s.trim());
    expect(full.peeled).toEqual({
      "refs/tags/v0.2.0": await peel("refs/tags/v0.2.0"),
      "refs/tags/rel-1": await peel("refs/tags/rel-1"),
      "refs/tags/tag-of-tag-1": await peel("refs/tags/rel-1"),
      "refs/tags/tree-1": await peel("refs/tags/tree-1"),
      "refs/tags/signed-blob-1": await peel("refs/tags/signed-blob-1"),
    });
    expect(full.nonCommits).toEqual(["refs/tags/blob-1", "refs/tags/signed-blob-1", "refs/tags/tree-1"]);
  });

  it("writes incrementals whose bundles pass git bundle verify and git fetch, oldest first", async () => {
    await pushCommit(source, "main", "a.txt", "a\n");
    await addOddTags(source, "2");
    const inc1 = await snap();
    expect(inc1.kind).toBe("incremental");
    await pushCommit(source, "topic", "b.txt", "b\n");
    await inRepo(source, "tag", "-d", "rel-1"); // tag-of-tag-1 still holds the tag object
    await inRepo(source, "tag", "-d", "tree-2");
    const inc2 = await snap();
    expect(inc2).toMatchObject({ kind: "incremental", parentId: inc1.id });

    const bundles = await chainBundles(app, inc2, dir);
    expect(bundles).toHaveLength(3);
    const replayed = await replayWithGit(bundles, dir);
    expect(await refsOf(replayed)).toBe(await refsOf(source));
    for (const bundle of bundles.slice(1)) {
      const types = await prerequisiteTypes(bundle, replayed);
      expect(types.length).toBeGreaterThan(0);
      expect(new Set(types)).toEqual(new Set(["commit"]));
    }
  });

  it("peels a parent recorded before tags were peeled through what the source lists now", async () => {
    // A full snapshot written as an older version wrote it: no `peeled`, no `nonCommits`.
    await pushCommit(source, "main", "c.txt", "c\n");
    clock.advance(21 * 3600 * 1000); // past fullEveryMs: a new chain
    const index = app.index;
    const legacyIndex = new Proxy(index, {
      get(target, name) {
        if (name === "commit") {
          return ({ peeled: _peeled, nonCommits: _nonCommits, ...old }: Snapshot) => target.commit(old);
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === "function" ? (value as () => unknown).bind(target) : value;
      },
    });
    const deps: Deps = { store: app.store, index: legacyIndex, keys: app.keys, audit: app.audit, clock };
    const outcome = await snapshotRepo(deps, "acme/app", { url }, { actor, incremental: policy });
    expect(outcome.snapshot.kind).toBe("full");
    const legacy = (await index.get("acme/app", outcome.snapshot.id))!;
    expect(legacy.peeled).toBeUndefined();

    await pushCommit(source, "main", "d.txt", "d\n");
    await inRepo(source, "tag", "-d", "tag-of-tag-2"); // a tip the source no longer lists
    const child = await snap();
    expect(child).toMatchObject({ kind: "incremental", parentId: legacy.id });

    const bundles = await chainBundles(app, child, join(dir, "legacy"));
    const replayed = await replayWithGit(bundles, join(dir, "legacy"));
    expect(await refsOf(replayed)).toBe(await refsOf(source));
    expect(new Set(await prerequisiteTypes(bundles[1]!, replayed))).toEqual(new Set(["commit"]));
  });
});
