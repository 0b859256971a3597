// One use case (snapshot, verify, restore) in its own process, so its peak RSS is its own:
// prints one JSON line with the time, maxRSS (KiB) and an RSS timeline sampled while it ran.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Progress } from "../functions/core/deps.js";
import { openApp } from "../functions/wiring.js";

export type WorkerRequest =
  | { op: "snapshot"; dataDir: string; repo: string; source: string }
  | { op: "verify"; dataDir: string; repo: string; snapshotId: string; level: "quick" | "deep" }
  | { op: "restore"; dataDir: string; repo: string; snapshotId: string; target: string };

export interface RssSample {
  /** Seconds since the use case started. */
  t: number;
  rssKiB: number;
  /** Bytes the use case had reported through onProgress at that moment. */
  bytes: number;
  /** V8's heap, and the buffers outside it (live or awaiting collection), at that moment. */
  heapTotalKiB: number;
  arrayBuffersKiB: number;
}

export interface WorkerResult {
  op: WorkerRequest["op"];
  seconds: number;
  /** process.resourceUsage().maxRSS at the end: the peak RSS of this node process, in KiB. */
  maxRssKiB: number;
  /** RSS once modules are loaded and the app is open, before the use case runs. */
  bootRssKiB: number;
  /** CPU seconds (user + system) this process had used by then: start-up, not the use case. */
  bootCpuSeconds: number;
  /** CPU seconds of this node process during the use case (git children not included). */
  cpuSeconds: number;
  /** What the heap and buffers held at the highest sampled RSS. */
  atPeak: {
    rssKiB: number;
    heapTotalKiB: number;
    heapUsedKiB: number;
    externalKiB: number;
    arrayBuffersKiB: number;
    t: number;
    bytes: number;
  };
  timeline: RssSample[];
  snapshotId?: string;
  archiveBytes?: number;
  bundleBytes?: number;
  verdict?: string;
  detail?: string;
}

const KiB = 1024;
const SAMPLE_MS = 100;
const TIMELINE_POINTS = 40;

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? "") as WorkerRequest;
  const config = join(request.dataDir, "backup-config.yaml");
  // The source is listed in the config, as a user lists it, so the snapshot gets its remote from
  // the configured source host exactly as `infinity-backup backup` does (a path on this machine
  // can tell whether it uses LFS, so no pointer scan runs for a repository without LFS).
  const sources =
    request.op === "snapshot"
      ? `sources:\n  - name: ${JSON.stringify(request.repo)}\n    url: ${JSON.stringify(request.source)}\n`
      : "sources: []\n";
  await writeFile(config, `version: 1\nbackend: local\nlocal:\n  dataDir: data\n${sources}`);
  // Only this operation's use case is loaded (start-up), as the CLI loads only its command's.
  const { snapshotRepo } = request.op === "snapshot" ? await import("../functions/core/snapshot.js") : {};
  const { verifySnapshot } = request.op === "verify" ? await import("../functions/core/verify.js") : {};
  const { restoreRepo } = request.op === "restore" ? await import("../functions/core/restore.js") : {};
  const app = await openApp(config, { env: {} });
  const bootRssKiB = Math.round(process.memoryUsage.rss() / KiB);
  const cpu = process.cpuUsage();
  const bootCpuSeconds = (cpu.user + cpu.system) / 1e6;
  let bytes = 0;
  const onProgress = (p: Progress) => (bytes = p.bytes);
  const started = performance.now();
  const samples: RssSample[] = [];
  let atPeak: WorkerResult["atPeak"] = {
    rssKiB: 0,
    heapTotalKiB: 0,
    heapUsedKiB: 0,
    externalKiB: 0,
    arrayBuffersKiB: 0,
    t: 0,
    bytes: 0,
  };
  const sample = () => {
    const t = (performance.now() - started) / 1000;
    const m = process.memoryUsage();
    const k = (n: number) => Math.round(n / KiB);
    const rssKiB = k(m.rss);
    samples.push({
      t: Number(t.toFixed(2)),
      rssKiB,
      bytes,
      heapTotalKiB: k(m.heapTotal),
      arrayBuffersKiB: k(m.arrayBuffers),
    });
    if (rssKiB > atPeak.rssKiB) {
      atPeak = {
        rssKiB,
        heapTotalKiB: k(m.heapTotal),
        heapUsedKiB: k(m.heapUsed),
        externalKiB: k(m.external),
        arrayBuffersKiB: k(m.arrayBuffers),
        t: Number(t.toFixed(2)),
        bytes,
      };
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const out: Partial<WorkerResult> = {};
  try {
    if (request.op === "snapshot") {
      const repo = await app.sources.getRepo(request.repo);
      if (!repo) throw new Error(`bench: ${request.repo} is not in the configured sources`);
      const r = await snapshotRepo!(app, request.repo, await app.sources.gitRemote(repo), {
        actor: "bench",
        onProgress,
      });
      Object.assign(out, {
        snapshotId: r.snapshot.id,
        archiveBytes: r.snapshot.size,
        bundleBytes: r.snapshot.bundleBytes,
      });
    } else if (request.op === "verify") {
      const r = await verifySnapshot!(app, request.repo, request.snapshotId, {
        level: request.level,
        actor: "bench",
        onProgress,
      });
      Object.assign(out, {
        verdict: r.verification.verdict,
        detail: r.verification.detail,
        archiveBytes: r.bytes,
      });
    } else {
      const r = await restoreRepo!(
        app,
        {
          repo: request.repo,
          snapshotId: request.snapshotId,
          target: { kind: "path", path: request.target },
        },
        { actor: "bench", onProgress },
      );
      Object.assign(out, { archiveBytes: r.bytes });
    }
  } finally {
    clearInterval(timer);
    await app.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const spent = process.cpuUsage(cpu);
  sample();
  const step = Math.max(1, Math.ceil(samples.length / TIMELINE_POINTS));
  const result: WorkerResult = {
    op: request.op,
    seconds,
    maxRssKiB: process.resourceUsage().maxRSS,
    bootRssKiB,
    bootCpuSeconds,
    cpuSeconds: (spent.user + spent.system) / 1e6,
    atPeak,
    timeline: samples.filter((_, i) => i % step === 0 || i === samples.length - 1),
    ...out,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
