// `infinity-backup status --json` over a local workspace: the named checks all ok after a backup,
// the storage check failed (with why) once the data folder's store cannot take a write, and the
// storage probe leaves nothing in the store.
import { rm, writeFile } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { richRepo } from "../helpers/git-repos.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { cli } from "../helpers/cli-run.js";

interface Check {
  name: string;
  status: string;
  reason: string;
}

let ws: TestWorkspace;
let scratch: string;
let config: string[];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-checks-"));
  ws = await workspace({ "acme/app": await richRepo(scratch) });
  config = ["--config", ws.configFile];
  expect((await cli("backup", ...config)).code).toBe(0);
});

afterAll(async () => {
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function storedKeys(): Promise<string[]> {
  const app = await ws.open();
  try {
    const keys: string[] = [];
    for await (const o of app.store.list("")) keys.push(o.key);
    return keys;
  } finally {
    await app.close();
  }
}

describe("status: named health checks", () => {
  it("all ok after a backup, in --json and above the table; the probe leaves nothing behind", async () => {
    const before = await storedKeys();
    const status = await cli("status", ...config, "--json");
    const checks = JSON.parse(status.stdout).checks as Check[];
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ["storage", "ok"],
      ["key", "ok"],
      ["index", "ok"],
      ["capacity", "ok"],
      ["stale", "ok"],
      ["verification", "ok"],
    ]);
    expect(status.code).toBe(0);
    expect(await storedKeys()).toEqual(before);
    expect(before.every((k) => k.startsWith("repos/acme/app/"))).toBe(true);
    const text = await cli("status", ...config);
    expect(text.stdout).toMatch(
      /^checks\n {2}ok {4}storage {6}a probe object was written, read back and deleted\n/,
    );
  });

  it("a store that cannot take a write: storage failed with the reason, status exits 1", async () => {
    // A file where the probe's folder would go: the store's writes under health/ fail.
    const blocker = join(ws.dir, "data", "archives", "health");
    await rm(blocker, { recursive: true, force: true });
    await writeFile(blocker, "not a folder");
    try {
      const status = await cli("status", ...config, "--json");
      const checks = JSON.parse(status.stdout).checks as Check[];
      const storage = checks.find((c) => c.name === "storage")!;
      expect(storage.status).toBe("failed");
      expect(storage.reason).toMatch(
        /^could not write a probe object: blob health\/probe-[0-9a-f]{16} cannot be stored here/,
      );
      expect(checks.filter((c) => c.status !== "ok").map((c) => c.name)).toEqual(["storage"]);
      expect(status.code).toBe(1);
    } finally {
      await rm(blocker);
    }
  });
});
