// Snapshot -> verify -> restore on real repositories, through the local adapters: what comes
// back is exactly what went in (refs, HEAD, every reachable object), at any point in time.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupAll } from "../../functions/core/backup.js";
import { NotFoundError, ConflictError } from "../../functions/core/errors.js";
import { git } from "../../functions/core/git/exec.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { headOf, objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
let ws: TestWorkspace;
let app: App;
let source: string;
let scratch: string;
const clock = manualClock("2026-11-27T00:00:00.000Z");

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-roundtrip-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source, "acme/gone": join(scratch, "does-not-exist.git") });
  app = await ws.open(clock);
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function restoreTo(request: { snapshotId?: string; at?: string }) {
  const path = join(scratch, `restored-${Math.random().toString(16).slice(2)}.git`);
  const outcome = await restoreRepo(
    app,
    { repo: "acme/app", ...request, target: { kind: "path", path } },
    { actor },
  );
  return { path, outcome };
}

describe("round trip", () => {
  const states: { at: string; refs: string; objects: string; id: string }[] = [];

  it("backs up every source, fails the unreachable one by name, and verifies deeply", async () => {
    const results = await backupAll(
      app,
      { incremental: false, verify: { level: "deep", where: "inline" } },
      { actor },
    );
    const ok = results.find((r) => r.repo === "acme/app")!;
    const gone = results.find((r) => r.repo === "acme/gone")!;
    expect(ok.error).toBeUndefined();
    expect(ok.snapshot!.outcome).toBe("created");
    expect(ok.verify!.verification.verdict).toBe("ok");
    expect(gone.error).toMatch(/does-not-exist\.git/);
    expect(await app.index.latest("acme/gone")).toBeUndefined();
    states.push({
      at: clock.now().toISOString(),
      refs: await refsOf(source),
      objects: await objectsOf(source),
      id: ok.snapshot!.snapshot.id,
    });
  });

  it("restores refs, HEAD and every reachable object exactly; the deleted branch stays deleted", async () => {
    const { path, outcome } = await restoreTo({});
    expect(await refsOf(path)).toBe(states[0]!.refs);
    expect(await objectsOf(path)).toBe(states[0]!.objects);
    expect(await headOf(path)).toBe("refs/heads/main");
    expect(await refsOf(path)).not.toMatch(/experiment/);
    expect(outcome.refs).toBe(4);
    await git(["fsck", "--full", "--strict"], { env: { GIT_DIR: path } });
  });

  it("records an unchanged repository as confirmed, without a new archive", async () => {
    clock.advance(15 * 60_000);
    const before = [];
    for await (const blob of app.store.list("repos/")) before.push(blob.key);
    const outcome = await snapshotRepo(app, "acme/app", { url: source }, { actor });
    expect(outcome.outcome).toBe("unchanged");
    expect(outcome.snapshot.id).toBe(states[0]!.id);
    expect(outcome.snapshot.confirmedAt).toBe(clock.now().toISOString());
    const after = [];
    for await (const blob of app.store.list("repos/")) after.push(blob.key);
    expect(after).toEqual(before);
  });

  it("restores any point in time after pushes", async () => {
    for (const [i, branch] of ["main", "feature/search", "hotfix"].entries()) {
      clock.advance(60 * 60_000);
      await pushCommit(source, branch, `push-${i}.txt`, `push ${i}\n`);
      const outcome = await snapshotRepo(app, "acme/app", { url: source }, { actor });
      expect(outcome.outcome).toBe("created");
      states.push({
        at: clock.now().toISOString(),
        refs: await refsOf(source),
        objects: await objectsOf(source),
        id: outcome.snapshot.id,
      });
    }
    for (const [i, state] of states.entries()) {
      const halfwayToNext = new Date(Date.parse(state.at) + 30 * 60_000).toISOString();
      const { path, outcome } = await restoreTo({ at: halfwayToNext });
      expect(outcome.snapshot.id, `point ${i}`).toBe(state.id);
      expect(await refsOf(path)).toBe(state.refs);
      expect(await objectsOf(path)).toBe(state.objects);
    }
    const byId = await restoreTo({ snapshotId: states[1]!.id });
    expect(await refsOf(byId.path)).toBe(states[1]!.refs);
  });

  it("names what is missing: a time before the first snapshot, an unknown id, an existing target", async () => {
    await expect(restoreTo({ at: "2020-01-01T00:00:00Z" })).rejects.toThrow(
      /no snapshot of acme\/app at or before 2020-01-01.*oldest is/,
    );
    await expect(restoreTo({ snapshotId: "nope" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      restoreRepo(app, { repo: "acme/app", target: { kind: "path", path: source } }, { actor }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it("restores by pushing to an empty repository, and as a plain git bundle", async () => {
    const target = join(scratch, "pushed.git");
    await git(["init", "--bare", "--quiet", target]);
    await restoreRepo(
      app,
      { repo: "acme/app", target: { kind: "push", remote: { url: target } } },
      { actor },
    );
    expect(await refsOf(target)).toBe(states.at(-1)!.refs);
    const bundle = join(scratch, "out.bundle");
    await restoreRepo(app, { repo: "acme/app", target: { kind: "bundle-file", path: bundle } }, { actor });
    const cloned = join(scratch, "from-bundle.git");
    await git(["clone", "--quiet", "--mirror", bundle, cloned]);
    expect(await objectsOf(cloned)).toBe(states.at(-1)!.objects);
  });

  it("verifies every snapshot quickly and deeply", async () => {
    for (const state of states) {
      for (const level of ["quick", "deep"] as const) {
        const outcome = await verifySnapshot(app, "acme/app", state.id, { level, actor });
        expect(outcome.verification, `${state.id} ${level}`).toMatchObject({ verdict: "ok", level });
      }
    }
  });
});
