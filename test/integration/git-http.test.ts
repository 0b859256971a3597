// Snapshot and restore over real git smart HTTP (git http-backend) with credentials in a header:
// what comes back equals the source, a source dying mid-pack commits nothing, and restore can push.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { GitError, SourceError } from "../../functions/core/errors.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import { fetchPack, lsRefs } from "../../functions/core/git/upload-pack.js";
import type { GitRemote } from "../../functions/core/ports.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server.js";
import { headOf, objectsOf, pushCommit, refsOf } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const TOKEN = `ghs_${randomBytes(12).toString("hex")}`;
const basic = (token: string) => ({
  Authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`,
});

let root: string;
let server: GitHttpServer;
let ws: TestWorkspace;
let app: App;
const remote = (repo: string, token = TOKEN): GitRemote => ({
  url: server.remoteUrl(repo),
  headers: basic(token),
});

/** Runs `work` while the server cuts every upload-pack response after 16 KiB; returns its error. */
async function cutMidPack(work: () => Promise<unknown>): Promise<Error> {
  server.faults.cutUploadPackAfterBytes = 16 * 1024;
  try {
    return await rejection(work());
  } finally {
    delete server.faults.cutUploadPackAfterBytes;
  }
}

async function archiveKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of app.store.list(prefix)) keys.push(blob.key);
  return keys;
}

/** The error `work` rejects with; fails the test if it resolves. */
async function rejection<E extends Error = Error>(work: Promise<unknown>): Promise<E> {
  return work.then(
    () => expect.unreachable("expected a rejection"),
    (err: unknown) => err as E,
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "infinity-git-http-"));
  await createDemoRepo(join(root, "acme", "app.git"));
  await createDemoRepo(join(root, "acme", "big.git"));
  // Incompressible, so the pack is far larger than the cut point below.
  await pushCommit(
    join(root, "acme", "big.git"),
    "main",
    "noise.b64",
    randomBytes(256 * 1024).toString("base64"),
  );
  server = await startGitHttpServer({ root, checkPassword: (password) => password === TOKEN });
  ws = await workspace({});
  app = await ws.open();
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe("git smart HTTP", () => {
  it("speaks protocol v2 and refuses a request without the right token", async () => {
    const refs = await lsRefs(remote("acme/app"));
    expect(refs.head).toBe("refs/heads/main");
    expect(Object.keys(refs.refs)).toContain("refs/tags/v0.2.0");
    for (const bad of [{ url: server.remoteUrl("acme/app") }, remote("acme/app", "ghs_wrong")]) {
      const err = await rejection(lsRefs(bad));
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/access refused/);
      expect((err as Error).message).not.toContain(TOKEN);
    }
  });

  it("snapshots over HTTP and restores exactly the source's refs and objects", async () => {
    const outcome = await snapshotRepo(app, "acme/app", remote("acme/app"), { actor });
    expect(outcome.outcome).toBe("created");
    const restored = join(root, "restored-app.git");
    await restoreRepo(app, { repo: "acme/app", target: { kind: "path", path: restored } }, { actor });
    const source = join(root, "acme", "app.git");
    expect(await refsOf(restored)).toBe(await refsOf(source));
    expect(await objectsOf(restored)).toBe(await objectsOf(source));
    expect(await headOf(restored)).toBe("refs/heads/main");
    // A second run sees the same refs over HTTP and only confirms.
    expect((await snapshotRepo(app, "acme/app", remote("acme/app"), { actor })).outcome).toBe("unchanged");
  });

  it("rejects when the source dies mid-pack, commits nothing and frees the lease", async () => {
    const err = await cutMidPack(() => snapshotRepo(app, "acme/big", remote("acme/big"), { actor }));
    expect(err).toBeInstanceOf(Error);
    expect(await app.index.list("acme/big")).toEqual([]);
    expect(await archiveKeys("repos/acme/big/")).toEqual([]);
    // The lease was given back: with the source healthy again, the snapshot goes through.
    const outcome = await snapshotRepo(app, "acme/big", remote("acme/big"), { actor });
    expect(outcome.outcome).toBe("created");
    expect(outcome.snapshot.refs).toEqual((await lsRefs(remote("acme/big"))).refs);
  });

  it("names the source and the broken connection when the source dies mid-pack", async () => {
    const err = await cutMidPack(() => fetchPack(remote("acme/big")).then(({ pack }) => pack!.toArray()));
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(server.remoteUrl("acme/big"));
    expect(err.message).not.toContain(TOKEN);
  });

  it("restores by pushing to an HTTP remote with the token header", async () => {
    const target = join(root, "acme", "restored.git");
    await initBare(target);
    const outcome = await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "push", remote: remote("acme/restored") } },
      { actor },
    );
    expect(outcome.target).toBe(server.remoteUrl("acme/restored"));
    expect(await refsOf(target)).toBe(await refsOf(join(root, "acme", "app.git")));
    const pushes = server.requests.filter((r) => r.url.includes("receive-pack"));
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((r) => r.password === TOKEN || r.status === 401)).toBe(true);
  });

  it("refuses a push without the token and leaves the target empty", async () => {
    const target = join(root, "acme", "refused.git");
    await initBare(target);
    const err = await rejection(
      restoreRepo(
        app,
        { repo: "acme/app", target: { kind: "push", remote: remote("acme/refused", "ghs_wrong") } },
        { actor },
      ),
    );
    expect(err).toBeInstanceOf(GitError);
    expect(err.message).not.toContain(TOKEN);
    expect(await refsOf(target)).toBe("");
  });

  it("never carried a credential in a URL", () => {
    expect(server.requests.length).toBeGreaterThan(5);
    for (const request of server.requests) expect(request.url).not.toContain(TOKEN);
  });
});
