// Drills of large repositories go to the Cloud Run job: on the emulated deployment (Firestore
// emulator, fake-gcs-server, the KMS stand-in; test/helpers/cloud-stack.ts), restoreDrill drills a
// small repository itself and hands one above cloud.largeRepoBytes to snapshot-large; the snapshot
// job (its test seam, as test/e2e/cloud.test.ts uses it) drains it, runs the same drill, and
// records the result in the audit trail, where the status page finds it.
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Request, Response } from "@google-cloud/functions-framework";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudApp } from "../../functions/app.js";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import { drillHandler } from "../../functions/handlers/drill.js";
import { runSnapshotJob } from "../../functions/jobs/snapshot-job.js";
import { setLogWriter } from "../../functions/log.js";
import { statusData } from "../../functions/web/status-data.js";
import { cloudApp } from "../../functions/wiring.js";
import { startCloudStack, type CloudStack } from "../helpers/cloud-stack.js";
import { pushCommit } from "../helpers/git-repos.js";

const CONFIG_DIR = fileURLToPath(new URL("../../config", import.meta.url));
let stack: CloudStack;
let scratch: string;
let configFile: string;
let drillApp: CloudApp;
const logs: string[] = [];
const previousWriter = setLogWriter((line) => logs.push(line));
const sizes: Record<string, number> = {};

beforeAll(async () => {
  stack = await startCloudStack();
  scratch = await mkdtemp(join(tmpdir(), "infinity-drill-job-"));
  for (const name of ["acme/small", "acme/large"]) {
    stack.github.addRepo(name);
    await createDemoRepo(join(stack.root, `${name}.git`));
  }
  // Random bytes do not compress: the large repository's archive is the larger by far.
  await pushCommit(
    join(stack.root, "acme/large.git"),
    "main",
    "blob.txt",
    randomBytes(200_000).toString("base64"),
  );
  for (const repo of ["acme/small", "acme/large"]) {
    const request = { v: 1, repo, reason: "manual", requestedAt: new Date().toISOString() };
    expect((await stack.push("snapshotRepo", request)).status).toBe(204);
  }
  const app = await stack.app();
  for (const repo of ["acme/small", "acme/large"]) sizes[repo] = (await app.index.latest(repo))!.size;
  expect(sizes["acme/large"]).toBeGreaterThan(2 * sizes["acme/small"]!);
  // The shipped config, with the hand-over threshold between the two archives.
  await cp(CONFIG_DIR, join(scratch, "config"), { recursive: true });
  configFile = join(scratch, "config", "backup-config.yaml");
  const threshold = Math.round((sizes["acme/small"]! + sizes["acme/large"]!) / 2);
  const yaml = await readFile(configFile, "utf8");
  expect(yaml).toMatch(/largeRepoBytes: \d+/);
  await writeFile(configFile, yaml.replace(/largeRepoBytes: \d+/, `largeRepoBytes: ${threshold}`));
  drillApp = await cloudApp("restoreDrill", stack.envOf("restoreDrill"), { ...stack.overrides, configFile });
}, 180_000);

afterAll(async () => {
  setLogWriter(previousWriter);
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** restoreDrill called as Scheduler calls it (a POST with a JSON body); its status and answer. */
async function callDrill(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = { status: 0, body: {} as Record<string, unknown> };
  const res = {
    status: (code: number) => ((answer.status = code), res),
    json: (value: Record<string, unknown>) => void (answer.body = value),
    set: () => res,
    type: () => res,
    send: () => {},
  };
  await drillHandler(async () => drillApp)(
    { method: "POST", body, headers: {} } as unknown as Request,
    res as unknown as Response,
  );
  return answer;
}

async function drills(): Promise<AuditEntry[]> {
  const app = await stack.app();
  const found: AuditEntry[] = [];
  for await (const s of app.auditTrail!.stored()) {
    const e = s.value as AuditEntry;
    if (e.action.startsWith("drill.")) found.push(e);
  }
  return found;
}

const runJob = async () =>
  runSnapshotJob(
    await cloudApp("snapshotJob", stack.envOf("snapshotJob"), { ...stack.overrides, configFile }),
    1500,
  );

describe("drills of large repositories run in the snapshot job", () => {
  it("restoreDrill drills the small repository and hands the large one to the job", async () => {
    const { status, body } = await callDrill({ v: 1, sample: 2 });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.results).toMatchObject([{ repo: "acme/small", verdict: "passed" }]);
    expect(body.handedToJob).toEqual([{ repo: "acme/large", bytes: sizes["acme/large"] }]);
    expect((await drills()).map((e) => [e.action, e.repo])).toEqual([["drill.passed", "acme/small"]]);
    expect(logs.some((l) => l.includes('"event":"drill_handed_over"') && l.includes("acme/large"))).toBe(
      true,
    );
  });

  it("the job drains it, runs the same drill, and records it: refs equal to the index", async () => {
    expect(await runJob()).toBe(0);
    const large = (await drills()).filter((e) => e.repo === "acme/large");
    expect(large).toHaveLength(1);
    const latest = (await (await stack.app()).index.latest("acme/large"))!;
    expect(large[0]).toMatchObject({ action: "drill.passed", outcome: "success", snapshotId: latest.id });
    expect(large[0]!.actor).toMatch(/^job:/);
    expect(large[0]!.details).toMatchObject({ refs: Object.keys(latest.refs).length, withinRto: true });
    expect(large[0]!.details!.bytes as number).toBeGreaterThan(200_000);
    // The index (Firestore) holds the job's drill record, with the checks it ran.
    const record = (await (await stack.app()).drills!.lastDrills()).find((r) => r.repo === "acme/large");
    expect(record).toMatchObject({ verdict: "passed", snapshotId: latest.id, withinRto: true });
    expect(record!.checks).toEqual(expect.arrayContaining(["restore", "refs", "fsck", "manifest"]));
    // The status page shows it as the repository's last drill.
    const { view } = await statusData(await stack.app("backupHealth"), []);
    expect(view.rows.find((r) => r.repo === "acme/large")!.lastDrill?.verdict).toBe("passed");
  });

  it("a named large repository is handed over too; the queue is then empty", async () => {
    const { status, body } = await callDrill({ v: 1, repos: ["acme/large", "acme/small"] });
    expect(status).toBe(200);
    expect((body.results as { repo: string }[]).map((r) => r.repo)).toEqual(["acme/small"]);
    expect(body.handedToJob).toEqual([{ repo: "acme/large", bytes: sizes["acme/large"] }]);
    expect(await runJob()).toBe(0);
    expect((await drills()).filter((e) => e.repo === "acme/large")).toHaveLength(2);
    expect(await runJob()).toBe(0); // nothing left: no third drill
    expect((await drills()).filter((e) => e.repo === "acme/large")).toHaveLength(2);
  });
});
