// Key rotation without rewriting archives (issue 11): a repository key rotated rewraps only its
// archives' data key records; the key file (or KMS key) rotated rewraps only the repository keys.
// Afterwards every archive still restores, its bytes unchanged, and the old key is not needed:
// removed from the key file, or its KMS version disabled.
import { createHash } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsKeyWrapper } from "../../functions/adapters/gcp/kms-key-wrapper.js";
import type { Deps } from "../../functions/core/deps.js";
import type { Snapshot } from "../../functions/core/model.js";
import { rewrapRepositoryKeys } from "../../functions/core/keys/rotate.js";
import { readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import { cli } from "../helpers/cli-run.js";
import { pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { KMS_TEST_KEY, KmsStandin } from "../helpers/kms-standin.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

let scratch: string;
let a: string;
let b: string;
let ws: TestWorkspace;
let config: string[];

async function snapshotsOf(repo: string): Promise<Snapshot[]> {
  const { stdout } = await cli("list", ...config, "--repo", repo, "--json");
  return JSON.parse(stdout) as Snapshot[];
}

/** SHA-256 of every archive object of the repository, by snapshot id. */
async function archiveDigests(repo: string): Promise<Record<string, string>> {
  const app = await ws.open();
  try {
    const out: Record<string, string> = {};
    for (const s of await app.index.list(repo)) {
      const bytes = Buffer.concat(await (await app.store.get(s.objectKey)).toArray());
      out[s.id] = createHash("sha256").update(bytes).digest("hex");
    }
    return out;
  } finally {
    await app.close();
  }
}

/** Restores every snapshot of the repository and returns the newest one's refs. */
async function restoreAll(repo: string, tag: string): Promise<string> {
  let latest = "";
  for (const [i, s] of (await snapshotsOf(repo)).entries()) {
    const target = join(scratch, `${tag}-${s.id}.git`);
    const run = await cli("restore", ...config, "--repo", repo, "--snapshot", s.id, "--to", target);
    expect(run.code, run.stderr).toBe(0);
    if (i === 0) latest = await refsOf(target);
  }
  return latest;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-rotation-"));
  a = await richRepo(await mkdtemp(join(scratch, "a-")));
  b = await richRepo(await mkdtemp(join(scratch, "b-")));
  ws = await workspace({ "acme/a": a, "acme/b": b });
  config = ["--config", ws.configFile, "--quiet"];
  expect((await cli("backup", ...config, "--no-verify")).code).toBe(0);
  await pushCommit(a, "main", "two.txt", "two\n");
  await pushCommit(b, "main", "two.txt", "two\n");
  expect((await cli("backup", ...config, "--no-verify")).code).toBe(0);
});

afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("keys rotate", () => {
  it("--repo: a new repository key; its data key records rewrapped, the archives' bytes untouched", async () => {
    const before = await archiveDigests("acme/a");
    const app = await ws.open();
    const oldA = (await app.keyRecords!.keySet("acme/a"))!.keys.map((k) => k.id);
    const oldB = await app.keyRecords!.keySet("acme/b");
    const recordsBefore = await app.keyRecords!.dataKeys("acme/a");
    await app.close();

    const run = await cli("keys", "rotate", ...config, "--repo", "acme/a");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("2 data key(s) rewrapped");

    const after = await ws.open();
    try {
      const set = (await after.keyRecords!.keySet("acme/a"))!;
      expect(set.keys).toHaveLength(1);
      expect(oldA).not.toContain(set.keys[0]!.id);
      const records = await after.keyRecords!.dataKeys("acme/a");
      expect(records.map((r) => r.keyId)).toEqual([set.keys[0]!.id, set.keys[0]!.id]);
      expect(records.map((r) => r.wrapped)).not.toEqual(recordsBefore.map((r) => r.wrapped));
      expect(await after.keyRecords!.keySet("acme/b")).toEqual(oldB); // another repository: untouched
    } finally {
      await after.close();
    }
    expect(await archiveDigests("acme/a")).toEqual(before);
    expect(await restoreAll("acme/a", "rot-a")).toBe(await refsOf(a));
    expect(await restoreAll("acme/b", "rot-b")).toBe(await refsOf(b));
  });

  it("the key file: a new key wraps every repository key; the old key removed, everything restores", async () => {
    const before = { a: await archiveDigests("acme/a"), b: await archiveDigests("acme/b") };
    const opened = await ws.open();
    const keyFile = join(opened.dataDir, "keys.json");
    await opened.close();
    const oldFile = JSON.parse(await readFile(keyFile, "utf8")) as {
      primary: string;
      keys: { id: string }[];
    };

    const run = await cli("keys", "rotate", ...config);
    expect(run.code, run.stderr).toBe(0);
    const rotated = JSON.parse(await readFile(keyFile, "utf8")) as {
      primary: string;
      keys: { id: string; key: string; createdAt: string }[];
    };
    expect(rotated.primary).not.toBe(oldFile.primary);
    const app = await ws.open();
    for (const repo of ["acme/a", "acme/b"]) {
      for (const key of (await app.keyRecords!.keySet(repo))!.keys)
        expect(key.keyRef).toBe(`local:${rotated.primary}`);
    }
    await app.close();

    // The old key is no longer needed: the key file keeps only the new one.
    await writeFile(
      keyFile,
      JSON.stringify({ ...rotated, keys: rotated.keys.filter((k) => k.id === rotated.primary) }),
    );
    await chmod(keyFile, 0o600);
    expect(await restoreAll("acme/a", "file-a")).toBe(await refsOf(a));
    expect(await restoreAll("acme/b", "file-b")).toBe(await refsOf(b));
    expect((await cli("verify", ...config, "--all")).code).toBe(0);
    expect({ a: await archiveDigests("acme/a"), b: await archiveDigests("acme/b") }).toEqual(before);

    const audit = JSON.parse((await cli("audit", ...config, "--action", "key", "--json")).stdout) as {
      action: string;
      repo?: string;
    }[];
    expect(audit.filter((e) => e.action === "key.rotated").map((e) => e.repo)).toEqual(["acme/a"]);
    expect(audit.filter((e) => e.action === "key.file-rotated")).toHaveLength(1);
    expect(
      audit
        .filter((e) => e.action === "key.rewrapped")
        .map((e) => e.repo)
        .sort(),
    ).toEqual(["acme/a", "acme/b"]);
  });

  it("Cloud KMS: a new primary version; rewrap moves the repository key to it; the old version disabled, archives open", async () => {
    const kms = await KmsStandin.start();
    const app = await ws.open();
    try {
      const wrapper = new KmsKeyWrapper({ client: kms.client(), keyName: KMS_TEST_KEY });
      const deps: Deps & { keyRecords: NonNullable<Deps["keyRecords"]> } = {
        store: app.store,
        index: app.index,
        keys: wrapper,
        keyRecords: app.keyRecords!,
        audit: app.audit,
        clock: app.clock,
      };
      const kmsRepo = await richRepo(await mkdtemp(join(scratch, "kms-")));
      const { snapshot } = await snapshotRepo(deps, "acme/kms", { url: kmsRepo }, { actor: "test" });
      const v1 = (await deps.keyRecords.keySet("acme/kms"))!.keys[0]!.keyRef;
      expect(v1).toMatch(/cryptoKeyVersions\/1$/);

      const v2 = kms.rotate();
      const result = await rewrapRepositoryKeys(deps, { actor: "test", only: ["acme/kms"] });
      expect(result).toMatchObject({ rewrapped: 1, from: [v1], to: [v2] });
      kms.setVersionState(v1, "DISABLED");
      const files: string[] = [];
      await readSnapshotArchive(deps, snapshot, async (path, body) => {
        files.push(path);
        body.resume();
      });
      expect(files).toContain("git/repo.bundle");
    } finally {
      await app.close();
      await kms.close();
    }
  });
});
