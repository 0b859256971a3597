// One snapshot with GitHub metadata in its own process (so its peak RSS is its own), through the
// real path: snapshotRepo with the GitHub metadata source (the App client as wiring.ts builds it,
// pointed at the stand-in the parent runs) into a local app (folder store, SQLite index, key file).
// Prints one JSON line: time, peak RSS, an RSS timeline, and what the snapshot recorded.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { App } from "@octokit/app";
import { GitHubAppSource } from "../functions/adapters/github/app-source.js";
import type { OctokitLike } from "../functions/adapters/github/metadata-http.js";
import { resilientOctokit } from "../functions/adapters/github/metadata-octokit.js";
import { GitHubMetadataSource } from "../functions/adapters/github/metadata-source.js";
import { backupPolicy } from "../functions/app.js";
import { snapshotRepo } from "../functions/core/snapshot.js";
import { openApp } from "../functions/wiring.js";

export interface MetadataWorkerRequest {
  dataDir: string;
  repo: string;
  /** The repository's git data: a path. */
  source: string;
  apiUrl: string;
  appId: number;
  /**
   * When set (and node runs with --expose-gc), a full GC every this many ms, then the heap used:
   * the live heap, apart from the garbage V8 lets accumulate before collecting it.
   */
  liveHeapEveryMs?: number;
  /** The App's private key is read from BENCH_APP_PRIVATE_KEY, not from argv. */
}

export interface MetadataWorkerResult {
  seconds: number;
  maxRssKiB: number;
  bootRssKiB: number;
  cpuSeconds: number;
  /** Heap used at the highest sampled RSS, KiB. */
  heapAtPeakKiB: number;
  /** Memory outside V8's heap at the highest sampled RSS (Buffers and other ArrayBuffers), KiB. */
  externalAtPeakKiB?: number;
  /** The largest external memory sampled, KiB. */
  externalPeakKiB?: number;
  timeline: { t: number; rssKiB: number }[];
  /** The largest heap used right after a forced full GC (with liveHeapEveryMs), KiB. */
  liveHeapPeakKiB?: number;
  outcome: "created" | "unchanged";
  kind: string;
  snapshotId: string;
  archiveBytes: number;
  items: Record<string, number>;
  /** What the collection itself counted (requests made, and how many were 304). */
  requests?: number;
  notModified?: number;
}

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? "") as MetadataWorkerRequest;
  const privateKey = process.env.BENCH_APP_PRIVATE_KEY;
  if (!privateKey) throw new Error("BENCH_APP_PRIVATE_KEY is not set");
  const config = join(request.dataDir, "backup-config.yaml");
  await writeFile(config, "version: 1\nbackend: local\nlocal:\n  dataDir: data\nsources: []\n");
  const app = await openApp(config, { env: {} });
  // As wiring.ts's githubSource: one App with the resilient Octokit, the metadata read through apiFor.
  const github = new GitHubAppSource({
    app: new App({
      appId: request.appId,
      privateKey,
      log: quiet,
      Octokit: resilientOctokit({ baseUrl: request.apiUrl, log: quiet }),
    }),
  });
  const metadata = new GitHubMetadataSource({
    octokitFor: async (repo) => (await github.apiFor(repo)) as unknown as OctokitLike,
  });
  const bootRssKiB = Math.round(process.memoryUsage.rss() / 1024);
  const cpu = process.cpuUsage();
  const samples: { t: number; rssKiB: number }[] = [];
  let heapAtPeakKiB = 0;
  let externalAtPeakKiB = 0;
  let externalPeakKiB = 0;
  let peak = 0;
  const started = performance.now();
  const sample = () => {
    const usage = process.memoryUsage();
    const rssKiB = Math.round(usage.rss / 1024);
    const externalKiB = Math.round(usage.external / 1024);
    samples.push({ t: Number(((performance.now() - started) / 1000).toFixed(2)), rssKiB });
    externalPeakKiB = Math.max(externalPeakKiB, externalKiB);
    if (rssKiB > peak)
      [peak, heapAtPeakKiB, externalAtPeakKiB] = [rssKiB, Math.round(usage.heapUsed / 1024), externalKiB];
  };
  const timer = setInterval(sample, 100);
  const gc = (globalThis as { gc?: () => void }).gc;
  let liveHeapPeakKiB = 0;
  const liveTimer =
    request.liveHeapEveryMs && gc
      ? setInterval(() => {
          gc();
          liveHeapPeakKiB = Math.max(liveHeapPeakKiB, Math.round(process.memoryUsage().heapUsed / 1024));
        }, request.liveHeapEveryMs)
      : undefined;
  let result;
  try {
    result = await snapshotRepo(
      app,
      request.repo,
      { url: request.source },
      {
        actor: "bench",
        metadata,
        incremental: backupPolicy(app.settings, "inline").incremental,
      },
    );
  } finally {
    clearInterval(timer);
    clearInterval(liveTimer);
    await app.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const spent = process.cpuUsage(cpu);
  sample();
  const step = Math.max(1, Math.ceil(samples.length / 40));
  const s = result.snapshot;
  const out: MetadataWorkerResult = {
    seconds,
    maxRssKiB: process.resourceUsage().maxRSS,
    bootRssKiB,
    cpuSeconds: (spent.user + spent.system) / 1e6,
    heapAtPeakKiB,
    externalAtPeakKiB,
    externalPeakKiB,
    timeline: samples.filter((_, i) => i % step === 0 || i === samples.length - 1),
    ...(liveTimer ? { liveHeapPeakKiB } : {}),
    outcome: result.outcome,
    kind: s.kind,
    snapshotId: s.id,
    archiveBytes: s.size,
    items: s.metadata?.items ?? {},
    ...(s.metadata ? { requests: s.metadata.requests, notModified: s.metadata.notModified } : {}),
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`metadata bench worker failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
