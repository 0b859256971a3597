// A disk that is full from the first byte of an archive: the folder store's write stream is given
// /dev/full's descriptor (every write fails with the kernel's own ENOSPC), as a full disk would.
// The snapshot must fail with that first error, naming the store's folder and "no space left",
// not with what the archive writer said after its reader had gone ("already finalized or
// destroyed"); the partial file is removed and an earlier archive is left exactly as it was.
import { createHash } from "node:crypto";
import * as realFs from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { snapshotRepo } from "../../functions/core/snapshot.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { pushCommit, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

/** Write streams opened under this folder write to /dev/full while `full.on` (set per test). */
const full = { on: false, under: "" };

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  // The file is created as the store asks (so a partial file exists); its writes go to /dev/full.
  const toDevFull: typeof fs.open = ((file: string, flags: string, mode: number, done: never) =>
    fs.open(file, flags, mode, (err: Error | null, fd: number) => {
      if (err) return (done as (e: Error | null, fd?: number) => void)(err);
      fs.close(fd, () => fs.open("/dev/full", "w", done));
    })) as never;
  const createWriteStream: typeof fs.createWriteStream = (file, options) =>
    full.on && String(file).startsWith(full.under)
      ? fs.createWriteStream(file, { ...(options as object), fs: { ...fs, open: toDevFull } } as never)
      : fs.createWriteStream(file, options);
  return { ...fs, default: { ...fs, createWriteStream }, createWriteStream };
});

const REPO = "acme/app";
const actor = "test";
const clock = manualClock("2026-11-27T00:00:00.000Z");
let ws: TestWorkspace;
let app: App;
let scratch: string;
let source: string;
let root: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-enospc-first-"));
  source = await richRepo(scratch);
  ws = await workspace({ [REPO]: source });
  app = await ws.open(clock);
  root = join(ws.dir, "data", "archives");
  full.under = root;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** Every file under `dir` (relative path → SHA-256 of its bytes). */
async function filesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out[file.slice(dir.length + 1)] = createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  }
  return out;
}

describe("a disk full from an archive's first byte", () => {
  it.each([
    ["a full snapshot", false],
    ["a layered snapshot", true],
  ])(
    "%s fails with ENOSPC naming the folder; nothing half-written stays",
    async (_, layers) => {
      // An earlier archive, written while the disk had room.
      clock.advance(60_000);
      await pushCommit(source, "main", `f-${clock.now().getTime()}.txt`, "before\n");
      await snapshotRepo(app, REPO, { url: source }, { actor, layers });
      expect(realFs.existsSync(root)).toBe(true);
      const before = await filesUnder(root);
      expect(Object.keys(before).some((f) => f.endsWith(".ibk"))).toBe(true);

      clock.advance(60_000);
      await pushCommit(source, "main", `f-${clock.now().getTime()}.txt`, "after\n");
      full.on = true;
      try {
        const failed = snapshotRepo(app, REPO, { url: source }, { actor, layers });
        await expect(failed).rejects.toThrow(/no space left/);
        const message = await failed.catch((err: Error) => err.message);
        expect(message).toContain(root);
        expect(message).not.toMatch(/finalized|destroyed/);
      } finally {
        full.on = false;
      }
      // The partial file is gone and every earlier file is as it was, byte for byte.
      expect(await readdir(join(root, ".tmp"))).toEqual([]);
      expect(await filesUnder(root)).toEqual(before);
    },
    60_000,
  );
});
