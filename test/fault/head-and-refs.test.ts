// HEAD and hostile ref names (issue 10, item 6). An unborn HEAD (an empty repository's, or one
// left at a deleted branch) is kept exactly, from a local and a smart-HTTP source, and restored
// to a folder; a bundle says what it cannot carry; a push sets the default branch where the
// remote can. A 6,000-character ref backs up, verifies deep and restores exactly; a ref name git
// refuses is refused before anything is stored, and every error names such a ref shortened.
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupAll } from "../../functions/core/backup.js";
import { UserInputError } from "../../functions/core/errors.js";
import { restoreRepo } from "../../functions/core/restore.js";
import { verifySnapshot } from "../../functions/core/verify.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server.js";
import { headOf, objectsOf, refsOf } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
const LONG = `refs/heads/${"a".repeat(5989)}`; // 6,000 characters: one path part far past NAME_MAX

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", args, {
    input: "",
    env: {
      ...process.env,
      GIT_DIR: dir,
      GIT_AUTHOR_NAME: "A",
      GIT_AUTHOR_EMAIL: "a@example.com",
      GIT_COMMITTER_NAME: "A",
      GIT_COMMITTER_EMAIL: "a@example.com",
    },
    encoding: "utf8",
  }).trim();

/** A bare repository with one commit on `branch` and HEAD at `head` (which may not exist). */
function repoWith(dir: string, branch: string | undefined, head: string): string | undefined {
  git(dir, "init", "--bare", "--quiet");
  let commit: string | undefined;
  if (branch) {
    commit = git(dir, "commit-tree", git(dir, "mktree"), "-m", "first");
    git(dir, "update-ref", branch, commit);
  }
  git(dir, "symbolic-ref", "HEAD", head);
  return commit;
}

const HOSTILE_TIP = "1".repeat(40);
const BAD = `refs/heads/${"b".repeat(3000)}..evil`;
const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, "0") + line;

/** A hostile smart-HTTP server: protocol v2, whose ls-refs lists a name no git would create. */
async function startHostileServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    res.setHeader("Content-Type", "application/x-git-upload-pack-advertisement");
    if (req.method === "GET")
      return void res.end(pkt("version 2\n") + pkt("ls-refs=unborn\n") + pkt("fetch=shallow\n") + "0000");
    req.resume();
    // "/acme/clash.git" lists a ref and a ref below it; "/acme/hostile.git" a name git refuses.
    const second = req.url?.includes("/clash.git") ? "refs/heads/main/b" : BAD;
    req.on("end", () =>
      res.end(pkt(`${HOSTILE_TIP} refs/heads/main\n`) + pkt(`${HOSTILE_TIP} ${second}\n`) + "0000"),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/acme/hostile.git` };
}

let scratch: string;
let hostile: Server;
let http: GitHttpServer;
let ws: TestWorkspace;
let app: App;
const sources: Record<string, string> = {};

async function backup(repo: string) {
  const [result] = await backupAll(
    app,
    { incremental: false, verify: { level: "deep", where: "inline" } },
    { actor, only: [repo] },
  );
  return result!;
}

/** Every file under `dir`, as relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ib-head-"));
  const root = join(scratch, "served");
  await mkdir(join(root, "acme"), { recursive: true });
  // HEAD left at a deleted branch: it names refs/heads/master, only dev exists.
  for (const where of [join(scratch, "dangling.git"), join(root, "acme", "dangling.git")])
    repoWith(where, "refs/heads/dev", "refs/heads/master");
  for (const where of [join(scratch, "empty.git"), join(root, "acme", "empty.git")])
    repoWith(where, undefined, "refs/heads/trunk");
  // The long ref can only exist packed (no file system takes a 5,989-byte file name).
  const long = join(scratch, "long.git");
  const tip = repoWith(long, "refs/heads/main", "refs/heads/main")!;
  git(long, "pack-refs", "--all");
  await writeFile(
    join(long, "packed-refs"),
    `# pack-refs with: sorted \n${tip} ${LONG}\n${tip} refs/heads/main\n`,
  );
  repoWith(join(scratch, "single.git"), "refs/heads/main", "refs/heads/main");
  const dev = join(scratch, "dev-head.git");
  const devTip = repoWith(dev, "refs/heads/dev", "refs/heads/dev")!;
  git(dev, "update-ref", "refs/heads/main", devTip); // main at the same commit: HEAD is still dev
  http = await startGitHttpServer({ root });
  const started = await startHostileServer();
  hostile = started.server;
  Object.assign(sources, {
    "local/dev-head": dev,
    "local/single": join(scratch, "single.git"),
    "evil/hostile": started.url,
    "evil/clash": started.url.replace("/hostile.git", "/clash.git"),
    "local/dangling": join(scratch, "dangling.git"),
    "local/empty": join(scratch, "empty.git"),
    "local/long": long,
    "http/dangling": http.remoteUrl("acme/dangling"),
    "http/empty": http.remoteUrl("acme/empty"),
  });
  ws = await workspace(sources);
  app = await ws.open(manualClock());
}, 60_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await http?.close();
  await new Promise((resolve) => hostile?.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

describe.each(["local", "http"])("an unborn HEAD from a %s source", (kind) => {
  it("is kept when HEAD is left at a deleted branch: folder exact, bundle says how to set it", async () => {
    const source = sources[`${kind}/dangling`]!;
    const sourceDir = kind === "local" ? source : join(http.root, "acme", "dangling.git");
    const result = await backup(`${kind}/dangling`);
    expect(result.error).toBeUndefined();
    expect(result.verify?.verification.verdict).toBe("ok");
    const snapshot = result.snapshot!.snapshot;
    expect(snapshot.head).toBe("refs/heads/master");
    expect(Object.keys(snapshot.refs)).toEqual(["refs/heads/dev"]);

    const folder = join(scratch, `${kind}-dangling-restored.git`);
    const restored = await restoreRepo(
      app,
      { repo: `${kind}/dangling`, target: { kind: "path", path: folder } },
      { actor },
    );
    expect(await headOf(folder)).toBe("refs/heads/master");
    expect(await refsOf(folder)).toBe(await refsOf(sourceDir));
    expect(restored.head).toEqual({ ref: "refs/heads/master", kept: true });

    const bundle = join(scratch, `${kind}-dangling.bundle`);
    const asBundle = await restoreRepo(
      app,
      { repo: `${kind}/dangling`, target: { kind: "bundle-file", path: bundle } },
      { actor },
    );
    expect(asBundle.head?.kept).toBe(false);
    expect(asBundle.head?.note).toContain("git symbolic-ref HEAD refs/heads/master");
    const clone = join(scratch, `${kind}-dangling-clone.git`);
    execFileSync("git", ["clone", "--quiet", "--mirror", bundle, clone]);
    git(clone, "symbolic-ref", "HEAD", "refs/heads/master"); // what the note says to run
    expect(await refsOf(clone)).toBe(await refsOf(sourceDir));
    expect(await headOf(clone)).toBe("refs/heads/master");

    // The same state again is unchanged: HEAD is part of what is compared.
    expect((await backup(`${kind}/dangling`)).snapshot?.outcome).toBe("unchanged");
  });

  it("is kept for an empty repository; a bundle of it is refused before anything is written", async () => {
    const result = await backup(`${kind}/empty`);
    expect(result.error).toBeUndefined();
    expect(result.verify?.verification.verdict).toBe("ok");
    expect(result.snapshot!.snapshot.head).toBe("refs/heads/trunk");
    expect(result.snapshot!.snapshot.refs).toEqual({});

    const folder = join(scratch, `${kind}-empty-restored.git`);
    await restoreRepo(app, { repo: `${kind}/empty`, target: { kind: "path", path: folder } }, { actor });
    expect(await headOf(folder)).toBe("refs/heads/trunk");
    expect(await refsOf(folder)).toBe("");

    const target = join(scratch, `${kind}-bundles`);
    await mkdir(target);
    const refused = restoreRepo(
      app,
      { repo: `${kind}/empty`, target: { kind: "bundle-file", path: join(target, "empty.bundle") } },
      { actor },
    );
    await expect(refused).rejects.toBeInstanceOf(UserInputError);
    await expect(refused).rejects.toThrow(/has no refs \(an empty repository, HEAD -> refs\/heads\/trunk\)/);
    expect(await filesUnder(target)).toEqual([]);
  });
});

describe("HEAD on a push", () => {
  it("sets the default branch where the remote can, and says why not where it cannot", async () => {
    const dev = sources["local/dev-head"]!;
    expect((await backup("local/dev-head")).snapshot!.snapshot.head).toBe("refs/heads/dev");

    const asked: string[] = [];
    const remoteDir = join(scratch, "pushed.git");
    git(remoteDir, "init", "--bare", "--quiet");
    const pushed = await restoreRepo(
      app,
      {
        repo: "local/dev-head",
        target: {
          kind: "push",
          remote: {
            url: remoteDir,
            // A GitHub remote's: here it sets the bare repository's HEAD, as GitHub's default branch does.
            setDefaultBranch: async (branch) => {
              asked.push(branch);
              git(remoteDir, "symbolic-ref", "HEAD", `refs/heads/${branch}`);
            },
          },
        },
      },
      { actor },
    );
    expect(asked).toEqual(["dev"]);
    expect(pushed.head).toEqual({ ref: "refs/heads/dev", kept: true });
    expect(await headOf(remoteDir)).toBe("refs/heads/dev");
    expect(await refsOf(remoteDir)).toBe(await refsOf(dev));

    const plain = join(scratch, "pushed-plain.git");
    git(plain, "init", "--bare", "--quiet");
    const plainPush = await restoreRepo(
      app,
      { repo: "local/dev-head", target: { kind: "push", remote: { url: plain } } },
      { actor },
    );
    expect(plainPush.head).toMatchObject({ ref: "refs/heads/dev", kept: false });
    expect(plainPush.head?.note).toContain("make refs/heads/dev its default branch");

    const unborn = join(scratch, "pushed-unborn.git");
    git(unborn, "init", "--bare", "--quiet");
    const never: string[] = [];
    const unbornPush = await restoreRepo(
      app,
      {
        repo: "local/dangling",
        target: { kind: "push", remote: { url: unborn, setDefaultBranch: async (b) => void never.push(b) } },
      },
      { actor },
    );
    expect(never).toEqual([]);
    expect(unbornPush.head).toMatchObject({ ref: "refs/heads/master", kept: false });
    expect(unbornPush.head?.note).toContain("had no commit (unborn)");
  });
});

describe("HEAD in a bundle", () => {
  it("is kept when HEAD's commit is its branch's alone, and said when another branch is there too", async () => {
    // local/dev-head: HEAD -> dev, and main at the same commit, so a clone could take main.
    expect((await backup("local/dev-head")).error).toBeUndefined();
    const shared = await restoreRepo(
      app,
      { repo: "local/dev-head", target: { kind: "bundle-file", path: join(scratch, "dev-head.bundle") } },
      { actor },
    );
    expect(shared.head).toMatchObject({ ref: "refs/heads/dev", kept: false });
    expect(shared.head?.note).toContain("refs/heads/main also point");
    expect(shared.head?.note).toContain("git symbolic-ref HEAD refs/heads/dev");

    // local/single: HEAD -> main, the only branch: the bundle's HEAD line is enough.
    expect((await backup("local/single")).error).toBeUndefined();
    const bundle = join(scratch, "single.bundle");
    const alone = await restoreRepo(
      app,
      { repo: "local/single", target: { kind: "bundle-file", path: bundle } },
      { actor },
    );
    expect(alone.head).toEqual({ ref: "refs/heads/main", kept: true });
    const clone = join(scratch, "single-clone.git");
    execFileSync("git", ["clone", "--quiet", "--mirror", bundle, clone]);
    expect(await headOf(clone)).toBe("refs/heads/main");
  });
});

describe("a 6,000-character ref", () => {
  it("backs up, verifies deep, and restores exactly to a folder and as a bundle", async () => {
    const result = await backup("local/long");
    expect(result.error).toBeUndefined();
    expect(result.verify?.verification.verdict).toBe("ok");
    const snapshot = result.snapshot!.snapshot;
    expect(Object.keys(snapshot.refs).sort()).toEqual([LONG, "refs/heads/main"].sort());
    expect(
      (await verifySnapshot(app, "local/long", snapshot.id, { level: "quick", actor })).verification.verdict,
    ).toBe("ok");

    const folder = join(scratch, "long-restored.git");
    await restoreRepo(app, { repo: "local/long", target: { kind: "path", path: folder } }, { actor });
    expect(await refsOf(folder)).toBe(await refsOf(sources["local/long"]!));
    expect(await objectsOf(folder)).toBe(await objectsOf(sources["local/long"]!));
    expect(await headOf(folder)).toBe("refs/heads/main");

    const bundle = join(scratch, "long.bundle");
    await restoreRepo(app, { repo: "local/long", target: { kind: "bundle-file", path: bundle } }, { actor });
    const clone = join(scratch, "long-clone.git");
    execFileSync("git", ["clone", "--quiet", "--mirror", bundle, clone]);
    expect(await refsOf(clone)).toBe(await refsOf(sources["local/long"]!));
  });

  it("a push the remote refuses names the ref shortened, not 6,000 characters of it", async () => {
    const remote = join(scratch, "long-remote.git");
    git(remote, "init", "--bare", "--quiet");
    const refused = await restoreRepo(
      app,
      { repo: "local/long", target: { kind: "push", remote: { url: remote } } },
      { actor },
    ).catch((err: Error) => err);
    expect(refused).toBeInstanceOf(Error);
    const message = (refused as Error).message;
    // git's own words about the ref, shortened to 80 characters and a length.
    expect(message).toMatch(/a{80}…\(\d+ chars\)/);
    expect(message).not.toContain("a".repeat(200));
    expect(message.length).toBeLessThan(1000);
  });
});

describe("a ref name git refuses", () => {
  it("is refused before anything is stored, named shortened", async () => {
    const before = await filesUnder(join(ws.dir, "data"));
    const result = await backup("evil/hostile");
    expect(result.error).toContain("a ref git cannot create, so no restore could");
    expect(result.error).toContain(`refs/heads/${"b".repeat(69)}…(${BAD.length} chars)`);
    expect(result.error).toContain("(it contains ..)");
    expect(result.error!.length).toBeLessThan(600);
    expect(await app.index.list("evil/hostile")).toEqual([]);
    const stored = (await filesUnder(join(ws.dir, "data"))).filter((f) => !before.includes(f));
    expect(stored.filter((f) => f.includes("archives"))).toEqual([]);
    expect(await stat(join(ws.dir, "data")).then((s) => s.isDirectory())).toBe(true);
  });

  it("a ref and a ref below it (refs/heads/main and refs/heads/main/b) are refused before anything is stored", async () => {
    const result = await backup("evil/clash");
    expect(result.error).toContain('lists "refs/heads/main" and "refs/heads/main/b"');
    expect(result.error).toContain("git cannot hold a ref and a ref below it");
    expect(await app.index.list("evil/clash")).toEqual([]);
  });
});
