// The CLI backs up a GitHub organization too (no cloud account): a `github:` section in
// backup-config.yaml, App credentials from the environment only, the same backup path and metadata
// as the cloud. Driven through the real CLI, the real @octokit/app and the GitHub stand-in.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { readRefs } from "../../functions/core/git/local-repo.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { runCli } from "../helpers/cli-run.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 515151;
const { privateKey } = appKeys();

let world: GitHubWorld;
let root: string;
let git: GitHttpServer;
let github: GitHubStandin;
let ws: TestWorkspace;

/** Runs the CLI in-process with `env` added to the process environment for the call. */
async function cli(env: Record<string, string>, ...argv: string[]) {
  return runCli(argv, env);
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-local-github-", ["acme", "other"]);
  ({ root, git, github } = world);
  for (const name of ["acme/app", "acme/tools", "other/elsewhere"]) {
    github.addRepo(name);
    await createDemoRepo(join(root, `${name}.git`));
  }
  fillMetadata(github.metadata("acme/app"), { repo: "acme/app", issues: 8, comments: 12 });
  github.orgMetadata("acme").members.push({ login: "ada", id: 1, role: "admin" });
  ws = await workspace(
    {},
    `github:\n  owners: [acme]\n  exclude: [tools]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`,
  );
});

afterAll(async () => {
  await ws?.cleanup();
  await world?.close();
});

describe("the CLI backs up a GitHub organization", () => {
  it("refuses to start without App credentials, naming the variables", async () => {
    const { code, stderr } = await cli(
      { GITHUB_APP_ID: "", GITHUB_APP_PRIVATE_KEY: "" },
      "backup",
      "--config",
      ws.configFile,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY \(or GITHUB_APP_PRIVATE_KEY_FILE\)/);
  });

  it("backs up the owners' repositories (filters applied) with their metadata, verified", async () => {
    const keyFile = join(root, "app-key.pem");
    await writeFile(keyFile, privateKey, { mode: 0o600 });
    const env = {
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: "",
      GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
    };
    const { code, stdout, stderr } = await cli(env, "backup", "--config", ws.configFile, "--json");
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as {
      results: { repo: string; verify?: { verification: { verdict: string } } }[];
    };
    // tools excluded, other/ not an owner; then the owner's own snapshot (first run: due).
    expect(report.results.map((r) => r.repo)).toEqual(["acme/app", "acme/@org"]);
    expect(report.results.map((r) => r.verify?.verification.verdict)).toEqual(["ok", "ok"]);

    const index = new SqliteSnapshotIndex({ path: join(ws.dir, "data", "index.sqlite") });
    try {
      const [snapshot] = await index.list("acme/app");
      expect(snapshot!.refs).toEqual(await readRefs(join(root, "acme", "app.git")));
      expect(snapshot!.metadata?.items["issue-comments"]).toBe(12);
      expect(snapshot!.metadataCheckpoint).toBeDefined();
    } finally {
      index.close();
    }
    // Nothing of the key reaches the output.
    expect(stdout + stderr).not.toContain(privateKey.split("\n")[1]!);
  });
});
