// tools/decrypt.py, the restore path that needs none of our code: Google's Python tink decrypts
// archives our code wrote (full and incremental, with a wiki; format 2 through the key record in the
// local index or exported as JSON, its repository key unwrapped by the key file or by KMS as
// `gcloud kms decrypt` would; format 1 archives as before), and yields exactly the bundles our
// reader does, which plain git accepts. A damaged or truncated archive fails with a clear message
// and leaves nothing.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsKeyWrapper } from "../../functions/adapters/gcp/kms-key-wrapper.js";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { decodeHeader, REPOSITORY_KEY_REF } from "../../functions/core/archive/header.js";
import { BUNDLE_PATH, WIKI_PATH } from "../../functions/core/archive/paths.js";
import {
  DecryptStream,
  SEGMENT_SIZE,
  STREAM_HEADER_SIZE,
} from "../../functions/core/archive/streaming-aead.js";
import type { IncrementalPolicy } from "../../functions/core/chain.js";
import type { Deps } from "../../functions/core/deps.js";
import { git } from "../../functions/core/git/exec.js";
import { initBare } from "../../functions/core/git/local-repo.js";
import type { Snapshot } from "../../functions/core/model.js";
import { exportKeyRecord } from "../../functions/core/keys/key-record.js";
import { archiveDataKey, readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { KMS_TEST_KEY, KmsStandin } from "../helpers/kms-standin.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";
import { pythonWithTink } from "../helpers/python-tink.js";

type App = Awaited<ReturnType<TestWorkspace["open"]>>;

const TOOL = new URL("../../tools/decrypt.py", import.meta.url).pathname;
const actor = "test";
const policy: IncrementalPolicy = { maxChain: 10, fullEveryMs: 20 * 3600 * 1000 };
const clock = manualClock("2026-11-27T00:00:00.000Z");
const tink = await pythonWithTink();
const skip = "skip" in tink ? tink.skip : undefined;
if (skip) console.warn(`[decrypt-tool.test] skipped: ${skip}`);

let scratch: string;
let source: string;
let wiki: string;
let ws: TestWorkspace;
let app: App;
let keyFile: string;
let indexFile: string;
let kms: KmsStandin;
const made: { snapshot: Snapshot; file: string }[] = [];

function decryptPy(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("python" in tink ? tink.python : "false", [TOOL, ...args], { stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Snapshots the source and copies the archive out of the store into a file, as an operator would. */
async function snap(deps: Deps = app, repo = "acme/app"): Promise<{ snapshot: Snapshot; file: string }> {
  clock.advance(60 * 60_000);
  const { snapshot } = await snapshotRepo(
    deps,
    repo,
    { url: source },
    { actor, incremental: policy, wiki: { url: wiki } },
  );
  const file = join(scratch, `${snapshot.id}.ibk`);
  await writeFile(file, Buffer.concat(await (await app.store.get(snapshot.objectKey)).toArray()));
  return { snapshot, file };
}

/** Each file our own reader yields from the snapshot's archive. */
async function ourFiles(
  deps: Pick<Deps, "store" | "keys" | "keyRecords">,
  snapshot: Snapshot,
): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  await readSnapshotArchive(deps, snapshot, async (path, body) => {
    files.set(path, Buffer.concat(await body.toArray()));
  });
  return files;
}

/** Every file under `dir`, by its path relative to it. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await filesUnder(dir, rel)));
    else found.push(rel);
  }
  return found.sort();
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-decrypt-py-"));
  source = await richRepo(scratch);
  wiki = join(scratch, "source.wiki.git");
  await initBare(wiki);
  await pushCommit(wiki, "master", "Home.md", "# Welcome\n");
  ws = await workspace({ "acme/app": { url: source, wiki } });
  app = await ws.open(clock);
  // 3 MiB that do not compress: the full archive spans several segments.
  await pushCommit(source, "main", "random.b64", randomBytes(3 << 20).toString("base64"));
  made.push(await snap());
  await pushCommit(source, "main", "a.txt", "a\n");
  await git(["tag", "-a", "-m", "release", "v9", "refs/heads/main"], {
    env: { GIT_DIR: source, GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.invalid" },
  });
  made.push(await snap());
  keyFile = join(
    ws.dir,
    (await filesUnder(ws.dir)).find((f) => f.endsWith("/keys.json"))!,
  );
  indexFile = join(keyFile, "..", "index.sqlite");
  kms = await KmsStandin.start();
});

afterAll(async () => {
  await kms?.close();
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("tools/decrypt.py (Python tink)", () => {
  it("made a full and an incremental archive, each with a wiki, their data keys in key records", () => {
    expect(made.map((m) => m.snapshot.kind)).toEqual(["full", "incremental"]);
    expect(made.every((m) => m.snapshot.wikiRefs)).toBe(true);
    expect(made.every((m) => m.snapshot.keyRef === REPOSITORY_KEY_REF)).toBe(true);
  });

  it("decrypts with the local key file and the index's key records into the bundles our reader yields, which git accepts", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const replay = join(scratch, "replay.git");
    await initBare(replay);
    for (const { snapshot, file } of made) {
      const out = join(scratch, `out-${snapshot.id}`);
      const run = await decryptPy("--key-file", keyFile, "--key-record", indexFile, "--extract", out, file);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("every segment authenticated");
      expect(await filesUnder(out)).toEqual([BUNDLE_PATH, WIKI_PATH, "manifest.json"].sort());
      const ours = await ourFiles(app, snapshot);
      for (const path of [BUNDLE_PATH, WIKI_PATH]) {
        expect((await readFile(join(out, path))).equals(ours.get(path)!), path).toBe(true);
      }
      const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Record<
        string,
        unknown
      >;
      expect(manifest).toMatchObject({ snapshotId: snapshot.id, kind: snapshot.kind, refs: snapshot.refs });
      expect(manifest.parentId).toBe(snapshot.parentId);
      if (snapshot.kind === "full") {
        // docs/FORMAT.md: a full snapshot's bundle restores with `git clone --mirror`.
        const cloned = join(scratch, `clone-${snapshot.id}.git`);
        await git(["clone", "--quiet", "--mirror", join(out, BUNDLE_PATH), cloned]);
        const refs = await git(["for-each-ref", "--format=%(refname) %(objectname)"], {
          env: { GIT_DIR: cloned },
        });
        expect(
          Object.fromEntries(
            refs
              .trim()
              .split("\n")
              .map((l) => l.split(" ")),
          ),
        ).toEqual(snapshot.refs);
      }
      // Plain git: each bundle verifies once its parents are in the repository, then fetches.
      const bundle = join(out, BUNDLE_PATH);
      await git(["bundle", "verify", "--quiet", bundle], { env: { GIT_DIR: replay } });
      await git(["fetch", "--quiet", "--prune", bundle, "+refs/*:refs/*"], { env: { GIT_DIR: replay } });
      await git(["bundle", "verify", "--quiet", join(out, WIKI_PATH)], { env: { GIT_DIR: replay } });
    }
    expect(await refsOf(replay)).toBe(await refsOf(source));
  });

  it("writes the plaintext tar exactly as the body decrypts", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const { snapshot, file } = made[0]!;
    const tar = join(scratch, "full.tar");
    const run = await decryptPy("--key-file", keyFile, "--key-record", indexFile, "--tar", tar, file);
    expect(run.code, run.stderr).toBe(0);
    const archive = await readFile(file);
    const { header, raw } = decodeHeader(archive)!;
    const dataKey = await archiveDataKey(app, snapshot, header);
    const plain = Readable.from([archive.subarray(raw.length)]).pipe(new DecryptStream(dataKey, raw));
    expect((await readFile(tar)).equals(Buffer.concat(await plain.toArray()))).toBe(true);
    expect(header.snapshotId).toBe(snapshot.id);
  });

  it("decrypts with a KMS-wrapped key, unwrapped from the files and command it prints", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const client = kms.client();
    const wrapper = new KmsKeyWrapper({ client, keyName: KMS_TEST_KEY });
    const deps: Deps = { ...pick(app), keys: wrapper };
    const { snapshot, file } = await snap(deps, "acme/kms");
    expect(snapshot.keyRef).toMatch(/^projects\/.*\/cryptoKeyVersions\/\d+$/);

    const request = await decryptPy("--kms-request", file);
    expect(request.code, request.stderr).toBe(0);
    const command = request.stdout.trim();
    const flag = (name: string) => new RegExp(`--${name}=(\\S+)`).exec(command)?.[1];
    expect(command.startsWith("gcloud kms decrypt ")).toBe(true);
    expect(flag("key")).toBe(KMS_TEST_KEY);
    // What `gcloud kms decrypt` does with those flags: Decrypt on the key, write the plaintext.
    const [response] = await client.decrypt({
      name: flag("key")!,
      ciphertext: await readFile(flag("ciphertext-file")!),
      additionalAuthenticatedData: await readFile(flag("additional-authenticated-data-file")!),
    });
    await writeFile(flag("plaintext-file")!, Buffer.from(response.plaintext as Uint8Array));

    const out = join(scratch, "out-kms");
    const run = await decryptPy("--data-key", flag("plaintext-file")!, "--extract", out, file);
    expect(run.code, run.stderr).toBe(0);
    const ours = await ourFiles({ store: app.store, keys: wrapper }, snapshot);
    expect((await readFile(join(out, BUNDLE_PATH))).equals(ours.get(BUNDLE_PATH)!)).toBe(true);
  });

  it("decrypts a format 2 archive whose repository key KMS wraps: key record exported, gcloud unwraps it", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const client = kms.client();
    const wrapper = new KmsKeyWrapper({ client, keyName: KMS_TEST_KEY });
    const deps: Deps = { ...pick(app), keys: wrapper, keyRecords: app.keyRecords! };
    const { snapshot, file } = await snap(deps, "acme/kms2");
    expect(snapshot.keyRef).toBe(REPOSITORY_KEY_REF);
    const record = join(scratch, "kms2-record.json");
    await writeFile(
      record,
      JSON.stringify(
        await exportKeyRecord({ index: app.index, keyRecords: app.keyRecords! }, "acme/kms2", snapshot.id),
      ),
    );
    expect(await readFile(record, "utf8")).toMatch(/cryptoKeyVersions\/\d+/);

    const request = await decryptPy("--kms-request", "--key-record", record, file);
    expect(request.code, request.stderr).toBe(0);
    const command = request.stdout.trim();
    const flag = (name: string) => new RegExp(`--${name}=(\\S+)`).exec(command)?.[1];
    expect(flag("key")).toBe(KMS_TEST_KEY);
    expect(flag("plaintext-file")).toBe(`${file}.repository-key`);
    const [response] = await client.decrypt({
      name: flag("key")!,
      ciphertext: await readFile(flag("ciphertext-file")!),
      additionalAuthenticatedData: await readFile(flag("additional-authenticated-data-file")!),
    });
    await writeFile(flag("plaintext-file")!, Buffer.from(response.plaintext as Uint8Array));

    const out = join(scratch, "out-kms2");
    const run = await decryptPy(
      "--repository-key",
      flag("plaintext-file")!,
      "--key-record",
      record,
      "--extract",
      out,
      file,
    );
    expect(run.code, run.stderr).toBe(0);
    const ours = await ourFiles(deps, snapshot);
    expect((await readFile(join(out, BUNDLE_PATH))).equals(ours.get(BUNDLE_PATH)!)).toBe(true);
    // Without the key record, the tool says what it needs.
    const bare = await decryptPy("--key-file", keyFile, file);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("give --key-record");
  });

  it("still decrypts a format 1 archive (data key in the header) with the key file alone", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const { snapshot, file } = await snap(pick(app), "acme/legacy");
    expect(snapshot.keyRef).toMatch(/^local:[0-9a-f]{16}$/);
    expect(decodeHeader(await readFile(file))!.raw.readUInt16BE(8)).toBe(1);
    const out = join(scratch, "out-legacy");
    const run = await decryptPy("--key-file", keyFile, "--extract", out, file);
    expect(run.code, run.stderr).toBe(0);
    const ours = await ourFiles(app, snapshot);
    expect((await readFile(join(out, BUNDLE_PATH))).equals(ours.get(BUNDLE_PATH)!)).toBe(true);
  });

  it("refuses a damaged or truncated archive, saying so, and leaves no output", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const { file } = made[0]!;
    const archive = await readFile(file);
    const body = decodeHeader(archive)!.raw.length + STREAM_HEADER_SIZE;
    const segments = Math.ceil((archive.length - body + STREAM_HEADER_SIZE) / SEGMENT_SIZE);
    expect(segments).toBeGreaterThanOrEqual(3); // the 3 MiB of random data
    const flipped = (at: number) => {
      const copy = Buffer.from(archive);
      copy[at]! ^= 0x01;
      return copy;
    };
    // Another year in createdAt: still a valid header, but not the one the body was sealed with.
    const year = archive.indexOf('"createdAt":"2') + 13;
    const cases: [string, Buffer, number][] = [
      ["segment 1 damaged", flipped(body + SEGMENT_SIZE + 1000), 1],
      ["last segment damaged", flipped(archive.length - 100), segments - 1],
      ["truncated inside the last segment", archive.subarray(0, archive.length - 16), segments - 1],
      ["truncated after a segment", archive.subarray(0, body - STREAM_HEADER_SIZE + 2 * SEGMENT_SIZE), 2],
      [
        "header changed",
        Buffer.concat([archive.subarray(0, year), Buffer.from("3"), archive.subarray(year + 1)]),
        0,
      ],
    ];
    for (const [name, bytes, segment] of cases) {
      const bad = join(scratch, `${name}.ibk`);
      await writeFile(bad, bytes);
      const out = join(scratch, `out-${name}`);
      const tar = join(scratch, `${name}.tar`);
      const run = await decryptPy(
        "--key-file",
        keyFile,
        "--key-record",
        indexFile,
        "--extract",
        out,
        "--tar",
        tar,
        bad,
      );
      expect(run.code, name).toBe(1);
      expect(run.stderr, name).toMatch(
        new RegExp(`^decrypt\\.py: .*\\.ibk: segment ${segment} failed authentication`),
      );
      expect(run.stderr).not.toContain("Traceback");
      expect(await exists(out), name).toBe(false);
      expect(await exists(tar), name).toBe(false);
    }
  });

  it("says which key is missing from the key file", async (ctx) => {
    ctx.skip(skip !== undefined, skip);
    const other = join(scratch, "other-keys", "keys.json");
    await KeyFileWrapper.open(other, { create: true });
    const run = await decryptPy("--key-file", other, "--key-record", indexFile, made[0]!.file);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/has no key local:[0-9a-f]{16}/);
  });
});

function pick(deps: Deps): Deps {
  return { store: deps.store, index: deps.index, keys: deps.keys, audit: deps.audit, clock: deps.clock };
}
