// Configuration changes as audit entries (issue 11), locally: the first run records the effective
// configuration, an unchanged one records nothing, a changed value is exactly one entry that names
// the key with both values (however many runs follow), the legal-hold list from the environment
// included; a webhook URL's secret path never reaches the trail; `audit --action config` finds the
// entries and `audit verify` still passes.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import type { ConfigChangeDetails } from "../../functions/core/audit-config.js";
import { openApp } from "../../functions/wiring.js";
import { cli } from "../helpers/cli-run.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

const WEBHOOK_SECRET_PATH = "services/T0SECRET/B0SECRET/xyzzyPlugh42";

let ws: TestWorkspace;
let config: string[];
let policyFile: string;

async function configEntries(): Promise<(AuditEntry & { details: ConfigChangeDetails })[]> {
  const run = await cli("audit", ...config, "--action", "config", "--json");
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as (AuditEntry & { details: ConfigChangeDetails })[];
}

/** The same, read from the log file itself (no command run, so nothing recorded by the reading). */
async function configEntriesInFile(): Promise<(AuditEntry & { details: ConfigChangeDetails })[]> {
  const text = await readFile(join(ws.dir, "data", "audit.jsonl"), "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEntry & { details: ConfigChangeDetails })
    .filter((e) => e.action === "config.changed");
}

/** Opens and closes the app as any command does, with `env` as its environment. */
async function runWith(env: NodeJS.ProcessEnv): Promise<void> {
  const app = await openApp(ws.configFile, { env });
  await app.close();
}

beforeAll(async () => {
  ws = await workspace(
    {},
    `notifications:\n  webhooks:\n    - url: http://127.0.0.1:9/${WEBHOOK_SECRET_PATH}\n`,
  );
  config = ["--config", ws.configFile, "--quiet"];
  policyFile = join(ws.dir, "config", "retention-policy.yaml");
  await writeFile(policyFile, "within: 48h\ndaily: 30d\nweekly: 90d\nmonthly: 1y\nyearly: 7y\n");
});

afterAll(async () => {
  await ws?.cleanup();
});

describe("configuration changes in the audit trail", () => {
  it("the first run records the configuration once; unchanged runs record nothing", async () => {
    expect((await cli("list", ...config)).code).toBe(0);
    expect((await cli("list", ...config)).code).toBe(0);
    const entries = await configEntries();
    expect(entries).toHaveLength(1);
    const first = entries[0]!;
    expect(first).toMatchObject({ action: "config.changed", outcome: "success", details: { first: true } });
    expect(first.actor).toMatch(/^cli:/);
    expect(first.details.settings["retention.daily"]).toEqual({
      value: "30d",
      from: "retention-policy.yaml",
    });
    expect(first.details.settings["verify.afterBackup"]).toEqual({ value: true, from: "default" });
    expect(first.details.settings["pricing.storage.STANDARD"]?.value).toBe(0.02);
  });

  it("a changed value is one entry naming the key, its file and both values; later runs add none", async () => {
    await writeFile(policyFile, "within: 48h\ndaily: 45d\nweekly: 90d\nmonthly: 1y\nyearly: 7y\n");
    for (let i = 0; i < 3; i++) expect((await cli("list", ...config)).code).toBe(0);
    const entries = await configEntries();
    expect(entries).toHaveLength(2);
    const change = entries[1]!.details;
    expect(change.changes).toEqual([
      {
        key: "retention.daily",
        before: { value: "30d", from: "retention-policy.yaml" },
        after: { value: "45d", from: "retention-policy.yaml" },
      },
    ]);
    expect(change.sources).toEqual(["retention-policy.yaml"]);
    expect(change.previousDigest).toBe(entries[0]!.details.digest);
  });

  it("the legal-hold list and retention from the environment are changes too, and so is their removal", async () => {
    await runWith({ LEGAL_HOLD_REPOS: "acme/app, acme/lib", RETENTION_DAYS: "60" });
    await runWith({ LEGAL_HOLD_REPOS: "acme/app, acme/lib", RETENTION_DAYS: "60" });
    let entries = await configEntriesInFile();
    expect(entries).toHaveLength(3);
    const held = entries[2]!.details;
    expect(held.changes).toEqual([
      {
        key: "retention.daily",
        before: { value: "45d", from: "retention-policy.yaml" },
        after: { value: "60d", from: "env RETENTION_DAYS" },
      },
      {
        key: "retention.holdRepos",
        before: { value: [], from: "default" },
        after: { value: ["acme/app", "acme/lib"], from: "env LEGAL_HOLD_REPOS" },
      },
    ]);
    expect(held.sources).toEqual([
      "default",
      "env LEGAL_HOLD_REPOS",
      "env RETENTION_DAYS",
      "retention-policy.yaml",
    ]);

    await runWith({});
    entries = await configEntriesInFile();
    expect(entries).toHaveLength(4);
    expect(entries[3]!.details.changes.map((c) => [c.key, c.before?.value, c.after?.value])).toEqual([
      ["retention.daily", "60d", "45d"],
      ["retention.holdRepos", ["acme/app", "acme/lib"], []],
    ]);
  });

  it("a webhook URL is a fingerprint: its secret path never reaches the trail, its change still does", async () => {
    const before = (await configEntries()).length;
    const text = await readFile(ws.configFile, "utf8");
    await writeFile(ws.configFile, text.replace("xyzzyPlugh42", "rotatedSecret99"));
    await runWith({});
    const entries = await configEntries();
    expect(entries).toHaveLength(before + 1);
    const [change] = entries.at(-1)!.details.changes;
    expect(change!.key).toBe("notifications.webhooks");
    const shown = change!.after!.value as { url: string }[];
    expect(shown[0]!.url).toMatch(/^https:\/\/127\.0\.0\.1:9\/… \(secret, sha256 [0-9a-f]{12}\)$/);
    expect(change!.before!.value).not.toEqual(change!.after!.value);
    const log = await readFile(join(ws.dir, "data", "audit.jsonl"), "utf8");
    expect(log).not.toContain("xyzzyPlugh42");
    expect(log).not.toContain("rotatedSecret99");
    expect(log).not.toContain("T0SECRET");
  });

  it("the chain stays intact, and a read-only run records nothing", async () => {
    const verify = await cli("audit", "verify", ...config);
    expect(verify.code, verify.stdout).toBe(0);
    const before = (await configEntries()).length;
    const app = await openApp(ws.configFile, { env: { RETENTION_DAYS: "90" }, readOnly: true });
    await app.close();
    expect(await configEntries()).toHaveLength(before);
  });
});
