// Wikis: backed up whole with their repository, verified, and restored beside it (path, push,
// bundle), with exactly their refs; a wiki-only change makes a new snapshot; a missing wiki is none.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupAll } from "../../functions/core/backup.js";
import { git } from "../../functions/core/git/exec.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { startGitHttpServer } from "../helpers/git-http-server.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const clock = manualClock();
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
let wiki: string;

const backup = async () =>
  (await backupAll(app, { incremental: false, verify: { level: "deep", where: "inline" } }, { actor }))[0]!;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-wiki-"));
  source = await richRepo(scratch);
  wiki = join(scratch, "source.wiki.git");
  await git(["init", "--bare", "--quiet", wiki]);
  await pushCommit(wiki, "master", "Home.md", "# Welcome\n");
  await pushCommit(wiki, "master", "Runbook.md", "# Restore drill\n");
  ws = await workspace({ "acme/app": { url: source, wiki } });
  app = await ws.open(clock);
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("wiki backup", () => {
  it("backs the wiki up with the repository and verifies both deeply", async () => {
    const result = await backup();
    expect(result.error).toBeUndefined();
    const snapshot = result.snapshot!.snapshot;
    expect(snapshot.wikiRefs).toEqual({
      "refs/heads/master": (await git(["rev-parse", "master"], { env: { GIT_DIR: wiki } })).trim(),
    });
    expect(result.verify!.verification.verdict).toBe("ok");
    expect(
      (await verifySnapshot(app, "acme/app", snapshot.id, { level: "quick", actor })).verification.verdict,
    ).toBe("ok");
  });

  it("restores the wiki beside the repository, exactly", async () => {
    const target = join(scratch, "restored", "app.git");
    const outcome = await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "path", path: target } },
      { actor },
    );
    expect(outcome.wiki).toEqual({ refs: 1, target: join(scratch, "restored", "app.wiki.git") });
    expect(await refsOf(target)).toBe(await refsOf(source));
    expect(await refsOf(outcome.wiki!.target!)).toBe(await refsOf(wiki));
    expect(await objectsOf(outcome.wiki!.target!)).toBe(await objectsOf(wiki));
  });

  it("a change to the wiki alone makes a new snapshot; no change makes none", async () => {
    clock.advance(60_000);
    expect((await backup()).snapshot!.outcome).toBe("unchanged");
    await pushCommit(wiki, "master", "FAQ.md", "# FAQ\n");
    clock.advance(60_000);
    const changed = await backup();
    expect(changed.snapshot!.outcome).toBe("created");
    expect(changed.snapshot!.snapshot.wikiRefs!["refs/heads/master"]).toBe(
      (await git(["rev-parse", "master"], { env: { GIT_DIR: wiki } })).trim(),
    );
  });

  it("writes the wiki as its own bundle next to a bundle target", async () => {
    const bundle = join(scratch, "out.bundle");
    await restoreRepo(app, { repo: "acme/app", target: { kind: "bundle-file", path: bundle } }, { actor });
    const cloned = join(scratch, "wiki-from-bundle.git");
    await git(["clone", "--quiet", "--mirror", join(scratch, "out.wiki.bundle"), cloned]);
    expect(await objectsOf(cloned)).toBe(await objectsOf(wiki));
  });

  it("pushes the wiki beside a pushed repository, and reports a wiki that cannot take it", async () => {
    const target = join(scratch, "pushed.git");
    await git(["init", "--bare", "--quiet", target]);
    await git(["init", "--bare", "--quiet", join(scratch, "pushed.wiki.git")]);
    const outcome = await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "push", remote: { url: target } } },
      { actor },
    );
    expect(outcome.wiki?.error).toBeUndefined();
    expect(await refsOf(join(scratch, "pushed.wiki.git"))).toBe(await refsOf(wiki));

    const lonely = join(scratch, "lonely.git");
    await git(["init", "--bare", "--quiet", lonely]);
    const partial = await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "push", remote: { url: lonely } } },
      { actor },
    );
    expect(await refsOf(lonely)).toBe(await refsOf(source));
    expect(partial.wiki?.error).toMatch(/lonely\.wiki\.git/);
  });

  it("treats a wiki the git host does not have (404) as no wiki", async () => {
    const server = await startGitHttpServer({ root: scratch });
    try {
      const remote = { url: server.remoteUrl("source") };
      const outcome = await snapshotRepo(app, "acme/http", remote, {
        actor,
        wiki: { url: server.remoteUrl("nowiki") },
      });
      expect(outcome.outcome).toBe("created");
      expect(outcome.snapshot.wikiRefs).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
