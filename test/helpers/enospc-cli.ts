// The CLI (functions/cli/main.ts) run as its own process with a disk that fills: the folder blob
// store's put fails with ENOSPC once ENOSPC_AFTER bytes of an archive went through, and with
// ENOSPC_INDEX=1 the index's releaseLease fails too ("database or disk is full"), as SQLite does on
// the same full disk. Every git process the CLI starts has its PID appended to ENOSPC_PIDS.
import childProcess, { type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { Transform, type Readable } from "node:stream";

const { ENOSPC_AFTER, ENOSPC_PIDS, ENOSPC_INDEX } = process.env;
if (!ENOSPC_AFTER || !ENOSPC_PIDS) throw new Error("ENOSPC_AFTER and ENOSPC_PIDS must be set");

const spawn = childProcess.spawn;
// Recorded at the source, so a git started anywhere in the CLI is known to the test by PID.
childProcess.spawn = function (this: unknown, ...args: Parameters<typeof spawn>): ChildProcess {
  const child = spawn.apply(this, args);
  if (args[0] === "git" && child.pid) appendFileSync(ENOSPC_PIDS, `${child.pid}\n`);
  return child;
} as typeof spawn;
syncBuiltinESMExports(); // `import { spawn }` in functions/core/git/exec.ts now sees the recorder

const { FsBlobStore } = await import("../../functions/adapters/local/fs-blob-store.js");
const put = FsBlobStore.prototype.put;
FsBlobStore.prototype.put = function (this: InstanceType<typeof FsBlobStore>, key, body, options) {
  let passed = 0;
  const disk = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      passed += chunk.length;
      if (passed <= Number(ENOSPC_AFTER)) return done(null, chunk);
      done(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
    },
  });
  // Like a file write failing: the store gives up; the archive stream it was reading is left as is.
  (body as Readable).pipe(disk);
  return put.call(this, key, disk, options);
};

if (ENOSPC_INDEX === "1") {
  const { SqliteSnapshotIndex } = await import("../../functions/adapters/local/sqlite-index.js");
  SqliteSnapshotIndex.prototype.releaseLease = () =>
    Promise.reject(Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }));
}

const { main } = await import("../../functions/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
