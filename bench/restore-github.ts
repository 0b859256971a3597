// `npx tsx bench/restore-github.ts`: a restore to GitHub of a repository with 1,000 issues and
// 5,000 comments (test/helpers/github-metadata-fixture.ts) on the GitHub stand-in, through the same
// use case and @octokit clients as `restore --to-github`: API calls by kind, content-creating calls
// (what GitHub's secondary limits count), wall time with pacing off, and the RTO those calls imply
// at GitHub's documented limits (80 content-creating requests a minute, 500 an hour). Twice: with
// the issue import endpoint accepted (one request per issue with its comments) and refused (issues
// and comments created one by one). Prints figures; asserts only that the restore is whole.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDemoRepo } from "../functions/cli/demo-repo.js";
import { restoreToGitHub } from "../functions/core/restore-github/restore-to-github.js";
import { openApp } from "../functions/wiring.js";
import { cli } from "../test/helpers/cli-run.js";
import { startGitHttpServer } from "../test/helpers/git-http-server.js";
import { fillMetadata } from "../test/helpers/github-metadata-fixture.js";
import { startGitHubStandin } from "../test/helpers/github-standin.js";
import { serveSettingsWrites } from "../test/helpers/github-standin-settings.js";
import { serveItemWrites } from "../test/helpers/github-standin-writes.js";
import { workspace } from "../test/helpers/local-app.js";

const { values } = parseArgs({
  options: { issues: { type: "string", default: "1000" }, comments: { type: "string", default: "5000" } },
});
const issues = Number(values.issues);
const comments = Number(values.comments);
const APP_ID = 7373;
const { publicKey, privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
});

const root = await mkdtemp(join(tmpdir(), "bench-restore-github-"));
const git = await startGitHttpServer({
  root,
  checkPassword: (password, repo) => github.canRead(password, repo),
});
const github = await startGitHubStandin({ appId: APP_ID, publicKey, gitUrl: git.url, gitRoot: root });
github.install("acme");
serveSettingsWrites(github);
github.addRepo("acme/big");
await createDemoRepo(join(root, "acme", "big.git"));
fillMetadata(github.metadata("acme/big"), { repo: "acme/big", issues, comments });
const ws = await workspace({}, `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`);
const keyFile = join(root, "app-key.pem");
await writeFile(keyFile, privateKey, { mode: 0o600 });
const env = {
  GITHUB_APP_ID: String(APP_ID),
  GITHUB_APP_PRIVATE_KEY: "",
  GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
};
Object.assign(process.env, env);

try {
  const backup = await cli("backup", "--config", ws.configFile, "--json");
  if (backup.code !== 0) throw new Error(`backup failed: ${backup.stderr}`);
  const rows: string[][] = [];
  for (const importAccepted of [true, false]) {
    const target = importAccepted ? "acme/big-imported" : "acme/big-created";
    const log = serveItemWrites(github, { importAccepted });
    const from = github.requests.length;
    const app = await openApp(ws.configFile, { env });
    const started = performance.now();
    const outcome = await restoreToGitHub(
      { ...app, github: app.githubRestore! },
      { repo: "acme/big", target, pacing: { perMinute: Infinity, perHour: Infinity } },
      { actor: "bench" },
    );
    const seconds = (performance.now() - started) / 1000;
    await app.close();
    github.routes.pop();
    const restored = github.metadata(target);
    // Reviews with a body or a verdict and review comments come back as comments too.
    const source = github.metadata("acme/big");
    const reviews = Object.values(source.reviews)
      .flat()
      .filter((r) => r.body || r.state !== "COMMENTED").length;
    const expected = comments + reviews + source.reviewComments.length;
    if (restored.issues.length !== issues || restored.comments.length !== expected)
      throw new Error(
        `${target}: ${restored.issues.length} issues, ${restored.comments.length} comments, not ${expected}`,
      );
    const calls = github.requests.slice(from).filter((r) => !r.url.startsWith("/app/"));
    const byMethod = (m: string) => calls.filter((r) => r.method === m).length;
    const writes = outcome.pacing.writes;
    // At GitHub's limits the hourly cap governs past 500 writes; one minute per 80 below it.
    const rtoHours = writes <= 500 ? writes / 80 / 60 : Math.max(writes / 500, writes / 80 / 60);
    console.log(`${target}: ${calls.length} calls, ${writes} paced writes, ${seconds.toFixed(1)} s`);
    rows.push([
      importAccepted ? "import endpoint" : "one by one",
      String(calls.length),
      `${byMethod("GET")}/${byMethod("POST")}/${byMethod("PATCH")}/${byMethod("PUT")}`,
      String(writes),
      String(log.created.length),
      seconds.toFixed(1),
      rtoHours.toFixed(1),
    ]);
  }
  const head = [
    "path",
    "API calls",
    "GET/POST/PATCH/PUT",
    "paced writes",
    "creates",
    "wall s (no pacing)",
    "RTO h at 80/min, 500/h",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(
    `restore to GitHub of ${issues} issues and pull requests, ${comments} comments (stand-in, 2 releases, 120 labels)`,
  );
  console.log(line(head));
  for (const row of rows) console.log(line(row));
} finally {
  await ws.cleanup();
  await github.close();
  await git.close();
  await rm(root, { recursive: true, force: true });
}
