// Incremental snapshots: after a full snapshot, each one stores only the objects its parent lacks.
// Every point still restores exactly; chains are bounded; a bad or broken chain is never extended.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import { git } from "../../functions/core/git/exec.js";
import type { Snapshot } from "../../functions/core/model.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const policy: IncrementalPolicy = { maxChain: 3, fullEveryMs: 20 * 3600 * 1000 };
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
const points: { snapshot: Snapshot; refs: string; objects: string }[] = [];

async function snap(): Promise<Snapshot> {
  clock.advance(60 * 60_000);
  const outcome = await snapshotRepo(app, "acme/app", { url: source }, { actor, incremental: policy });
  expect(outcome.outcome).toBe("created");
  points.push({ snapshot: outcome.snapshot, refs: await refsOf(source), objects: await objectsOf(source) });
  return outcome.snapshot;
}

async function restored(snapshot: Snapshot, kind: "path" | "bundle-file" = "path"): Promise<string> {
  const path = join(scratch, `r-${randomBytes(4).toString("hex")}${kind === "path" ? ".git" : ".bundle"}`);
  await restoreRepo(app, { repo: "acme/app", snapshotId: snapshot.id, target: { kind, path } }, { actor });
  if (kind === "path") return path;
  // Not `${path}.git`: git would take that (new, empty) folder for the clone's source.
  const cloned = path.replace(/\.bundle$/, "-clone.git");

  await git(["clone", "--quiet", "--mirror", path, cloned]);
  return cloned;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-incremental-"));
  source = await richRepo(scratch);
  await pushCommit(source, "main", "big.b64", randomBytes(512 * 1024).toString("base64"));
  ws = await workspace({ "acme/app": source });
  app = await ws.open(clock);
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("incremental snapshots", () => {
  it("stores a full snapshot, then only what each push added", async () => {
    const full = await snap();
    expect(full.kind).toBe("full");
    await pushCommit(source, "main", "a.txt", "a\n");
    const inc1 = await snap();
    expect(inc1).toMatchObject({ kind: "incremental", parentId: full.id });
    expect(inc1.size).toBeLessThan(full.size / 10);
    await pushCommit(source, "topic", "b.txt", "b\n");
    await git(["tag", "-d", "v0.1.0"], { env: { GIT_DIR: source } });
    const inc2 = await snap();
    expect(inc2).toMatchObject({ kind: "incremental", parentId: inc1.id });
  });

  it("restores every point exactly, each replaying its chain", async () => {
    for (const point of points) {
      const path = await restored(point.snapshot);
      expect(await refsOf(path), point.snapshot.id).toBe(point.refs);
      expect(await objectsOf(path)).toBe(point.objects);
    }
  });

  it("restores an incremental snapshot as a standalone bundle", async () => {
    const last = points.at(-1)!;
    const cloned = await restored(last.snapshot, "bundle-file");
    expect(await refsOf(cloned)).toBe(last.refs);
    expect(await objectsOf(cloned)).toBe(last.objects);
  });

  it("verifies incrementals quickly and deeply (on top of their parents)", async () => {
    for (const { snapshot } of points) {
      for (const level of ["quick", "deep"] as const) {
        const outcome = await verifySnapshot(app, "acme/app", snapshot.id, { level, actor });
        expect(outcome.verification.verdict, `${snapshot.id} ${level}`).toBe("ok");
      }
    }
  });

  it("survives a history rewrite (force-push)", async () => {
    await git(["update-ref", "refs/heads/main", "refs/heads/main~2"], { env: { GIT_DIR: source } });
    await pushCommit(source, "main", "rewritten.txt", "new history\n");
    const snapshot = await snap();
    expect(snapshot.kind).toBe("incremental");
    const path = await restored(snapshot);
    expect(await objectsOf(path)).toBe(points.at(-1)!.objects);
  });

  it("starts a new full snapshot when the chain is long enough", async () => {
    await pushCommit(source, "main", "c.txt", "c\n");
    expect((await snap()).kind).toBe("full"); // maxChain 3 reached
  });

  it("starts a new full snapshot when the chain's full one is old", async () => {
    await pushCommit(source, "main", "d.txt", "d\n");
    expect((await snap()).kind).toBe("incremental");
    clock.advance(20 * 3600 * 1000);
    await pushCommit(source, "main", "e.txt", "e\n");
    expect((await snap()).kind).toBe("full");
  });

  it("never builds on a snapshot that failed verification", async () => {
    await pushCommit(source, "main", "f.txt", "f\n");
    const latest = await snap();
    await app.index.recordVerification("acme/app", latest.id, {
      verdict: "failed",
      level: "deep",
      at: clock.now().toISOString(),
      detail: "test",
    });
    await pushCommit(source, "main", "g.txt", "g\n");
    expect((await snap()).kind).toBe("full");
  });

  it("names the missing link when a chain is broken", async () => {
    await pushCommit(source, "main", "h.txt", "h\n");
    const child = await snap();
    expect(child.kind).toBe("incremental");
    const parent = (await app.index.get("acme/app", child.parentId!))!;
    await app.index.remove("acme/app", parent.id);
    await expect(restored(child)).rejects.toThrow(
      new RegExp(`builds on ${parent.id}, which is not in the index`),
    );
    const outcome = await verifySnapshot(app, "acme/app", child.id, { level: "deep", actor });
    expect(outcome.verification.detail).toMatch(/not in the index/);
    await pushCommit(source, "main", "i.txt", "i\n");
    expect((await snap()).kind).toBe("full"); // a broken chain is never extended
  });
});
