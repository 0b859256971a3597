// The sweep records the deployed configuration (issue 11): its first run records it, a run with
// the same configuration records nothing, and a changed legal-hold list (LEGAL_HOLD_REPOS, as
// Terraform sets it) is one config.changed entry naming both values, actor "deployment". A trail
// that fails does not stop the sweep.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudEvent } from "@google-cloud/functions-framework";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonlAuditLog } from "../../functions/adapters/local/jsonl-audit-log.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import type { CloudApp } from "../../functions/app.js";
import { loadSettings } from "../../functions/config/settings.js";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import type { ConfigChangeDetails } from "../../functions/core/audit-config.js";
import type { ConfigTrail } from "../../functions/core/ports.js";
import { sweepHandler } from "../../functions/handlers/sweep.js";

let dir: string;
let configFile: string;
let index: SqliteSnapshotIndex;
let trail: JsonlAuditLog;
let published: unknown[];

const event = {
  id: "1",
  data: { message: { data: Buffer.from(JSON.stringify({ v: 1, reason: "schedule" })).toString("base64") } },
} as unknown as CloudEvent<unknown>;

async function sweepWith(env: NodeJS.ProcessEnv, configTrail: ConfigTrail = trail): Promise<void> {
  const app = {
    settings: await loadSettings(configFile, env),
    index,
    clock: { now: () => new Date("2026-12-01T00:00:00.000Z") },
    sources: { listRepos: async () => [{ name: "acme/app", url: "https://example.com/acme/app.git" }] },
    publisher: {
      publish: async (_topic: string, messages: readonly unknown[]) => {
        published.push(...messages);
        return messages.map(String);
      },
    },
    configTrail,
  } as unknown as CloudApp;
  await sweepHandler(async () => app)(event);
}

async function configEntries(): Promise<(AuditEntry & { details: ConfigChangeDetails })[]> {
  const text = await readFile(trail.path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEntry & { details: ConfigChangeDetails })
    .filter((e) => e.action === "config.changed");
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "infinity-sweep-config-"));
  await mkdir(join(dir, "config"));
  configFile = join(dir, "config", "backup-config.yaml");
  await writeFile(configFile, "version: 1\nbackend: gcp\n");
  index = new SqliteSnapshotIndex({ path: join(dir, "index.sqlite") });
  trail = new JsonlAuditLog({ path: join(dir, "audit.jsonl") });
  published = [];
});

afterEach(async () => {
  index.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the sweep and the deployed configuration", () => {
  it("records it once, and a changed legal-hold list as one entry naming both values", async () => {
    await sweepWith({ LEGAL_HOLD_REPOS: "acme/app" });
    await sweepWith({ LEGAL_HOLD_REPOS: "acme/app" });
    expect(await configEntries()).toHaveLength(1);
    await sweepWith({ LEGAL_HOLD_REPOS: "acme/app,acme/lib" });
    await sweepWith({ LEGAL_HOLD_REPOS: "acme/app,acme/lib" });
    const entries = await configEntries();
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ actor: "deployment", outcome: "success" });
    expect(entries[1]!.details.changes).toEqual([
      {
        key: "retention.holdRepos",
        before: { value: ["acme/app"], from: "env LEGAL_HOLD_REPOS" },
        after: { value: ["acme/app", "acme/lib"], from: "env LEGAL_HOLD_REPOS" },
      },
    ]);
    expect(published).toHaveLength(4); // the sweep itself ran every time
  });

  it("a trail that cannot take the entry does not stop the sweep", async () => {
    const broken: ConfigTrail = {
      recordConfig: async () => {
        throw new Error("Firestore unavailable");
      },
    };
    await sweepWith({}, broken);
    expect(published).toHaveLength(1);
  });
});
