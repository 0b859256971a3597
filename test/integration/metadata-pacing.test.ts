// Pacing within the installation's rate budget, with the real @octokit clients against the GitHub
// stand-in's counted REST budget: a collection whose kind would take the budget below the floor
// for how recently it changed defers it ("deferred: rate budget", no file, never a 403 from
// GitHub), reads what changed recently, and a later collection reads the deferred kinds once the
// budget allows, its lines equal to what the stand-in serves.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { repoHealth } from "../../functions/core/health.js";
import { parseJsonl } from "../../functions/core/metadata/jsonl.js";
import { readMetadata } from "../../functions/core/metadata/read.js";
import { kindPath } from "../../functions/core/metadata/paths.js";
import { fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { drain, startMetadataStandin, type MetadataStandin } from "../helpers/github-world.js";
import { refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace } from "../helpers/local-app.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";

const APP_ID = 717171;
const DEFERRED = { state: "deferred", reason: "rate budget" };

let standin: MetadataStandin;
let github: GitHubStandin;

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The budget: `remaining` of 1,000, refilled in an hour. */
function budget(remaining: number): void {
  github.restBudget = { limit: 1000, remaining, resetAt: Math.ceil(Date.now() / 1000) + 3600 };
}

beforeAll(async () => {
  standin = await startMetadataStandin(APP_ID);
  github = standin.github;
  // Both hold 230 issues (3 pages) and 250 comments, last changed in January; "fresh" was pushed
  // to two hours ago and has an issue and a comment changed an hour ago.
  fillMetadata(github.addRepo("acme/stale"), { repo: "acme/stale" });
  const fresh = github.addRepo("acme/fresh");
  fillMetadata(fresh, { repo: "acme/fresh" });
  fresh.settings.pushed_at = hoursAgo(2);
  fresh.issues.find((i) => i.number === 9)!.updated_at = hoursAgo(1);
  fresh.comments[0]!.updated_at = hoursAgo(1);
});

beforeEach(() => {
  github.restBudget = undefined;
});

afterAll(async () => {
  await github?.close();
});

describe("pacing within the rate budget", () => {
  it("defers the costly kinds of a long-unchanged repository when the budget is low, and never meets the limit", async () => {
    budget(200); // 20% left: below a long-unchanged kind's floor (25%), above a fresh one's (2%)
    const from = github.requests.length;
    const { files, summary } = await drain(standin.source().collect("acme/stale"));
    for (const kind of [
      "issues",
      "issue-events",
      "issue-comments",
      "pulls",
      "pull-reviews",
      "pull-review-comments",
    ] as const)
      expect(summary.kinds[kind], kind).toEqual(DEFERRED);
    expect(files.has(kindPath("issues"))).toBe(false);
    // The repository last changed in 2024: its whole kinds (labels, settings…) wait too.
    expect(summary.kinds.labels).toEqual(DEFERRED);
    expect(summary.kinds.releases).toEqual(DEFERRED);
    expect(summary.kinds.repository).toEqual({ state: "full", items: 1 });
    const perParent = new Set(["issue-events", "pull-reviews"]);
    expect(summary.checkpoint.deferred).toEqual(
      Object.entries(summary.kinds)
        .filter(([kind, outcome]) => outcome.state === "deferred" && !perParent.has(kind))
        .map(([kind]) => kind),
    );
    expect(summary.checkpoint.deferred).toEqual(
      expect.arrayContaining(["labels", "issues", "issue-comments", "pulls", "pull-review-comments"]),
    );
    expect(summary.checkpoint.kinds.issues).toBeUndefined(); // read in full next time
    expect(github.requests.slice(from).filter((r) => r.status === 403)).toEqual([]);
    expect(github.requests.slice(from).some((r) => /\/issues\?.*direction=asc/.test(r.url))).toBe(false);

    // Still low: the deferred kinds are not due; refilled: they are, and read whole.
    budget(200);
    expect(await standin.source().changedSince("acme/stale", summary.checkpoint)).toBe(false);
    budget(1000);
    expect(await standin.source().changedSince("acme/stale", summary.checkpoint)).toBe(true);
    const later = await drain(standin.source().collect("acme/stale", { checkpoint: summary.checkpoint }));
    expect(later.summary.kinds.issues).toEqual({ state: "full", items: 230 });
    expect(later.summary.kinds["issue-events"]).toMatchObject({ state: "full" });
    expect(later.summary.kinds["issue-comments"]).toEqual({ state: "full", items: 250 });
    expect(later.summary.kinds.labels).toEqual({ state: "full", items: 120 });
    expect(later.summary.checkpoint.deferred).toBeUndefined();
    const served = github
      .metadata("acme/stale")
      .issues.map((i) => i.number)
      .sort((a, b) => Number(a) - Number(b));
    const read = parseJsonl(later.files.get(kindPath("issues"))!.toString("utf8")).map((l) => l.number);
    expect(read.sort((a, b) => Number(a) - Number(b))).toEqual(served);
  });

  it("reads what changed within the day on the same budget, and defers the rest", async () => {
    budget(200);
    const { summary } = await drain(standin.source().collect("acme/fresh"));
    expect(summary.kinds.issues).toEqual({ state: "full", items: 230 });
    expect(summary.kinds["issue-events"]).toMatchObject({ state: "full" });
    expect(summary.kinds["issue-comments"]).toEqual({ state: "full", items: 250 });
    expect(summary.kinds.labels).toEqual({ state: "full", items: 120 });
    expect(summary.kinds.pulls).toEqual(DEFERRED);
    expect(summary.kinds["pull-reviews"]).toEqual(DEFERRED);
    expect(summary.checkpoint.deferred).toEqual(["pulls", "pull-review-comments"]);
  });

  it("keeps the place of a kind deferred in an incremental collection: the next one reads from the old mark", async () => {
    const full = await drain(standin.source().collect("acme/fresh"));
    const meta = github.metadata("acme/fresh");
    meta.issues.find((i) => i.number === 12)!.updated_at = hoursAgo(0.5);
    budget(15); // 1.5%: below even a fresh kind's floor
    const deferred = await drain(
      standin.source().collect("acme/fresh", { checkpoint: full.summary.checkpoint }),
    );
    expect(deferred.summary.kinds.issues).toEqual(DEFERRED);
    expect(deferred.summary.checkpoint.kinds.issues).toEqual(full.summary.checkpoint.kinds.issues);
    // Issue 12's change is no reason for another snapshot while the budget is still low.
    budget(15);
    expect(await standin.source().changedSince("acme/fresh", deferred.summary.checkpoint)).toBe(false);
    budget(1000);
    expect(await standin.source().changedSince("acme/fresh", deferred.summary.checkpoint)).toBe(true);
    const next = await drain(
      standin.source().collect("acme/fresh", { checkpoint: deferred.summary.checkpoint }),
    );
    expect(next.summary.kinds.issues).toMatchObject({ state: "delta" });
    const numbers = parseJsonl(next.files.get(kindPath("issues"))!.toString("utf8")).map((l) => l.number);
    expect(numbers).toContain(12);
  });

  it("stores the git data whole and records the deferred kinds in the manifest, the index and health", async () => {
    const scratch = await mkdtemp(join(tmpdir(), "infinity-pacing-"));
    const source = await richRepo(scratch);
    const ws = await workspace({ "acme/stale": source });
    const app = await ws.open(manualClock());
    try {
      budget(200);
      const { snapshot } = await snapshotRepo(
        app,
        "acme/stale",
        { url: source },
        { actor: "test", metadata: standin.source() },
      );
      // The git part is never deferred: the snapshot has every ref of the source, and the bundle.
      const refs = Object.fromEntries(
        (await refsOf(source))
          .trim()
          .split("\n")
          .map((line) => line.split(" "))
          .map(([oid, , ref]) => [ref, oid]),
      );
      expect(snapshot.refs).toEqual(refs);
      expect(snapshot.bundleBytes).toBeGreaterThan(0);
      expect(snapshot.metadata?.deferred).toMatchObject({
        labels: "rate budget",
        issues: "rate budget",
        "issue-comments": "rate budget",
        "issue-events": "rate budget",
        pulls: "rate budget",
        "pull-reviews": "rate budget",
        "pull-review-comments": "rate budget",
      });
      expect(snapshot.metadata?.unavailable).toEqual({});
      const health = repoHealth("acme/stale", [snapshot], new Date());
      expect(health.metadataDeferred).toEqual(snapshot.metadata?.deferred);
      expect(health.problems.map((p) => p.kind)).not.toContain("attempt-failed");
      const read = await readMetadata(
        app,
        snapshot,
        { kinds: ["issues", "labels"] },
        { actor: "t", purpose: "t" },
      );
      expect(read.kinds.issues).toEqual(DEFERRED);
      expect(read.kinds.labels).toEqual(DEFERRED);
    } finally {
      await app.close();
      await ws.cleanup();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
