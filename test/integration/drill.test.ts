// Restore drills: a sample restored into scratch space and checked against the index, timed
// against the RTO, each recorded in the audit trail; a damaged archive makes its drill fail and
// say why, and the status page's data shows the last drill of each repository.
import { readFile, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalApp } from "../../functions/app.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import { runDrill } from "../../functions/core/drill.js";
import { statusData } from "../../functions/web/status-data.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { cli } from "../helpers/cli-run.js";

let scratch: string;
let ws: TestWorkspace;
let app: LocalApp;
const repos = ["acme/big", "acme/small", "acme/third"];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-drill-"));
  const paths = await Promise.all(repos.map((_, i) => richRepo(join(scratch, String(i)))));
  // Random text does not compress away (200 KB of one letter packs to a few hundred bytes, which
  // left the "largest" archive to chance): the largest archive by far.
  await pushCommit(paths[0]!, "main", "big.txt", randomBytes(150_000).toString("hex"));
  ws = await workspace(Object.fromEntries(repos.map((r, i) => [r, paths[i]!])));
  expect((await cli("backup", "--config", ws.configFile, "--quiet")).code).toBe(0);
  app = await ws.open();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function drillEntries(): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for await (const s of app.auditTrail.stored()) {
    const e = s.value as AuditEntry;
    if (e.action.startsWith("drill.")) entries.push(e);
  }
  return entries;
}

describe("restore drills", () => {
  it("a sample of one is the largest repository; it passes, timed against the RTO, and is audited", async () => {
    const [result, ...rest] = await runDrill(app, { actor: "test", sample: 1, trail: app.auditTrail });
    expect(rest).toEqual([]);
    expect(result).toMatchObject({ repo: "acme/big", verdict: "passed", withinRto: true });
    expect(result!.refs).toBe(Object.keys((await app.index.latest("acme/big"))!.refs).length);
    const [entry] = await drillEntries();
    expect(entry).toMatchObject({ action: "drill.passed", repo: "acme/big", outcome: "success" });
    expect(entry!.details).toMatchObject({ withinRto: true, rtoSeconds: 3600 });
  });

  it("the next drill of two takes the largest and one never drilled; the CLI prints and exits 0", async () => {
    const { code, stdout } = await cli("drill", "--config", ws.configFile, "--sample", "2", "--json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.results.map((r: { repo: string }) => r.repo)[0]).toBe("acme/big");
    expect(["acme/small", "acme/third"]).toContain(report.results[1].repo);
  });

  it("a damaged archive fails its drill with the reason, exit 1; the status data shows the last drill", async () => {
    const snapshot = (await app.index.latest("acme/third"))!;
    const file = join(ws.dir, "data", "archives", snapshot.objectKey);
    const bytes = await readFile(file);
    const damaged = Buffer.from(bytes);
    damaged[Math.floor(damaged.length / 2)]! ^= 0x40;
    await writeFile(file, damaged);
    try {
      const { code, stdout } = await cli("drill", "--config", ws.configFile, "--repo", "acme/third");
      expect(code).toBe(1);
      expect(stdout).toMatch(/acme\/third .*FAILED/);
      expect(stdout).toMatch(/0 of 1 drills passed/);
      const { view } = await statusData(app, repos);
      const row = view.rows.find((r) => r.repo === "acme/third")!;
      expect(row.lastDrill?.verdict).toBe("failed");
      expect(view.rows.find((r) => r.repo === "acme/big")!.lastDrill?.verdict).toBe("passed");
      expect(view.restores.filter((r) => r.drill).length).toBeGreaterThanOrEqual(2);
    } finally {
      await writeFile(file, bytes);
    }
    expect((await cli("drill", "--config", ws.configFile, "--sample", "0")).code).toBe(2);
  });
});
