// Found by the layers property test (test/property/layers-closure.test.ts, seed 20261501): when the
// store refused a layered snapshot's layer archive at once (a put failing before it read the
// body: a 403 or 503 from the bucket, a crash), the pack's tee destroyed the LFS scan's input with the error, which nothing listened
// for: an uncaught exception that kills the process (the CLI, a function instance, the job)
// instead of a snapshot that fails with the store's error. The snapshot must fail cleanly, and
// the next one must work and restore exactly. A disk filling up during the put is the same path
// further on (it did not throw uncaught, and is kept here as a guard).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { restoreRepo } from "../../functions/core/restore.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { diskFull, failNth, faultyStore, permanent, type Rule } from "../helpers/faults.js";
import { objectsOf, pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const actor = "test";
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
const uncaught: Error[] = [];
const onUncaught = (err: Error) => uncaught.push(err);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-layered-put-"));
  source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source });
  app = await ws.open(clock);
  process.on("uncaughtException", onUncaught);
}, 60_000);

afterEach(() => {
  uncaught.length = 0;
});

afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** Lets the streams' error and close events of a failed write fire. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe("a layered snapshot whose layer the store refuses", () => {
  const cases: [string, Rule, RegExp][] = [
    ["the put fails at once", failNth("put", 1, permanent("injected: store refused")), /store refused/],
    ["the disk fills up during the put", diskFull(600, { nth: 1 }), /ENOSPC/],
  ];
  it.each(cases)(
    "%s: the snapshot fails with the store's error, no uncaught exception; the next one restores exactly",
    async (_, rule, error) => {
      await pushCommit(source, "main", `f-${clock.now().getTime()}.txt`, "new content\n");
      clock.advance(60_000);
      const store = faultyStore(app.store, rule);
      await expect(
        snapshotRepo({ ...app, store }, REPO, { url: source }, { actor, layers: true }),
      ).rejects.toThrow(error);
      await settle();
      expect(uncaught.map((err) => err.message)).toEqual([]);

      clock.advance(60_000);
      const outcome = await snapshotRepo(app, REPO, { url: source }, { actor, layers: true });
      expect(outcome).toMatchObject({ outcome: "created", snapshot: { kind: "layered" } });
      const path = join(scratch, `restore-${outcome.snapshot.id}.git`);
      await restoreRepo(
        app,
        { repo: REPO, snapshotId: outcome.snapshot.id, target: { kind: "path", path } },
        { actor },
      );
      expect(await refsOf(path)).toBe(await refsOf(source));
      expect(await objectsOf(path)).toBe(await objectsOf(source));
    },
    60_000,
  );
});
