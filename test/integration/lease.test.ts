// A snapshot's lease cannot outlive its holder: it is short and renewed while the work runs, a
// holder that lost it never commits, and a killed local run frees its repository at once.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { git } from "../../functions/core/git/exec.js";
import { holdLease, leaseHolder, LeaseLostError } from "../../functions/core/lease.js";
import { ManualClock } from "../contract/snapshot-index.js";
import { workspace, type TestWorkspace } from "../helpers/local-app.js";
import { groupAlive, signalGroup, sleep } from "../setup/process.js";

const BIN = new URL("../../bin/infinity-backup.mjs", import.meta.url).pathname;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "infinity-lease-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("holdLease", () => {
  it("renews while held, refuses a second holder, and frees on release", async () => {
    const index = new SqliteSnapshotIndex({ path: ":memory:" });
    const held = await holdLease(index, "acme/app", "run-1", { ttlMs: 1500 });
    await new Promise((r) => setTimeout(r, 2200)); // past one ttl: only renewal keeps it
    expect(await index.acquireLease("acme/app", "run-2", 1500)).toBeUndefined();
    await held.confirm();
    await held.release();
    expect(await index.acquireLease("acme/app", "run-2", 1500)).toBeDefined();
    index.close();
  });

  it("a holder whose lease was taken over stops and cannot confirm (so never commits)", async () => {
    const clock = new ManualClock("2026-11-27T10:00:00.000Z");
    const index = new SqliteSnapshotIndex({ path: ":memory:", clock });
    const held = await holdLease(index, "acme/app", "stalled", { ttlMs: 60_000 });
    clock.advance(61_000); // it stalled past its ttl; another run takes the repository
    expect(await index.acquireLease("acme/app", "fresh", 60_000)).toBeDefined();
    await expect(held.confirm()).rejects.toBeInstanceOf(LeaseLostError);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LeaseLostError);
    await held.release(); // gives back nothing that is not its own
    expect(await index.acquireLease("acme/app", "third", 60_000)).toBeUndefined();
    index.close();
  });

  it("a local lease whose holder process is gone is taken at once", async () => {
    const index = new SqliteSnapshotIndex({ path: ":memory:" });
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = await new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid!)));
    const dead = leaseHolder("20261127T000000000Z-dead").replace(/:\d+$/, `:${pid}`);
    expect(await index.acquireLease("acme/app", dead, 3_600_000)).toBeDefined();
    expect(await index.acquireLease("acme/app", leaseHolder("next"), 60_000)).toBeDefined();
    // A live holder (this process) is respected.
    expect(await index.acquireLease("acme/app", "someone-else", 60_000)).toBeUndefined();
    index.close();
  });
});

describe("a backup killed while it holds the lease", () => {
  let ws: TestWorkspace;
  let source: string;

  beforeAll(async () => {
    source = join(scratch, "big.git");
    const work = join(scratch, "work");
    await git(["init", "--quiet", "-b", "main", work]);
    // Incompressible data, so the snapshot runs long enough to be killed mid-way.
    await writeFile(join(work, "blob.bin"), randomBytes(48 * 1024 * 1024));
    await git(["-C", work, "add", "."]);
    await git(["-C", work, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--quiet", "-m", "big"]);
    await git(["clone", "--quiet", "--bare", work, source]);
    ws = await workspace({ "acme/big": source });
  }, 120_000);
  afterAll(async () => ws?.cleanup());

  // kill -9 (or an out-of-memory kill) ends the node process alone; Ctrl-C signals the whole
  // process group, git children included. Either way the next run proceeds at once.
  it.each([
    ["kill -9", "SIGKILL", false],
    ["Ctrl-C (SIGINT to the process group)", "SIGINT", true],
  ] as const)(
    "%s frees the repository at once: the next run backs it up",
    async (_how, signal, group) => {
      const env = { ...process.env, INFINITY_BACKUP_CONFIG: ws.configFile };
      const child = spawn(process.execPath, [BIN, "backup", "--quiet", "--no-verify"], {
        env,
        stdio: "ignore",
        detached: group,
      });
      const leases = join(ws.dir, "data", "index.sqlite");
      // Kill it the moment it holds the lease (read the index as a second process would).
      for (let tries = 0; ; tries++) {
        expect(tries, "the backup never took its lease").toBeLessThan(3000);
        await new Promise((r) => setTimeout(r, 10));
        try {
          const db = new Database(leases, { readonly: true, fileMustExist: true });
          const held = db.prepare("SELECT holder FROM leases").get() as { holder: string } | undefined;
          db.close();
          if (held) break;
        } catch {
          /* not created yet */
        }
      }
      const exited = new Promise((r) => child.on("exit", r));
      if (group) signalGroup(child.pid!, signal);
      else child.kill(signal);
      await exited;
      if (group) {
        // Nothing of the run is left: no git child still writing, holding the source or a pipe.
        for (let waited = 0; groupAlive(child.pid!) && waited < 5000; waited += 50) await sleep(50);
        expect(groupAlive(child.pid!)).toBe(false);
      }

      const opened = await ws.open();
      const before = (await opened.index.list("acme/big")).length;
      await opened.close();
      const rerun = spawn(process.execPath, [BIN, "backup", "--json", "--no-verify"], { env });
      let out = "";
      rerun.stdout.on("data", (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => rerun.on("exit", r));
      expect(code, out).toBe(0);
      // The first rerun stores the repository; a later one finds the same refs already stored.
      expect(JSON.parse(out).results[0].snapshot.outcome).toBe(before ? "unchanged" : "created");
      const app = await ws.open();
      expect(await app.index.list("acme/big")).toHaveLength(1);
      await app.close();
    },
    120_000,
  );
});
