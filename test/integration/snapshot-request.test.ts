// A snapshot request carried out: served already by a later snapshot, covered by one running now,
// or backed up; an older running snapshot makes it wait (transient) rather than be dropped.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeaseHeldError } from "../../functions/core/errors.js";
import { leaseHolder, leaseStartedAt } from "../../functions/core/lease.js";
import type { SnapshotRequest } from "../../functions/core/messages.js";
import type { Publisher } from "../../functions/core/ports.js";
import { runSnapshotRequest } from "../../functions/core/snapshot-request.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const publisher: Publisher = { publish: async () => [] };
const policy = { incremental: false as const, verify: false as const };
let scratch: string;
let ws: TestWorkspace;
let app: App;

const request = (requestedAt: string): SnapshotRequest => ({
  v: 1,
  repo: "acme/app",
  reason: "event",
  requestedAt,
});
const run = (r: SnapshotRequest) =>
  runSnapshotRequest({ ...app, publisher }, r, policy, { actor: "test", deadlineMs: 60_000 });

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-request-"));
  ws = await workspace({ "acme/app": await richRepo(scratch) });
  app = await ws.open();
});
afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("runSnapshotRequest", () => {
  it("reads a holder's start from its snapshot id", () => {
    expect(leaseStartedAt(leaseHolder("20261127T104455123Z-1a2b3c4d"))).toBe(
      Date.parse("2026-11-27T10:44:55.123Z"),
    );
    expect(leaseStartedAt("worker-1")).toBeUndefined();
  });

  it("backs up, then finds a request made before that snapshot already served", async () => {
    const before = new Date(Date.now() - 60_000).toISOString();
    const first = await run(request(new Date().toISOString()));
    expect(first).toMatchObject({ handedOver: false, snapshot: { outcome: "created" } });
    const again = await run(request(before));
    expect("satisfiedBy" in again && again.satisfiedBy?.repo).toBe("acme/app");
    expect(await app.index.list("acme/app")).toHaveLength(1);
  });

  it("a running snapshot that started after the request covers it; an older one makes it wait", async () => {
    const requestedAt = new Date(Date.now() + 60_000).toISOString(); // after the snapshot above
    const later = new Date(Date.parse(requestedAt) + 1000)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(".", "");
    await app.index.acquireLease("acme/app", `${later}-00000001@elsewhere:1`, 60_000);
    const covered = await run(request(requestedAt));
    expect("servedByRunning" in covered && covered.servedByRunning?.holder).toMatch(/@elsewhere:1$/);
    await app.index.releaseLease("acme/app", `${later}-00000001@elsewhere:1`);

    const earlier = "20200101T000000000Z-00000002@elsewhere:1";
    await app.index.acquireLease("acme/app", earlier, 60_000);
    await expect(run(request(requestedAt))).rejects.toBeInstanceOf(LeaseHeldError);
    await app.index.releaseLease("acme/app", earlier);
  });
});
