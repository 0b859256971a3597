// At-least-once delivery on the cloud path: Pub/Sub may hand the same snapshot request to three
// instances at once, and hand old ones over after newer ones. runSnapshotRequest (what the
// snapshotRepo function and the job run) must make exactly one snapshot per distinct ref state,
// each holding exactly the refs the source had; a copy that finds the lease held is redelivered.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessPublisher } from "../../functions/adapters/local/in-process-publisher.js";
import { LeaseHeldError } from "../../functions/core/errors.js";
import type { SnapshotRequest } from "../../functions/core/messages.js";
import type { Snapshot } from "../../functions/core/model.js";
import { runSnapshotRequest, type SnapshotRequestOutcome } from "../../functions/core/snapshot-request.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { git } from "../../functions/core/git/exec.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const REPO = "acme/app";
const policy = { incremental: false as const, verify: false as const };
let scratch: string;
let source: string;
let ws: TestWorkspace;
let app: App;

/** One delivery as Pub/Sub makes it: a throw is a nack, and the message comes back a little later. */
async function deliver(request: SnapshotRequest, log: string[]): Promise<SnapshotRequestOutcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      const outcome = await runSnapshotRequest(
        { ...app, publisher: new InProcessPublisher() },
        request,
        policy,
        {
          actor: "pubsub",
          deadlineMs: 60_000,
        },
      );
      log.push(summary(outcome));
      return outcome;
    } catch (err) {
      if (!(err instanceof LeaseHeldError) || attempt > 200) throw err;
      log.push("nack: lease held");
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
}

function summary(outcome: SnapshotRequestOutcome): string {
  if ("satisfiedBy" in outcome && outcome.satisfiedBy) return "satisfied";
  if ("servedByRunning" in outcome && outcome.servedByRunning) return "served by running";
  if ("snapshot" in outcome && outcome.snapshot) return outcome.snapshot.outcome;
  return "other";
}

async function sourceRefs(): Promise<Record<string, string>> {
  const out = await git(["for-each-ref", "--format=%(objectname) %(refname)"], { env: { GIT_DIR: source } });
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" ").reverse() as [string, string]),
  );
}

const request = (requestedAt: string, deliveryId: string): SnapshotRequest => ({
  v: 1,
  repo: REPO,
  reason: "event",
  requestedAt,
  deliveryId,
});

/** The same messages, shuffled (a fixed seed, so a failure replays). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-delivery-"));
  source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source });
  app = await ws.open();
});

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe.sequential("the same snapshot request delivered three times, concurrently and out of order", () => {
  const states: { refs: Record<string, string>; requests: SnapshotRequest[] }[] = [];

  it("three concurrent copies of one request: one snapshot, with exactly the source's refs", async () => {
    await pushCommit(source, "main", "a.txt", "state A\n");
    const refs = await sourceRefs();
    const r = request(new Date().toISOString(), "delivery-a");
    states.push({ refs, requests: [r] });
    const log: string[] = [];
    await Promise.all([deliver(r, log), deliver(r, log), deliver(r, log)]);
    const snapshots = await app.index.list(REPO);
    expect(snapshots, log.join(", ")).toHaveLength(1);
    expect(snapshots[0]!.refs).toEqual(refs);
    expect(log.filter((l) => l === "created")).toHaveLength(1);
  });

  it("two new states and the old request, each three times, shuffled: one new snapshot per state", async () => {
    const log: string[] = [];
    const before = await app.index.list(REPO);
    // State B: three copies of its request, racing three late copies of A's (already served).
    await pushCommit(source, "main", "b.txt", "state B\n");
    const refsB = await sourceRefs();
    const rB = request(new Date().toISOString(), "delivery-b");
    const a = states[0]!.requests[0]!;
    await Promise.all(shuffled([rB, a, rB, a, rB, a], 7).map((m) => deliver(m, log)));
    const afterB = await app.index.list(REPO);
    expect(afterB, log.join(", ")).toHaveLength(before.length + 1);
    expect(afterB[0]!.refs).toEqual(refsB);
    // State C, with B's copies still arriving late, and one copy of C held back to arrive last.
    await pushCommit(source, "main", "c.txt", "state C\n");
    const refsC = await sourceRefs();
    const rC = request(new Date().toISOString(), "delivery-c");
    await Promise.all(shuffled([rB, rC, rB, rC, rB], 11).map((m) => deliver(m, log)));
    await deliver(rC, log);
    const afterC = await app.index.list(REPO);
    expect(afterC, log.join(", ")).toHaveLength(before.length + 2);
    expect(afterC[0]!.refs).toEqual(refsC);
    // One snapshot per distinct ref state, and no two snapshots of the same state.
    const seen = afterC.map((s: Snapshot) => JSON.stringify(s.refs));
    expect(new Set(seen).size).toBe(seen.length);
    expect(log.filter((l) => l === "created")).toHaveLength(2);
    expect(await app.index.leases()).toEqual([]);
  });
});
