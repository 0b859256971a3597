// Prune against the local adapters (folder store, SQLite index, key file, JSON Lines audit log): the
// scenario and tests every backend passes (prune-suite.ts), then the prune and cost commands and the
// policy the CLI loads, which exist on the local backend only.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { costCommand } from "../../functions/cli/commands/cost.js";
import { pruneCommand } from "../../functions/cli/commands/prune.js";
import type { CommandOptions, Context } from "../../functions/cli/context.js";
import { ProgressLine } from "../../functions/cli/progress.js";
import { loadSettings, retentionSource } from "../../functions/config/settings.js";
import { openApp, type LocalApp as App } from "../../functions/wiring.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { REPO, state, type AuditRecord, type PruneBackend, type PruneFixture } from "./prune-scenario.js";
import { pruneSuite } from "./prune-suite.js";

interface LocalFixture extends PruneFixture {
  app: App;
  configFile: string;
  dir: string;
}

/** The base is a workspace folder (config, index, archives, key, audit log); each copy is a copy of it. */
function localBackend(): PruneBackend<LocalFixture> {
  let base: TestWorkspace | undefined;
  const copies: LocalFixture[] = [];
  return {
    newClass: "LOCAL",
    async prepare(clock, source, build) {
      base = await workspace({ [REPO]: source });
      const app = await base.open(clock);
      try {
        await build(app);
      } finally {
        await app.close(); // SQLite in WAL mode: closed, so the copies see every commit
      }
    },
    async copy(clock) {
      const dir = await mkdtemp(join(tmpdir(), "infinity-prune-ws-"));
      await cp(base!.dir, dir, { recursive: true });
      const configFile = join(dir, "config", "backup-config.yaml");
      const app = await openApp(configFile, { clock, env: {} });
      const auditEvents = async (): Promise<AuditRecord[]> =>
        (await readFile(join(app.dataDir, "audit.jsonl"), "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line));
      const fixture = { deps: app, app, clock, configFile, dir, auditEvents };
      copies.push(fixture);
      return fixture;
    },
    async cleanup() {
      for (const { app, dir } of copies) {
        await app.close();
        await rm(dir, { recursive: true, force: true });
      }
      await base?.cleanup();
    },
  };
}

const { idAt, fresh } = pruneSuite("the local adapters", localBackend());

function context(app: App, configFile: string, options: Partial<CommandOptions> & { dryRun?: boolean } = {}) {
  const printed: string[] = [];
  const all: CommandOptions = {
    config: configFile,
    json: false,
    quiet: true,
    repo: [],
    verify: true,
    all: false,
    dryRun: false,
    release: false,
    ...options,
  };
  const ctx: Context = {
    app,
    options: all,
    progress: new ProgressLine(process.stderr, false),
    print: (text) => printed.push(text),
    actor: "cli:test",
  };
  return { ctx, output: () => printed.join("\n") };
}

describe("prune and cost commands", () => {
  it("prune --dry-run prints each snapshot's decision with its reasons and changes nothing", async () => {
    const f = await fresh();
    const { app, configFile } = f;
    const before = await state(f);
    const { ctx, output } = context(app, configFile, { dryRun: true });
    expect(await pruneCommand(ctx)).toBe(0);
    expect(await state(f)).toEqual(before);
    const text = output();
    expect(text).toMatch(/Dry run: nothing is changed/);
    expect(text).toMatch(/snapshot\s+taken\s+decision\s+reasons\s+keep until\s+class/);
    expect(text).toContain(
      `${idAt.get("2026-01-20T00:00:00.000Z")}  2026-01-20T00:00:00.000Z  REMOVE    older than 48h, daily 2026-01-20: newer kept, weekly 2026-W04: newer kept`,
    );
    expect(text).toMatch(
      new RegExp(
        `${idAt.get("2025-12-31T00:00:00.000Z")}.*keep.*yearly 2025.*2032-12-31\\s+LOCAL -> ARCHIVE`,
      ),
    );
    expect(text).toMatch(/1 repository: 10 kept, 4 would be removed, 0 orphans would be collected/);
  });

  it("prune --json reports the run; cost then shows the classes, the monthly estimate and the year ahead", async () => {
    const { app, configFile } = await fresh();
    const prune = context(app, configFile, { json: true, repo: [REPO] });
    expect(await pruneCommand(prune.ctx)).toBe(0);
    const report = JSON.parse(prune.output());
    expect(report).toMatchObject({ ok: true, dryRun: false, policy: "built-in default policy" });
    expect(report.repos[0].removed).toHaveLength(4);
    expect(report.repos[0].moves).toEqual({
      "LOCAL -> ARCHIVE": 2,
      "LOCAL -> COLDLINE": 1,
      "LOCAL -> NEARLINE": 3,
    });

    const cost = context(app, configFile, { json: true });
    expect(await costCommand(cost.ctx)).toBe(0);
    const { summary, projection, pricing, reads } = JSON.parse(cost.output());
    // The daily re-verification (schedule.verifySweep) reads the newest chain 30 times a month; the
    // folder store charges nothing for it.
    expect(reads.reads.verifications).toBeGreaterThanOrEqual(30);
    expect(reads.monthlyCost).toBe(0);
    expect(reads.assumption).toMatch(/newest snapshot's chain/);
    expect(pricing.source).toBe("built-in list prices");
    expect(summary.objects).toBe(10);
    expect(
      summary.byClass.map((c: { storageClass: string; objects: number }) => [c.storageClass, c.objects]),
    ).toEqual([
      ["NEARLINE", 3],
      ["COLDLINE", 1],
      ["ARCHIVE", 2],
      ["LOCAL", 4],
    ]);
    expect(projection.points).toHaveLength(12);

    const text = context(app, configFile);
    expect(await costCommand(text.ctx)).toBe(0);
    expect(text.output()).toMatch(/NEARLINE\s+3\s+[\d.]+ KiB\s+█/);
    expect(text.output()).toMatch(/10 archives, [\d.]+ KiB: about [\d.]+ USD a month/);
    expect(text.output()).toMatch(/The year ahead, assuming one snapshot a day/);
    expect(text.output()).toMatch(
      // One repository, so every daily drill (schedule.restoreDrill, 30 a month) reads it.
      /Reads a month \(.*\): \d+ verifications, 30 drills, 0 restores, .* read: about 0\.00 USD in retrieval fees/,
    );
  });

  it("reads config/retention-policy.yaml beside the config file, then RETENTION_DAYS", async () => {
    const { configFile, dir } = await fresh();
    await writeFile(join(dir, "config", "retention-policy.yaml"), "daily: 7d\nweekly: 4w\n");
    const settings = await loadSettings(configFile, { RETENTION_DAYS: "14" });
    const [policy, source] = [settings.retention, retentionSource(settings)];
    expect(source).toMatch(/retention-policy\.yaml, daily from RETENTION_DAYS$/);
    expect([policy.daily?.text, policy.weekly?.text, policy.within]).toEqual(["14d", "4w", undefined]);
    await writeFile(join(dir, "config", "retention-policy.yaml"), "daily: 7\n");
    await expect(loadSettings(configFile, {})).rejects.toThrow(
      /retention-policy\.yaml: daily: expected a duration with a unit/,
    );
  });
});
