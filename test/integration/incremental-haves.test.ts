// An incremental snapshot fetches with the tips of every snapshot of its chain as `have`s, not only
// its parent's: a branch force-pushed back to an older state of the chain resends nothing, and every
// point of the chain still restores exactly (path, standalone bundle) and verifies deeply.
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
const policy: IncrementalPolicy = { maxChain: 10, fullEveryMs: 20 * 3600 * 1000 };
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;

async function snap(): Promise<{ snapshot: Snapshot; refs: string; objects: string }> {
  clock.advance(60 * 60_000);
  const outcome = await snapshotRepo(app, "acme/app", { url: source }, { actor, incremental: policy });
  expect(outcome.outcome).toBe("created");
  return { snapshot: outcome.snapshot, refs: await refsOf(source), objects: await objectsOf(source) };
}

async function restored(snapshot: Snapshot, kind: "path" | "bundle-file"): Promise<string> {
  const path = join(scratch, `r-${randomBytes(4).toString("hex")}${kind === "path" ? ".git" : ".bundle"}`);
  await restoreRepo(app, { repo: "acme/app", snapshotId: snapshot.id, target: { kind, path } }, { actor });
  if (kind === "path") return path;
  const cloned = path.replace(/\.bundle$/, "-clone.git");
  await git(["clone", "--quiet", "--mirror", path, cloned]);
  return cloned;
}

const setMain = (oid: string) => git(["update-ref", "refs/heads/main", oid], { env: { GIT_DIR: source } });
const mainTip = async () =>
  (await git(["rev-parse", "refs/heads/main"], { env: { GIT_DIR: source } })).trim();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-haves-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source });
  app = await ws.open(clock);
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("incremental haves: every snapshot of the chain", () => {
  it("a branch force-pushed back to an older kept state costs no objects, and every point restores", async () => {
    // A: main with a 512 KiB random blob that only main reaches.
    await pushCommit(source, "main", "big.b64", randomBytes(512 * 1024).toString("base64"));
    const stateA = await mainTip();
    const full = await snap();
    expect(full.snapshot.kind).toBe("full");

    // B: main rewritten without the blob (force-push), a small incremental.
    await setMain(`${stateA}~1`);
    await pushCommit(source, "main", "rewritten.txt", "history without the blob\n");
    const rewritten = await snap();
    expect(rewritten.snapshot).toMatchObject({ kind: "incremental", parentId: full.snapshot.id });

    // Back to A: the blob is reachable from the full snapshot's tips, not from the parent's. With
    // only the parent's tips as haves the server resent it (about 700 KiB); now it sends nothing.
    await setMain(stateA);
    const back = await snap();
    expect(back.snapshot).toMatchObject({ kind: "incremental", parentId: rewritten.snapshot.id });
    expect(back.refs).toBe(full.refs);
    expect(back.snapshot.bundleBytes).toBeLessThan(64 * 1024);
    expect(full.snapshot.bundleBytes).toBeGreaterThan(512 * 1024);

    for (const point of [full, rewritten, back]) {
      for (const kind of ["path", "bundle-file"] as const) {
        const path = await restored(point.snapshot, kind);
        expect(await refsOf(path), `${point.snapshot.id} ${kind}`).toBe(point.refs);
        expect(await objectsOf(path), `${point.snapshot.id} ${kind}`).toBe(point.objects);
        await git(["fsck", "--full", "--no-dangling"], { env: { GIT_DIR: path } });
      }
      const verified = await verifySnapshot(app, "acme/app", point.snapshot.id, { level: "deep", actor });
      expect(verified.verification.verdict, point.snapshot.id).toBe("ok");
    }
  });
});
