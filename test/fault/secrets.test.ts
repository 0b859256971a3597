// A secret-leak scan: recognisable fake secrets (a GitHub App private key, the installation tokens
// GitHub hands out, a webhook secret, a personal token and a password in URLs) go into every input
// position (environment, config, remote URLs, webhook headers); then every command runs (backup,
// verify, restore to a folder and to a bundle, prune, status, list, refused pushes) and so does the
// webhook. Every byte a person or a disk could see is searched: stdout, stderr, the audit log, the
// index's SQLite bytes, every file under the data folder, and each archive decrypted.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path, { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "../../functions/cli/demo-repo.js";
import { readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { openApp } from "../../functions/wiring.js";
import type { GitHttpServer } from "../helpers/git-http-server.js";
import { fillMetadata } from "../helpers/github-metadata-fixture.js";
import type { GitHubStandin } from "../helpers/github-standin.js";
import { startGitHubWorld, type GitHubWorld } from "../helpers/github-world.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { freePort, stopGroup } from "../setup/process.js";
import { appKeys } from "../helpers/app-keys.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/infinity-backup.mjs");
const FRAMEWORK = join(ROOT, "node_modules/@google-cloud/functions-framework/build/src/main.js");
const APP_ID = 424242;
const { privateKey } = appKeys();
const mark = randomBytes(6).toString("hex");
/** The secrets, by what they are. Each is searched whole and by a distinctive slice. */
const SECRETS = {
  personalToken: `ghp_LEAKCANARY${mark}0123456789abcdefghij`,
  password: `pw-LEAKCANARY-${mark}`,
  queryToken: `qt-LEAKCANARY-${mark}`,
  webhookSecret: `whsec-LEAKCANARY-${mark}`,
  // The key's body: any 48 characters of it would be a leak.
  appKey: privateKey.split("\n").slice(5, 6).join(""),
};

let world: GitHubWorld;
let root: string;
let git: GitHttpServer;
let github: GitHubStandin;
let ws: TestWorkspace;
let env: NodeJS.ProcessEnv;
/** Everything printed, by which run printed it. */
const printed: { what: string; text: string }[] = [];

function needles(): [string, string][] {
  const list: [string, string][] = Object.entries(SECRETS).map(([k, v]) => [k, v]);
  // Installation tokens the stand-in issued to the product during the runs (ghs_...).
  const issued = (github as unknown as { tokens: Map<string, unknown> }).tokens;
  for (const token of issued.keys()) list.push(["installation token", token]);
  list.push(["private key header", "BEGIN RSA PRIVATE KEY"]);
  return list;
}

function findLeaks(where: string, text: string | Buffer): string[] {
  const hay = Buffer.isBuffer(text) ? text.toString("latin1") : text;
  const leaks: string[] = [];
  for (const [what, secret] of needles()) {
    const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64").slice(0, 24)];
    if (forms.some((f) => f.length >= 12 && hay.includes(f))) leaks.push(`${what} in ${where}`);
  }
  return leaks;
}

function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extra } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      printed.push(
        { what: `stdout of ${args[0]}`, text: stdout },
        { what: `stderr of ${args[0]}`, text: stderr },
      );
      resolve({ code, out: stdout + stderr });
    });
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true });
  const files: string[] = [];
  for (const n of names) if ((await stat(join(dir, n))).isFile()) files.push(join(dir, n));
  return files;
}

beforeAll(async () => {
  world = await startGitHubWorld(APP_ID, "infinity-secrets-", ["acme"]);
  ({ root, git, github } = world);
  github.addRepo("acme/app");
  await createDemoRepo(join(root, "acme/app.git"));
  fillMetadata(github.metadata("acme/app"), { repo: "acme/app", issues: 8, comments: 12 });
  ws = await workspace({}, `github:\n  owners: [acme]\n  apiUrl: ${github.url}\n  gitUrl: ${git.url}\n`);
  // Prune may remove all but the newest snapshot, so it has something to do.
  await writeFile(join(ws.dir, "config", "retention-policy.yaml"), "last: 1\n");
  env = {
    ...process.env,
    TMPDIR: root,
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY: privateKey,
    // Present in the environment as a careless user would leave them; never for the product to print.
    GITHUB_TOKEN: SECRETS.personalToken,
    GITHUB_WEBHOOK_SECRET: SECRETS.webhookSecret,
    INFINITY_BACKUP_CONFIG: ws.configFile,
  };
}, 120_000);

afterAll(async () => {
  await ws?.cleanup();
  await world?.close();
});

describe("no secret leaves", () => {
  it("through any command's output, the audit log, the index, any file of the data folder, or an archive's clear text", async () => {
    // The scan itself finds a planted secret in each form it looks for.
    expect(findLeaks("self-check", `x ${SECRETS.password} y`)).toEqual(["password in self-check"]);
    expect(findLeaks("self-check", encodeURIComponent(SECRETS.appKey))).toEqual(["appKey in self-check"]);
    const pushUrl = (repo: string) =>
      `${git.url.replace("://", `://x-access-token:${SECRETS.personalToken}@`)}/acme/${repo}.git`;
    expect((await cli(["backup", "--quiet"])).code).toBe(0);
    expect((await cli(["backup", "--quiet"])).code).toBe(0); // unchanged: a confirmation
    await createDemoRepo(join(root, "acme/app-next.git")); // unrelated: keeps the stand-in busy
    expect((await cli(["verify", "--level", "deep"])).code).toBe(0);
    expect((await cli(["restore", "--repo", "acme/app", "--to", join(root, "restored.git")])).code).toBe(0);
    expect(
      (await cli(["restore", "--repo", "acme/app", "--bundle", join(root, "restored.bundle")])).code,
    ).toBe(0);
    // Credentials in a push URL, every form: refused before anything is sent, the form named.
    for (const url of [
      pushUrl("pushed"),
      `${git.url}/acme/pushed.git?access_token=${SECRETS.queryToken}`,
      `${git.url.replace("://", `://backup:${SECRETS.password}@`)}/acme/pushed.git`,
    ]) {
      const pushed = await cli(["restore", "--repo", "acme/app", "--push", url]);
      expect(pushed.code, pushed.out).not.toBe(0);
      expect(pushed.out).toMatch(/credential|password|token/i);
    }
    expect((await cli(["prune"])).code).toBe(0);
    expect((await cli(["status"])).code).toBe(0);
    expect((await cli(["list", "--json"])).code).toBe(0);
    expect((await cli(["audit", "--json"])).code).toBe(0);

    // A config whose source URL holds a password, and one with a token in its query: refused by name.
    for (const [i, url] of [
      `https://backup:${SECRETS.password}@git.example/acme/x.git`,
      `https://git.example/acme/x.git?access_token=${SECRETS.queryToken}`,
      `backup:${SECRETS.password}@git.example:acme/x.git`,
    ].entries()) {
      const bad = join(ws.dir, "config", `bad-${i}.yaml`);
      await writeFile(
        bad,
        `version: 1\nbackend: local\nlocal:\n  dataDir: ../data-bad\nsources:\n  - name: acme/x\n    url: "${url}"\n`,
      );
      const refused = await cli(["backup", "--config", bad, "--quiet"]);
      expect(refused.code, refused.out).toBe(2);
    }

    const issued = (github as unknown as { tokens: Map<string, unknown> }).tokens;
    expect(issued.size, "the backup used installation tokens").toBeGreaterThan(0);

    const leaks: string[] = [];
    for (const p of printed) leaks.push(...findLeaks(p.what, p.text));
    const data = join(ws.dir, "data");
    const files = await filesUnder(data);
    expect(files.map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(["audit.jsonl", "index.sqlite"]),
    );
    for (const f of files) leaks.push(...findLeaks(path.relative(ws.dir, f), await readFile(f)));
    // Each archive's clear text, decrypted entry by entry.
    const app = await openApp(ws.configFile, { env });
    let decrypted = 0;
    for (const repo of await app.index.repos()) {
      for (const s of await app.index.list(repo)) {
        await readSnapshotArchive(app, s, async (name, body) => {
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c as Buffer);
          const text = Buffer.concat(chunks);
          decrypted += text.length;
          leaks.push(...findLeaks(`${s.objectKey}:${name}`, text));
        });
      }
    }
    await app.close();
    expect(decrypted).toBeGreaterThan(0);
    // The temp folder the runs used: nothing of theirs holds a secret either.
    for (const f of await filesUnder(root).catch(() => [] as string[]))
      if (!f.includes(`${path.sep}acme${path.sep}`) && !f.includes("tsx-"))
        leaks.push(...findLeaks(path.relative(root, f), await readFile(f)));
    expect(leaks).toEqual([]);
  }, 240_000);

  it("through the webhook: unsigned, wrongly signed and signed deliveries with credentials in headers", async () => {
    const dir = await mkdtemp(join(root, "webhook-"));
    const port = await freePort();
    const child: ChildProcess = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        FRAMEWORK,
        "--target=githubWebhook",
        `--source=${join(ROOT, "test/helpers/webhook-function.ts")}`,
        `--port=${port}`,
      ],
      {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...env, WEBHOOK_TEST_SECRET: SECRETS.webhookSecret, WEBHOOK_TEST_DIR: dir, NODE_ENV: "test" },
      },
    );
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; !out.includes("Serving function"); i++) {
        expect(i, `framework did not start:\n${out}`).toBeLessThan(600);
        await new Promise((r) => setTimeout(r, 100));
      }
      const body = JSON.stringify({
        ref: "refs/heads/main",
        repository: {
          full_name: "acme/app",
          clone_url: `https://x:${SECRETS.password}@github.com/acme/app.git`,
        },
        installation: { id: 1 },
      });
      const sign = (b: string, secret: string) =>
        `sha256=${createHmac("sha256", secret).update(b).digest("hex")}`;
      const post = (headers: Record<string, string>, b = body) =>
        fetch(`http://127.0.0.1:${port}/`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-github-delivery": randomBytes(8).toString("hex"),
            authorization: `token ${SECRETS.personalToken}`,
            "x-forwarded-for": `https://u:${SECRETS.password}@proxy.example`,
            ...headers,
          },
          body: b,
        });
      const statuses = [
        (await post({})).status,
        (await post({ "x-hub-signature-256": sign(body, "not-the-secret") })).status,
        (await post({ "x-hub-signature-256": sign(body, SECRETS.webhookSecret) })).status,
        (await post({ "x-hub-signature-256": sign("{bad json", SECRETS.webhookSecret) }, "{bad json")).status,
      ];
      expect(statuses).toEqual([401, 401, 202, 400]);
      const answers = await Promise.all([
        post({}).then((r) => r.text()),
        post({ "x-hub-signature-256": sign("{bad json", SECRETS.webhookSecret) }, "{bad json").then((r) =>
          r.text(),
        ),
      ]);
      await new Promise((r) => setTimeout(r, 300)); // the last log lines
      const leaks = [
        ...findLeaks("webhook function output", out),
        ...answers.flatMap((a) => findLeaks("webhook answer", a)),
      ];
      for (const f of await filesUnder(dir))
        leaks.push(...findLeaks(`webhook ${path.basename(f)}`, await readFile(f)));
      expect(leaks).toEqual([]);
    } finally {
      await stopGroup(child.pid!);
    }
  }, 120_000);
});
