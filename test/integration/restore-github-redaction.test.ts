// The redaction list on the restore-to-GitHub path (issue 11): a person put on the list after the
// backup appears in nothing a restore writes to GitHub. Their issue, comment, review and release
// come back with "[redacted]" in the provenance header and their text hidden, mentions of them are
// "@[redacted]", their assignment is "[redacted]"; every request body the GitHub stand-in received
// and everything the restored repository holds are searched for the login, in any case.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "../../functions/core/git/exec.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import { restoreToGitHub } from "../../functions/core/restore-github/restore-to-github.js";
import { openApp } from "../../functions/wiring.js";
import { cli } from "../helpers/cli-run.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { pushCommit } from "../helpers/git-repos.js";
import { at } from "../helpers/github-metadata-fixture.js";
import { type ExtraRoute, type GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { serveSettingsWrites } from "../helpers/github-standin-settings.js";
import { serveItemWrites } from "../helpers/github-standin-writes.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { appKeys } from "../helpers/app-keys.js";

const APP_ID = 717171;
const { privateKey } = appKeys();
/** The person on the list; "Mallory" in places, since logins match without regard to case. */
const LOGIN = "mallory";

let world: GitHubWorld;
let root: string;
let gitServer: GitHttpServer;
let github: GitHubStandin;
let ws: TestWorkspace;
let env: Record<string, string>;

const user = (login: string) => ({ login, id: login.length, type: "User" });

async function withEnv<T>(run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function sourceMetadata(repo: string, head: string) {
  const meta = github.metadata(repo);
  const api = `https://api.github.com/repos/${repo}`;
  meta.settings.has_issues = true;
  const issue = (
    n: number,
    by: string,
    title: string,
    body: string,
    extra: Record<string, unknown> = {},
  ) => ({
    url: `${api}/issues/${n}`,
    id: 100 + n,
    number: n,
    title,
    body,
    user: user(by),
    labels: [],
    state: "open",
    state_reason: null,
    locked: false,
    active_lock_reason: null,
    assignees: [],
    milestone: null,
    comments: 0,
    author_association: "MEMBER",
    created_at: at(100 + n),
    updated_at: at(200 + n),
    closed_at: null,
    ...extra,
  });
  meta.issues.push(
    issue(1, LOGIN, "Mallory's own issue", "A private matter of mallory's"),
    issue(2, "alice", "Please look", "cc @Mallory, and @mallory-bot stays", {
      assignees: [user(LOGIN), user("bob")],
    }),
    issue(3, "bob", "Plain", "Nothing personal"),
  );
  const comment = (id: number, n: number, by: string, body: string) => ({
    id,
    issue_url: `${api}/issues/${n}`,
    user: user(by),
    body,
    author_association: "MEMBER",
    created_at: at(300 + id - 7000),
    updated_at: at(300 + id - 7000),
  });
  meta.comments.push(
    comment(7001, 2, LOGIN, "My home address is in here"),
    comment(7002, 3, "carol", "Thanks @MALLORY!"),
    comment(7003, 3, "bob", "Fine"),
  );
  meta.releases.push({
    id: 11,
    tag_name: "v1.0",
    target_commitish: "main",
    name: "One",
    body: "Released by mallory",
    draft: false,
    prerelease: false,
    author: user(LOGIN),
    created_at: at(490),
    published_at: at(491),
    assets: [],
  });
  return head;
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-restore-redaction-", ["acme"]);
  ({ root, git: gitServer, github } = world);
  serveSettingsWrites(github);
  github.addRepo("acme/people");
  const bare = join(root, "acme", "people.git");
  await initBare(bare);
  const head = await pushCommit(bare, "main", "a.txt", "one\n");
  await git(["update-ref", "refs/tags/v1.0", head], { env: { GIT_DIR: bare } });
  sourceMetadata("acme/people", head);
  ws = await workspace(
    {},
    `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${gitServer.url}\n`,
  );
  const keyFile = join(root, "app-key.pem");
  await writeFile(keyFile, privateKey, { mode: 0o600 });
  env = { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY: "", GITHUB_APP_PRIVATE_KEY_FILE: keyFile };
  const backup = await withEnv(() => cli("backup", "--config", ws.configFile, "--json"));
  expect(backup.code, backup.stderr + backup.stdout).toBe(0);
}, 120_000);

afterAll(async () => {
  await ws?.cleanup();
  await world?.close();
});

describe("restore to GitHub with a person on the redaction list", () => {
  it("writes no trace of the login: headers, bodies, comments, assignments and releases are redacted", async () => {
    const added = await withEnv(() =>
      cli("redact", "add", "--config", ws.configFile, "--login", "Mallory", "--reason", "GDPR erasure 7"),
    );
    expect(added.code, added.stderr).toBe(0);
    // Every write request's body, as the stand-in received it.
    const bodies: string[] = [];
    const recorder: ExtraRoute = ({ method, rest, body }) => {
      if (method !== "GET") bodies.push(`${method} ${rest} ${JSON.stringify(body)}`);
      return undefined;
    };
    github.routes.push(recorder);
    serveItemWrites(github);
    try {
      const app = await openApp(ws.configFile, { env });
      try {
        const outcome = await restoreToGitHub(
          { ...app, github: app.githubRestore! },
          {
            repo: "acme/people",
            target: "acme/people-restored",
            pacing: { perMinute: Infinity, perHour: Infinity, msPerSecond: 20 },
          },
          { actor: "test" },
        );
        expect(outcome.numbersKept).toBe(true);
      } finally {
        await app.close();
      }
    } finally {
      github.routes.splice(0);
    }

    const restored = github.metadata("acme/people-restored");
    // The restore happened, item for item: the same numbers, comments and release.
    expect(restored.issues.map((i) => i.number).sort()).toEqual([1, 2, 3]);
    expect(restored.comments).toHaveLength(3);
    expect(restored.releases.map((r) => r.tag_name)).toEqual(["v1.0"]);
    expect(bodies.some((b) => b.startsWith("POST /import/issues"))).toBe(true);
    expect(bodies.some((b) => b.startsWith("POST /releases"))).toBe(true);

    const issue = (n: number) => String(restored.issues.find((i) => i.number === n)!.body);
    expect(issue(1)).toMatch(
      /^<!-- infinity-backup restored issue acme\/people#1 -->\n> Originally by @\[redacted\] on /,
    );
    expect(issue(1)).toMatch(/\n\n\[redacted\]$/); // the person's own text hidden
    expect(String(restored.issues.find((i) => i.number === 1)!.title)).toBe("[redacted]");
    expect(issue(2)).toContain("cc @[redacted], and @mallory-bot stays");
    expect(issue(2)).toMatch(/Assigned to @\[redacted\], @bob/);
    expect(issue(3)).toContain("Nothing personal");
    const comments = restored.comments.map((c) => String(c.body));
    expect(comments.some((c) => /Originally by @\[redacted\][^\n]*\n\n\[redacted\]$/.test(c))).toBe(true);
    expect(comments.some((c) => c.endsWith("Thanks @[redacted]!"))).toBe(true);
    expect(String(restored.releases[0]!.body)).toMatch(/Originally by @\[redacted\]/);

    // "mallory-bot" is another person and stays; nothing else may name the listed one.
    const trace = /mallory(?!-bot)/i;
    for (const body of bodies) expect(body).not.toMatch(trace);
    expect(JSON.stringify(restored.issues)).not.toMatch(trace);
    expect(JSON.stringify(restored.comments)).not.toMatch(trace);
    expect(JSON.stringify(restored.releases)).not.toMatch(trace);
  });
});
