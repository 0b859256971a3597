// Preloaded into a CLI run under test (`node --import <this> bin/infinity-backup.mjs ...`): counts
// the bytes the process writes and reads through node's fs and the file operations it makes
// (link, rename, unlink, rm, mkdir, mkdtemp), and kills the process with SIGKILL, as the kernel's
// OOM killer or a power cut would, once a count passes a threshold. Nothing is changed otherwise.
//   INFINITY_TEST_KILL_AT=write:N | read:N | op:N   die when that count reaches N
//   INFINITY_TEST_COUNT_FILE=path                   write the final counts there at exit (a dry run)
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const [kind, limitText] = (process.env.INFINITY_TEST_KILL_AT ?? "").split(":");
const limit = Number(limitText);
const counts = { write: 0, read: 0, op: 0 };

function count(what, n) {
  counts[what] += n;
  if (what === kind && counts[what] >= limit) process.kill(process.pid, "SIGKILL");
}

const size = (data, encoding) =>
  typeof data === "string" ? Buffer.byteLength(data, encoding) : (data?.byteLength ?? 0);

function wrap(target, name, before) {
  const original = target[name];
  if (typeof original !== "function") return;
  target[name] = function (...args) {
    before(args);
    return original.apply(this, args);
  };
}

// Callback and sync API (what write and read streams use).
wrap(fs, "write", ([, data, a]) => count("write", size(data, typeof a === "string" ? a : undefined)));
wrap(fs, "writeSync", ([, data, a]) => count("write", size(data, typeof a === "string" ? a : undefined)));
wrap(fs, "writev", ([, buffers]) =>
  count(
    "write",
    buffers.reduce((s, b) => s + b.byteLength, 0),
  ),
);
for (const name of ["link", "rename", "unlink", "rm", "mkdir", "mkdtemp"])
  wrap(fs, name, () => count("op", 1));
// Promise API: the module's functions, and FileHandle's methods (an opened handle's prototype).
const p = fs.promises;
wrap(p, "writeFile", ([, data]) => count("write", size(data)));
wrap(p, "appendFile", ([, data]) => count("write", size(data)));
for (const name of ["link", "rename", "unlink", "rm", "mkdir", "mkdtemp"])
  wrap(p, name, () => count("op", 1));
const handle = await p.open(process.execPath, "r");
const FileHandle = Object.getPrototypeOf(handle);
await handle.close();
wrap(FileHandle, "write", ([data]) => count("write", size(data)));
wrap(FileHandle, "writeFile", ([data]) => count("write", size(data)));
wrap(FileHandle, "writev", ([buffers]) =>
  count(
    "write",
    buffers.reduce((s, b) => s + b.byteLength, 0),
  ),
);
// Reads are counted as they complete (the bytes actually read).
const read = FileHandle.read;
FileHandle.read = async function (...args) {
  const result = await read.apply(this, args);
  count("read", result.bytesRead);
  return result;
};
const readCb = fs.read;
fs.read = function (...args) {
  const callback = args.at(-1);
  return readCb.apply(this, [
    ...args.slice(0, -1),
    (err, bytesRead, buffer) => {
      if (!err) count("read", bytesRead);
      callback(err, bytesRead, buffer);
    },
  ]);
};
syncBuiltinESMExports();

if (process.env.INFINITY_TEST_COUNT_FILE) {
  const out = process.env.INFINITY_TEST_COUNT_FILE;
  const writeSync = fs.writeFileSync;
  process.on("exit", () => writeSync(out, JSON.stringify(counts)));
}
