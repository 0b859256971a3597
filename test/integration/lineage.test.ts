// Repository lineage end to end, on the GitHub stand-in with the real CLI, @octokit/app and git
// smart HTTP: a rename or a transfer continues the history (the next snapshot is incremental on the
// old chain, restore by the new or the old name gives the whole history), and a deleted repository
// keeps its backups, shows as deleted and no longer fails a sweep. Events arrive as signed webhooks.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { GitHubWebhookReceiver } from "../../functions/adapters/github/webhook.js";
import { backupPolicy } from "../../functions/app.js";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { readRefs } from "../../functions/core/git/local-repo.js";
import { applyInventoryEvent } from "../../functions/core/lineage/inventory.js";
import { LineageIndex } from "../../functions/core/lineage/lineage-index.js";
import type { Snapshot } from "../../functions/core/model.js";
import { systemClock, type Publisher } from "../../functions/core/ports.js";
import { runSnapshotRequest } from "../../functions/core/snapshot-request.js";
import { sweep } from "../../functions/core/sweep.js";
import { openApp } from "../../functions/wiring.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { objectsOf, pushCommit } from "../helpers/git-repos.js";
import { StandinInventory, signedDelivery } from "../helpers/github-standin-inventory.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { runCli } from "../helpers/cli-run.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 626262;
const SECRET = "whsec-lineage-test";
const { privateKey } = appKeys();

let world: GitHubWorld;
let root: string;
let git: GitHttpServer;
let github: GitHubStandin;
let inventory: StandinInventory;
let ws: TestWorkspace;
let env: Record<string, string>;

async function cli(...argv: string[]) {
  return runCli([...argv, "--config", ws.configFile], env);
}

async function listed(repo: string): Promise<Snapshot[]> {
  const index = new SqliteSnapshotIndex({ path: join(ws.dir, "data", "index.sqlite") });
  try {
    return await new LineageIndex(index).list(repo);
  } finally {
    index.close();
  }
}

/** A webhook delivery GitHub would send, through the receiver (signature checked) and applied to the index. */
async function deliver(event: string, payload: unknown) {
  const delivery = signedDelivery(SECRET, event, payload);
  const outcome = await new GitHubWebhookReceiver(SECRET).receive({ ...delivery, now: new Date() });
  if (outcome.kind !== "inventory") throw new Error(`expected an inventory event, got ${outcome.kind}`);
  const published: unknown[] = [];
  const publisher: Publisher = {
    publish: async (_topic, messages) => {
      published.push(...messages);
      return messages.map((_, i) => String(i));
    },
  };
  const index = new SqliteSnapshotIndex({ path: join(ws.dir, "data", "index.sqlite") });
  try {
    const applied = await applyInventoryEvent(
      { index: new LineageIndex(index), publisher, clock: systemClock },
      outcome.event,
      delivery.headers["x-github-delivery"],
    );
    return { ...applied, published };
  } finally {
    index.close();
  }
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-lineage-", []);
  ({ root, git, github } = world);
  inventory = new StandinInventory(github, root);
  github.install("acme");
  github.install("beta");
  for (const name of ["acme/app", "acme/tool", "acme/gone"]) {
    github.addRepo(name);
    await createDemoRepo(join(root, `${name}.git`));
  }
  const keyFile = join(root, "app-key.pem");
  await writeFile(keyFile, privateKey, { mode: 0o600 });
  env = { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: "", GITHUB_APP_PRIVATE_KEY_FILE: keyFile };
  ws = await workspace(
    {},
    `github:\n  owners: [acme, beta]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`,
  );
  const first = await cli("backup", "--json");
  expect(first.code, first.stderr + first.stdout).toBe(0);
}, 120_000);

afterAll(async () => {
  await ws?.cleanup();
  await world?.close();
});

describe("repository lineage on GitHub", () => {
  it("a rename continues the history: incremental on the old chain, restore by either name", async () => {
    const [before] = await listed("acme/app");
    expect(before).toMatchObject({ kind: "full", repo: "acme/app" });
    await pushCommit(join(root, "acme", "app.git"), "after-backup", "new.txt", "after the first backup\n");
    await inventory.move("acme/app", "acme/app-renamed"); // no event: the sweep's listing finds it

    const sweep = await cli("backup", "--json");
    expect(sweep.code, sweep.stderr + sweep.stdout).toBe(0);
    const history = await listed("acme/app-renamed");
    expect(history.map((s) => [s.repo, s.kind, s.parentId])).toEqual([
      ["acme/app-renamed", "incremental", before!.id],
      ["acme/app", "full", undefined],
    ]);
    expect((await listed("acme/app")).map((s) => s.id)).toEqual(history.map((s) => s.id));
    const source = join(root, "acme", "app-renamed.git");
    expect(history[0]!.refs).toEqual(await readRefs(source));

    // list and status show one repository, under its new name, formerly the old one.
    const list = await cli("list", "--repo", "acme/app-renamed", "--json");
    expect((JSON.parse(list.stdout) as { id: string }[]).map((s) => s.id)).toEqual(history.map((s) => s.id));
    const status = JSON.parse((await cli("status", "--json")).stdout) as {
      repos: { repo: string; note?: string }[];
    };
    expect(status.repos.filter((r) => r.repo.startsWith("acme/app"))).toMatchObject([
      { repo: "acme/app-renamed", note: "formerly acme/app" },
    ]);

    // The union of the history: every object of the repository, from two archives replayed.
    const byNew = join(root, "restored-new.git");
    const restored = await cli("restore", "--repo", "acme/app-renamed", "--to", byNew);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await readRefs(byNew)).toEqual(await readRefs(source));
    expect(await objectsOf(byNew)).toBe(await objectsOf(source));

    // The old name still works, and says where it led.
    const byOld = join(root, "restored-old.git");
    const old = await cli("restore", "--repo", "acme/app", "--snapshot", before!.id, "--to", byOld);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/acme\/app is now acme\/app-renamed \(renamed on \d{4}-\d\d-\d\d\)/);
    expect(await readRefs(byOld)).toEqual(before!.refs);
  }, 120_000);

  it("the cloud's sweep registers a rename from its listing before it asks for snapshots", async () => {
    const history = await listed("acme/app-renamed");
    await inventory.move("acme/app-renamed", "acme/app-final");
    const app = await openApp(ws.configFile, { env });
    const published: { repo: string }[] = [];
    const publisher: Publisher = {
      publish: async (_topic, messages) => {
        published.push(...(messages as { repo: string }[]));
        return messages.map((_, i) => String(i));
      },
    };
    try {
      await sweep({ ...app, publisher }, { v: 1, reason: "schedule" });
      expect(published.map((m) => m.repo)).toContain("acme/app-final");
      expect(published.map((m) => m.repo)).not.toContain("acme/app-renamed");
      const [record] = await app.index.repositoriesNamed("acme/app-final");
      expect(record).toMatchObject({
        key: "acme/app",
        formerNames: [
          { name: "acme/app", how: "renamed" },
          { name: "acme/app-renamed", how: "renamed" },
        ],
      });
    } finally {
      await app.close();
    }
    for (const name of ["acme/app", "acme/app-renamed", "acme/app-final"])
      expect((await listed(name)).map((s) => s.id)).toEqual(history.map((s) => s.id));
  }, 120_000);

  it("a transfer to another owner the App is installed on keeps the lineage (event first)", async () => {
    const [before] = await listed("acme/tool");
    await pushCommit(join(root, "acme", "tool.git"), "main", "moved.txt", "before the transfer\n");
    const { event, payload } = await inventory.move("acme/tool", "beta/tool");
    const applied = await deliver(event, payload);
    expect(applied.requested).toEqual(["beta/tool"]);
    expect(applied.published).toMatchObject([{ repo: "beta/tool", reason: "event" }]);
    expect(applied.records).toMatchObject([
      { key: "acme/tool", name: "beta/tool", formerNames: [{ name: "acme/tool", how: "transferred" }] },
    ]);

    const sweep = await cli("backup", "--json");
    expect(sweep.code, sweep.stderr + sweep.stdout).toBe(0);
    const history = await listed("beta/tool");
    expect(history.map((s) => [s.repo, s.kind, s.parentId])).toEqual([
      ["beta/tool", "incremental", before!.id],
      ["acme/tool", "full", undefined],
    ]);
    const target = join(root, "restored-tool.git");
    expect((await cli("restore", "--repo", "beta/tool", "--to", target)).code).toBe(0);
    expect(await objectsOf(target)).toBe(await objectsOf(join(root, "beta", "tool.git")));
  }, 120_000);

  it("a deleted repository keeps its backups, shows as deleted, and a sweep does not fail on it", async () => {
    const kept = await listed("acme/gone");
    expect(kept).toHaveLength(1);
    const requestedBefore = new Date(Date.now() - 1000).toISOString();
    const { event, payload } = await inventory.remove("acme/gone");
    const applied = await deliver(event, payload);
    expect(applied.requested).toEqual([]);
    expect(applied.records).toMatchObject([{ name: "acme/gone", state: "deleted" }]);

    const sweep = await cli("backup", "--json");
    expect(sweep.code, sweep.stderr + sweep.stdout).toBe(0);
    const results = (JSON.parse(sweep.stdout) as { results: { repo: string }[] }).results;
    expect(results.map((r) => r.repo)).not.toContain("acme/gone");
    expect(await listed("acme/gone")).toEqual(kept);

    const status = await cli("status", "--json");
    const gone = (
      JSON.parse(status.stdout) as { repos: { repo: string; note?: string; problems: string[] }[] }
    ).repos.find((r) => r.repo === "acme/gone");
    const day = new Date().toISOString().slice(0, 10);
    expect(gone).toMatchObject({ note: `deleted on ${day}, 1 snapshot kept`, problems: [] });

    // A push delivered just before the deletion: its request is skipped, nothing attempted.
    const app = await openApp(ws.configFile, { env });
    try {
      const publisher: Publisher = { publish: async () => [] };
      const outcome = await runSnapshotRequest(
        { ...app, publisher },
        { v: 1, repo: "acme/gone", reason: "push", requestedAt: requestedBefore },
        backupPolicy(app.settings, "inline"),
        { actor: "test", deadlineMs: 60_000 },
      );
      expect(outcome).toMatchObject({ handedOver: false, gone: { name: "acme/gone", state: "deleted" } });
    } finally {
      await app.close();
    }
  }, 120_000);
});
