// `restore --all --at T`: a whole organization as it was at T, through the real CLI, the real
// @octokit/app clients and the GitHub stand-in. The dry run lists each repository's snapshot at or
// before T (and creates nothing); the real run restores each into the target org with the refs it
// had at T, not the newer ones, and flags the repository that did not exist yet at T.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { readRefs } from "../../functions/core/git/local-repo.js";
import type { OrgRestoreReport } from "../../functions/core/restore-org.js";
import { cli } from "../helpers/cli-run.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { serveSettingsWrites } from "../helpers/github-standin-settings.js";
import { serveItemWrites } from "../helpers/github-standin-writes.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { commitFiles } from "../helpers/lfs-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 737373;
const { privateKey } = appKeys();

let world: GitHubWorld;
let root: string;
let git: GitHttpServer;
let github: GitHubStandin;
let ws: TestWorkspace;
let T: string;
const saved: Record<string, string | undefined> = {};
/** Refs of each repository as they were at T. */
const atT = new Map<string, Record<string, string>>();

async function json<R>(...argv: string[]): Promise<{ code: number; report: R; stderr: string }> {
  const { code, stdout, stderr } = await cli(...argv, "--config", ws.configFile, "--json", "--quiet");
  let report: R;
  try {
    report = JSON.parse(stdout) as R;
  } catch {
    throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`);
  }
  return { code, report, stderr };
}

beforeAll(async () => {
  for (const name of ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_FILE"])
    saved[name] = process.env[name];
  process.env.GITHUB_APP_ID = String(APP_ID);
  process.env.GITHUB_APP_PRIVATE_KEY = privateKey;
  delete process.env.GITHUB_APP_PRIVATE_KEY_FILE;
  world = await startGitHubWorld(APP_ID, "infinity-restore-org-", []);
  ({ root, git, github } = world);
  serveSettingsWrites(github);
  serveItemWrites(github);
  github.install("acme");
  github.install("restored");
  // The backup also snapshots each organization (<org>/@org); restore --all leaves those out.
  github.orgMetadata("acme");
  github.orgMetadata("restored");
  for (const name of ["acme/app", "acme/tools"]) {
    github.addRepo(name);
    await createDemoRepo(join(root, `${name}.git`));
    Object.assign(github.metadata(name).settings, {
      description: `the ${name} repository`,
      topics: ["org-restore"],
      visibility: "private",
      has_issues: true,
    });
  }
  ws = await workspace(
    {},
    `github:\n  owners: [acme, restored]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`,
  );
  const first = await cli("backup", "--config", ws.configFile, "--quiet", "--no-verify");
  expect(first.code, first.stderr).toBe(0);
  for (const name of ["acme/app", "acme/tools"]) atT.set(name, await readRefs(join(root, `${name}.git`)));
  await sleep(1100);
  T = new Date().toISOString();
  await sleep(1100);
  // After T: app moves on, and a new repository appears.
  await commitFiles(join(root, "acme", "app.git"), "main", { "CHANGES.md": "after T\n" }, "After T");
  github.addRepo("acme/late");
  await createDemoRepo(join(root, "acme", "late.git"));
  const second = await cli("backup", "--config", ws.configFile, "--quiet", "--no-verify");
  expect(second.code, second.stderr).toBe(0);
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await ws?.cleanup();
  await world?.close();
});

describe("restore --all --at T", () => {
  it("a dry run lists each repository's snapshot at or before T and flags the one with none; nothing is created", async () => {
    const from = github.requests.length;
    const { code, report } = await json<OrgRestoreReport>(
      "restore",
      "--all",
      "--at",
      T,
      "--to-org",
      "restored",
      "--dry-run",
    );
    expect(code).toBe(0);
    expect(report.dryRun).toBe(true);
    expect(report.counts).toEqual({ planned: 2, "no-snapshot": 1 });
    const byRepo = new Map(report.items.map((i) => [i.repo, i]));
    expect(byRepo.get("acme/late")).toMatchObject({ state: "no-snapshot", oldest: expect.any(String) });
    for (const name of ["acme/app", "acme/tools"]) {
      const item = byRepo.get(name)!;
      expect(item).toMatchObject({ state: "planned", target: name.replace("acme/", "restored/") });
      if (item.state !== "planned") throw new Error("planned");
      expect(item.takenAt < T).toBe(true);
      expect(item.behindSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(
      github.requests.slice(from).filter((r) => r.method !== "GET" && !r.url.includes("access_tokens")),
    ).toEqual([]);
  });

  it("refuses --to-org without --all, and --all without --at, before reading anything", async () => {
    const single = await cli(
      "restore",
      "--repo",
      "acme/app",
      "--to-org",
      "restored",
      "--config",
      ws.configFile,
    );
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/--to-org and --prefix go with restore --all/);
    const noTime = await cli("restore", "--all", "--to-org", "restored", "--config", ws.configFile);
    expect(noTime.code).toBe(2);
    expect(noTime.stderr).toMatch(/restore --all needs --at TIME/);
  });

  it("restores every repository with the refs it had at T into the target org, and reports each", async () => {
    const { code, report, stderr } = await json<OrgRestoreReport>(
      "restore",
      "--all",
      "--at",
      T,
      "--to-org",
      "restored",
    );
    expect(code, stderr + JSON.stringify(report.items)).toBe(0);
    expect(report.counts).toEqual({ restored: 2, "no-snapshot": 1 });
    for (const name of ["acme/app", "acme/tools"]) {
      const target = name.replace("acme/", "restored/");
      expect(await readRefs(join(root, `${target}.git`))).toEqual(atT.get(name));
      expect(github.metadata(target).settings).toMatchObject({
        description: `the ${name} repository`,
        topics: ["org-restore"],
      });
    }
    // app moved on after T: the restore has the old main, not the new one.
    expect((await readRefs(join(root, "acme", "app.git")))["refs/heads/main"]).not.toBe(
      atT.get("acme/app")!["refs/heads/main"],
    );
    // Run again (a crash, a timeout): each restore continues from its journal and creates nothing.
    const from = github.requests.length;
    const again = await json<OrgRestoreReport>("restore", "--all", "--at", T, "--to-org", "restored");
    expect(again.code).toBe(0);
    expect(
      again.report.items.filter((i) => i.state === "restored").map((i) => "note" in i && i.note),
    ).toEqual([expect.stringContaining("(continued)"), expect.stringContaining("(continued)")]);
    expect(
      github.requests.slice(from).filter((r) => /^\/orgs\/[^/]+\/repos/.test(r.url) && r.method === "POST"),
    ).toEqual([]);
  });
});
