// Right to erasure by crypto-shredding (issue 11): `forget` destroys one repository's keys after
// the name is typed back. Every archive of it is unreadable at once (a clear "shredded" error, also
// with the key file at hand), list, status and the audit trail say so, a new backup of it is
// refused; the other repository restores exactly as before.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPOSITORY_KEY_REF } from "../../functions/core/archive/header.js";
import { ShreddedError } from "../../functions/core/errors.js";
import { openArchiveKey } from "../../functions/core/keys/repository-keys.js";
import type { Snapshot } from "../../functions/core/model.js";
import { readSnapshotArchive } from "../../functions/core/read-snapshot.js";
import { cli } from "../helpers/cli-run.js";
import { pushCommit, refsOf, richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";

let scratch: string;
let gone: string;
let kept: string;
let ws: TestWorkspace;
let config: string[];
let goneSnapshots: Snapshot[];
let goneBytes: Map<string, string>;

async function snapshotsOf(repo: string): Promise<Snapshot[]> {
  const { stdout, code } = await cli("list", ...config, "--repo", repo, "--json");
  expect(code).toBe(0);
  return JSON.parse(stdout) as Snapshot[];
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-erasure-"));
  gone = await richRepo(await mkdtemp(join(scratch, "gone-")));
  kept = await richRepo(await mkdtemp(join(scratch, "kept-")));
  ws = await workspace({ "acme/gone": gone, "acme/kept": kept });
  config = ["--config", ws.configFile, "--quiet"];
  expect((await cli("backup", ...config, "--no-verify")).code).toBe(0);
  await pushCommit(gone, "main", "second.txt", "a second commit\n");
  await pushCommit(kept, "main", "second.txt", "a second commit\n");
  expect((await cli("backup", ...config, "--no-verify")).code).toBe(0);
  goneSnapshots = await snapshotsOf("acme/gone");
  expect(goneSnapshots.map((s) => s.kind).sort()).toEqual(["full", "incremental"]);
  expect(goneSnapshots.every((s) => s.keyRef === REPOSITORY_KEY_REF)).toBe(true);
  const app = await ws.open();
  try {
    goneBytes = new Map();
    for (const s of goneSnapshots) {
      const bytes = Buffer.concat(await (await app.store.get(s.objectKey)).toArray());
      goneBytes.set(s.id, createHash("sha256").update(bytes).digest("hex"));
    }
  } finally {
    await app.close();
  }
});

afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("forget (crypto-shredding)", () => {
  it("refuses without the repository name typed back, or without a reason, and changes nothing", async () => {
    const wrong = await cli(
      "forget",
      ...config,
      "--repo",
      "acme/gone",
      "--reason",
      "GDPR 42",
      "--confirm",
      "acme/kept",
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('"acme/kept" is not "acme/gone"');
    // No terminal to type on (the test's stdin): it asks for --confirm instead of guessing.
    const none = await cli("forget", ...config, "--repo", "acme/gone", "--reason", "GDPR 42");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--confirm acme/gone");
    const noReason = await cli("forget", ...config, "--repo", "acme/gone", "--confirm", "acme/gone");
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("--reason");
    const target = join(scratch, "before.git");
    expect((await cli("restore", ...config, "--repo", "acme/gone", "--to", target)).code).toBe(0);
    expect(await refsOf(target)).toBe(await refsOf(gone));
  });

  it("destroys the repository's keys: every archive of it fails as shredded; the other restores exactly", async () => {
    const run = await cli(
      "forget",
      ...config,
      "--repo",
      "acme/gone",
      "--reason",
      "GDPR erasure request 42",
      "--confirm",
      "acme/gone",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("2 snapshot(s) can never be decrypted again");

    for (const snapshot of goneSnapshots) {
      const restore = await cli(
        "restore",
        ...config,
        "--repo",
        "acme/gone",
        "--snapshot",
        snapshot.id,
        "--to",
        join(scratch, `after-${snapshot.id}.git`),
      );
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(
        /is shredded: acme\/gone was forgotten at .* \(GDPR erasure request 42\)/,
      );
    }
    const verify = await cli("verify", ...config, "--repo", "acme/gone", "--all");
    expect(verify.code).toBe(1);

    const app = await ws.open();
    try {
      // The archives are untouched bytes, and the key file is still there: nothing opens them.
      for (const snapshot of goneSnapshots) {
        const bytes = Buffer.concat(await (await app.store.get(snapshot.objectKey)).toArray());
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(goneBytes.get(snapshot.id));
        await expect(openArchiveKey(app, snapshot)).rejects.toThrow(ShreddedError);
        await expect(readSnapshotArchive(app, snapshot, async (_p, b) => void b.resume())).rejects.toThrow(
          ShreddedError,
        );
      }
      const set = await app.keyRecords!.keySet("acme/gone");
      expect(set!.keys).toEqual([]);
      expect(set!.shredded).toMatchObject({
        reason: "GDPR erasure request 42",
        by: expect.stringMatching(/^cli:/),
      });
      expect(set!.shredded!.keyIds).toHaveLength(1);
      expect((await app.keyRecords!.keySet("acme/kept"))!.keys).toHaveLength(1);
    } finally {
      await app.close();
    }

    for (const snapshot of await snapshotsOf("acme/kept")) {
      const target = join(scratch, `kept-${snapshot.id}.git`);
      const restore = await cli(
        "restore",
        ...config,
        "--repo",
        "acme/kept",
        "--snapshot",
        snapshot.id,
        "--to",
        target,
      );
      expect(restore.code, restore.stderr).toBe(0);
    }
    const latest = join(scratch, "kept-latest.git");
    expect((await cli("restore", ...config, "--repo", "acme/kept", "--to", latest)).code).toBe(0);
    expect(await refsOf(latest)).toBe(await refsOf(kept));
    expect((await cli("verify", ...config, "--repo", "acme/kept", "--all")).code).toBe(0);
  });

  it("list and status show the snapshots shredded; the audit trail says who and why", async () => {
    const listed = await snapshotsOf("acme/gone");
    expect(listed.map((s) => s.id).sort()).toEqual(goneSnapshots.map((s) => s.id).sort());
    for (const s of listed as (Snapshot & { shredded?: { reason: string } })[])
      expect(s.shredded?.reason).toBe("GDPR erasure request 42");
    const table = await cli("list", ...config, "--repo", "acme/gone");
    expect(table.stdout.match(/SHREDDED/g)).toHaveLength(2);
    expect((await cli("list", ...config, "--repo", "acme/kept")).stdout).not.toContain("SHREDDED");

    const status = await cli("status", ...config);
    expect(status.stdout).toMatch(
      /x acme\/gone: forgotten at .* \(GDPR erasure request 42\): its snapshots are shredded/,
    );

    const audit = await cli("audit", ...config, "--action", "key", "--json");
    const entries = JSON.parse(audit.stdout) as {
      action: string;
      repo?: string;
      actor: string;
      details?: Record<string, unknown>;
    }[];
    const forget = entries.filter((e) => e.action === "key.forget");
    expect(forget).toHaveLength(1);
    expect(forget[0]).toMatchObject({
      repo: "acme/gone",
      actor: expect.stringMatching(/^cli:/),
      details: { reason: "GDPR erasure request 42", snapshots: 2, legacySnapshots: 0 },
    });
    expect(
      entries
        .filter((e) => e.action === "key.repository-created")
        .map((e) => e.repo)
        .sort(),
    ).toEqual(["acme/gone", "acme/kept"]);
    expect((await cli("audit", ...config, "verify")).code).toBe(0);
  });

  it("prune does not force the shredded snapshots out before retention lets them go", async () => {
    const run = await cli("prune", ...config);
    expect(run.code, run.stderr).toBe(0);
    expect((await snapshotsOf("acme/gone")).map((s) => s.id).sort()).toEqual(
      goneSnapshots.map((s) => s.id).sort(),
    );
    const app = await ws.open();
    try {
      for (const snapshot of goneSnapshots) expect(await app.store.stat(snapshot.objectKey)).toBeDefined();
      expect(await app.keyRecords!.dataKeys("acme/gone")).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  it("refuses a new backup of the forgotten repository; the other backs up", async () => {
    await pushCommit(gone, "main", "third.txt", "after the erasure\n");
    await pushCommit(kept, "main", "third.txt", "after the erasure\n");
    const run = await cli("backup", ...config, "--no-verify");
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain("a new snapshot of acme/gone is shredded");
    expect(await snapshotsOf("acme/gone")).toHaveLength(2);
    expect(await snapshotsOf("acme/kept")).toHaveLength(3);
    // Forgetting again changes nothing and says so.
    const again = await cli(
      "forget",
      ...config,
      "--repo",
      "acme/gone",
      "--reason",
      "again",
      "--confirm",
      "acme/gone",
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("was already forgotten");
  });
});
