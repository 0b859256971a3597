// Property (issue 13, "Proof"): whatever the history (new commits, merges, force pushes, branch
// and tag deletions, re-created refs, tags), with layered snapshots at random times (sometimes
// after old-style chains, which compaction folds in), prune and compaction interleaved at random
// and crashes injected into a step (layers-world.ts): after every step the index is consistent
// and every kept snapshot restores exactly as the source was when it was taken and passes
// `git fsck --full` (one whose archive and layers did not change since it last did is not
// restored again; after the full compaction, every one is), and after a full compaction the store holds only what kept snapshots
// read (layers-checks.ts says exactly what that allows). The local app (SQLite index, folder store)
// on a manual clock. A failure names its seed: PROPERTY_SEED=<seed> replays that case alone,
// PROPERTY_CASES=<n> runs more, PROPERTY_TRACE=1 prints each step (and the writes of a crashed one).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LAYER_GRACE_MS } from "../../functions/core/layers/garbage-plan.js";
import { pruneRepo, type PruneReport } from "../../functions/core/prune.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { crashingDeps, type CrashLog } from "../helpers/crash-ports.js";
import { BareHistory } from "../helpers/git-history.js";
import { richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace } from "../helpers/local-app.js";
import {
  checkIndex,
  checkRestores,
  checkStoreAfterFullCompaction,
  sourceNow,
  type StoredObjects,
  type Taken,
} from "./layers-checks.js";
import { applyPush, layersCase, type LayersCase, type Step } from "./layers-world.js";

const REPO = "acme/prop";
const actor = "property";
const DAY = 86_400_000;
const BASE_SEED = Number(process.env.PROPERTY_SEED ?? 20261302);
const CASES = process.env.PROPERTY_SEED ? 1 : Number(process.env.PROPERTY_CASES ?? 3);
/** Past the layer grace period and the store's retention of new archives (48 h). */
const PAST_GRACE = Math.max(LAYER_GRACE_MS, 2 * DAY) + 3_600_000;

interface CaseResult {
  /** Snapshot and prune steps run and checked (pushes and waits are not counted). */
  checked: number;
  crashes: number;
  restores: number;
  merges: number;
  rewrites: number;
  folds: number;
  /** After compaction ran until it did nothing (what ordinary compaction leaves). */
  settled: StoredObjects;
  /** After `prune --compact --full`: nothing unneeded, nothing twice. */
  final: StoredObjects;
}

/** Replays one case on a fresh local app; throws naming the step that broke a property. */
async function runCase(c: LayersCase, scratch: string): Promise<CaseResult> {
  const source = await richRepo(scratch);
  const history = new BareHistory(source);
  const written: string[] = [];
  const clock = manualClock("2026-11-02T08:00:00.000Z");
  const ws = await workspace({ [REPO]: source });
  const app = await ws.open(clock);
  const taken = new Map<string, Taken>();
  /** What each snapshot restored from last time: restored again only once that changed. */
  const restored = new Map<string, string>();
  const result = { checked: 0, crashes: 0, restores: 0, merges: 0, rewrites: 0, folds: 0 };
  const count = (report: PruneReport | undefined) => {
    if (process.env.PROPERTY_TRACE)
      console.log(
        `prune at ${clock.now().toISOString()}: removed ${report?.remove.map((r) => r.snapshot.id).join(" ")}; layers ${JSON.stringify(report?.layers)}; compaction ${JSON.stringify(report?.compaction)}`,
      );
    result.merges += report?.compaction?.merges.length ?? 0;
    result.rewrites += report?.compaction?.rewrite?.merged ? 1 : 0;
    result.folds += report?.compaction?.fold?.folded.length ?? 0;
  };
  const prune = (deps: App, compact: boolean) =>
    pruneRepo(deps, REPO, c.policy, { dryRun: false, actor, ...(compact ? { compact: true } : {}) });
  try {
    for (const [n, step] of c.steps.entries()) {
      clock.advance(60_000 + (n % 7) * 600_000);
      const where = `step ${n} ${stepName(step)} at ${clock.now().toISOString()}`;
      if (step.kind === "push") {
        applyPush(history, step.seed, written);
        continue;
      }
      if (step.kind === "wait") {
        clock.advance(step.ms);
        continue;
      }
      const crash = step.crash ? crashingDeps(app, step.crash) : undefined;
      const deps = crash?.deps ?? app;
      const state = await sourceNow(source);
      try {
        if (step.kind === "snapshot") {
          await snapshotRepo(
            deps,
            REPO,
            { url: source },
            {
              actor,
              layers: step.layers,
              ...(step.layers ? {} : { incremental: c.incremental }),
            },
          );
        } else count(await prune(deps, step.compact));
      } catch (err) {
        if (!crash?.log.crashedAt) throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
      }
      // A snapshot the index lists now was taken from the source as it is (even one whose run crashed after T-snap).
      for (const snapshot of await app.index.list(REPO))
        if (!taken.has(snapshot.id)) taken.set(snapshot.id, state);
      const label = crashed(where, crash?.log);
      if (process.env.PROPERTY_TRACE) console.log(label, crash?.log.writes.join(" ") ?? "");
      await checkIndex(app, REPO, taken, label);
      result.crashes += crash?.log.crashedAt ? 1 : 0;
      result.restores += await checkRestores(app, REPO, taken, scratch, label, restored);
      result.checked++;
    }
    // A full compaction: prune by the policy (past the store's retention, so its removals are not
    // skipped), compaction until a run does nothing, then layer garbage past the grace period
    // twice (T-drop, then the deletes after the grace).
    clock.advance(PAST_GRACE);
    count(await prune(app, false));
    const kept = (await app.index.list(REPO)).map((s) => s.id).sort();
    for (let run = 0; ; run++) {
      const report = await prune(app, true);
      count(report);
      const compaction = report.compaction;
      if (!compaction?.merges.length && !compaction?.rewrite?.merged && !compaction?.fold?.folded.length)
        break;
      expect(run, "compaction reaches a run that does nothing").toBeLessThan(5);
    }
    for (let round = 0; round < 2; round++) {
      clock.advance(PAST_GRACE);
      count(await prune(app, false));
    }
    const where = `after a full compaction at ${clock.now().toISOString()}`;
    expect((await app.index.list(REPO)).map((s) => s.id).sort(), `${where}: kept snapshots`).toEqual(kept);
    await checkIndex(app, REPO, taken, where);
    result.restores += await checkRestores(app, REPO, taken, scratch, where);
    const settled = await checkStoreAfterFullCompaction(app, REPO, taken, scratch, where);
    // Then `prune --compact --full` and layer garbage past the grace period: one live layer holding
    // exactly what the kept snapshots reach, so no stored object is one no kept snapshot needs.
    const full = await pruneRepo(app, REPO, c.policy, {
      dryRun: false,
      actor,
      compact: true,
      fullCompaction: true,
    });
    count(full);
    for (let round = 0; round < 2; round++) {
      clock.advance(PAST_GRACE);
      count(await prune(app, false));
    }
    const afterFull = `after prune --compact --full at ${clock.now().toISOString()}`;
    expect((await app.index.list(REPO)).map((s) => s.id).sort(), `${afterFull}: kept snapshots`).toEqual(
      kept,
    );
    await checkIndex(app, REPO, taken, afterFull);
    result.restores += await checkRestores(app, REPO, taken, scratch, afterFull);
    const final = await checkStoreAfterFullCompaction(app, REPO, taken, scratch, afterFull);
    expect(
      { unneeded: final.unneeded, duplicated: final.duplicated },
      `${afterFull}: stored objects no kept snapshot needs, and objects stored twice`,
    ).toEqual({ unneeded: 0, duplicated: 0 });
    expect(final.liveLayers, `${afterFull}: live layers`).toBeLessThanOrEqual(1);
    return { ...result, settled, final };
  } finally {
    await app.close();
    await ws.cleanup();
  }
}

function stepName(step: Step): string {
  if (step.kind === "push" || step.kind === "wait") return step.kind;
  const what =
    step.kind === "snapshot"
      ? `snapshot (layers ${step.layers ? "on" : "off"})`
      : `prune${step.compact ? " --compact" : ""}`;
  return step.crash ? `${what}, crash at write ${step.crash.nth} ${step.crash.when} it lands` : what;
}

const crashed = (where: string, log: CrashLog | undefined) =>
  log?.crashedAt ? `${where} (crashed at ${log.crashedAt})` : where;

describe("layered snapshots, prune and compaction (property)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it(`${CASES} random histories over the local app: every kept snapshot restores exactly; after compaction the store holds only what they read, and after a full compaction nothing they do not need`, async () => {
    const totals: CaseResult[] = [];
    for (let i = 0; i < CASES; i++) {
      const c = layersCase(BASE_SEED + i);
      const scratch = await mkdtemp(join(tmpdir(), "infinity-lprop-"));
      dirs.push(scratch);
      try {
        totals.push(await runCase(c, scratch));
      } catch (err) {
        const replay = `PROPERTY_SEED=${c.seed} npx vitest run test/property/layers-closure.test.ts`;
        throw new Error(
          `seed ${c.seed}, policy ${JSON.stringify(c.policyText)}; replay: ${replay}\n${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    console.log(JSON.stringify(totals));
    expect(totals.reduce((sum, t) => sum + t.restores, 0)).toBeGreaterThan(CASES);
  }, 1_800_000);
});
