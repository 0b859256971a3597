// The node side of a snapshot and a restore, in process and without git: a pack file read in 64
// KiB pieces (as from upload-pack's socket) -> BundleCheck -> writeArchive -> a file, and back:
// file -> SHA-256 -> readArchive -> BundleCheck -> nowhere. Prints this process's CPU seconds, V8's
// collections and peak RSS per run, to compare per-byte changes on a busy machine (bench/README.md).
//   npx tsx bench/pipeline.ts [both|snapshot|restore] PACK [RUNS]
// PACK: a packfile, e.g. `git bundle create` output with its header stripped. HEAP=0 leaves out
// the process's heap policy; V8FLAGS="--flag=value" sets V8 flags after it.
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { writeArchive } from "../functions/core/archive/writer.js";
import { readArchive } from "../functions/core/archive/reader.js";
import { HashStream } from "../functions/core/archive/hash-stream.js";
import { BundleCheck, bundleHeader } from "../functions/core/git/bundle.js";
import { BUNDLE_PATH } from "../functions/core/archive/paths.js";
import { REPOSITORY_KEY_REF } from "../functions/core/archive/header.js";
import { applyHeapPolicy } from "../functions/heap-policy.js";
if (process.env.HEAP !== "0") applyHeapPolicy();
if (process.env.V8FLAGS) (await import("node:v8")).default.setFlagsFromString(process.env.V8FLAGS);
const [mode = "both", pack, runsArg = "3"] = process.argv.slice(2);
if (!pack) {
  console.error("usage: npx tsx bench/pipeline.ts [both|snapshot|restore] PACK [RUNS]");
  process.exit(2);
}
const packPath: string = pack;
const runs = Number(runsArg);
let gcs = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail: { kind: number } }).detail.kind;
    if (kind === 1) gcs.minor++;
    else gcs.major++;
    gcs.ms += e.duration;
  }
}).observe({ entryTypes: ["gc"] });
const key = randomBytes(32);
const archivePath = join(tmpdir(), `infinity-pipeline-${process.pid}.ibk`);
const takenAt = new Date().toISOString();

async function snapshot(): Promise<void> {
  const pack = createReadStream(packPath, { highWaterMark: 64 * 1024 });
  const check = new BundleCheck(BUNDLE_PATH, true);
  const body = Readable.from(
    (async function* () {
      yield bundleHeader({ "refs/heads/main": "0".repeat(40) }, "refs/heads/main");
      for await (const c of pack) yield c as Buffer;
    })(),
  ).pipe(check);
  const archive = writeArchive({
    header: {
      aead: "AES256_GCM_HKDF_1MB",
      keyRef: REPOSITORY_KEY_REF,
      snapshotId: "s1",
      repo: "a/b",
      createdAt: takenAt,
    },
    dataKey: key,
    manifest: {
      format: 1,
      snapshotId: "s1",
      repo: "a/b",
      takenAt,
      kind: "full",
      refs: { "refs/heads/main": "0".repeat(40) },
      head: "refs/heads/main",
      prerequisites: [],
    },
    files: [{ path: BUNDLE_PATH, open: () => body }],
  });
  await Promise.all([archive.manifest, pipeline(archive.stream, createWriteStream(archivePath))]);
  await archive.sha256;
}

async function restore(): Promise<void> {
  const source = createReadStream(archivePath, { highWaterMark: 1 << 20 });
  const hashed = new HashStream();
  source.on("error", (e) => hashed.destroy(e));
  await readArchive(source.pipe(hashed), {
    dataKey: async () => key,
    onFile: async (path, body) => {
      if (path !== BUNDLE_PATH) return void body.resume();
      const check = new BundleCheck(BUNDLE_PATH, false, false);
      await pipeline(body, check, new Writable({ write: (_c, _e, cb) => cb() }));
    },
  });
  hashed.digest();
}

async function timed(name: string, fn: () => Promise<void>): Promise<void> {
  gcs = { minor: 0, major: 0, ms: 0 };
  const c = process.cpuUsage();
  const t = performance.now();
  let peak = 0,
    peakAb = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakAb = Math.max(peakAb, m.arrayBuffers);
  }, 20);
  await fn();
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 50));
  const u = process.cpuUsage(c);
  console.log(
    `${name.padEnd(9)} cpu ${((u.user + u.system) / 1e6).toFixed(2)} s (user ${(u.user / 1e6).toFixed(2)}) wall ${((performance.now() - t) / 1000).toFixed(2)} s  gc major ${gcs.major} minor ${gcs.minor} ${gcs.ms.toFixed(0)} ms  peak rss ${(peak / 2 ** 20).toFixed(0)} MiB arrayBuffers ${(peakAb / 2 ** 20).toFixed(0)} MiB`,
  );
}

for (let i = 0; i < runs; i++) {
  if (mode !== "restore" || i === 0) await timed("snapshot", snapshot);
  if (mode !== "snapshot") await timed("restore", restore);
}
await rm(archivePath, { force: true });
