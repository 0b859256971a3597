// The benchmark's figures: what one size's rounds collected, the printed tables and summary,
// and the JSON written for the record (bench/results/latest.json).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { bytes, table } from "../functions/cli/format.js";
import { median, type HelpTimes } from "./measure.js";
import type { RssSample } from "./worker.js";

export type OpKey =
  | "snapshot"
  | "snapshotVsLocal"
  | "verifyQuick"
  | "verifyDeep"
  | "restore"
  | "restoreUnverified"
  | "restoreUnverifiedVsLinks";

/**
 * `baseline`: what a git-based backup does for the same result. `floor`: the least git itself
 * needs for the core of the operation, on the same bytes (ours cannot beat it, only come close).
 */
export const OPS: { key: OpKey; label: string; baseline?: string; floor?: string }[] = [
  {
    key: "snapshot",
    label: "snapshot",
    baseline: "git clone --mirror --no-local + git bundle create --all",
    floor: "git bundle create --all, on the source",
  },
  {
    key: "snapshotVsLocal",
    label: "snapshot (vs local clone)",
    baseline: "git clone --mirror (local: hardlinks) + git bundle create --all",
  },
  { key: "verifyQuick", label: "verify quick" },
  {
    key: "verifyDeep",
    label: "verify deep",
    baseline: "git clone --mirror from the bundle + git fsck --full --strict",
  },
  {
    key: "restore",
    label: "restore",
    baseline: "git clone --mirror from the bundle",
    floor: "git index-pack --stdin of the same pack, into an empty repository",
  },
  {
    key: "restoreUnverified",
    label: "restore, unverified",
    baseline: "git clone --mirror from the bundle",
    floor: "git index-pack --stdin of the same pack, into an empty repository",
  },
  {
    // The same runs of ours, against index-pack doing the link check ours does without a deep
    // verification on record: what proving connectivity costs git itself.
    key: "restoreUnverifiedVsLinks",
    label: "restore, unverified (vs link check)",
    floor: "git index-pack --stdin --check-self-contained-and-connected of the same pack",
  },
];

export interface Sample {
  seconds: number;
  /** Our node process's own peak RSS (process.resourceUsage().maxRSS), KiB. */
  rssKiB?: number;
  /** Largest single process of the tree (node, or git and its children), KiB, from GNU time. */
  treeRssKiB?: number;
  /** Wall time of our child process, node + tsx start-up included. */
  wallSeconds?: number;
  /** CPU seconds (user + system) of the whole tree, git children included, start-up excluded. */
  cpuSeconds?: number;
  /** CPU seconds of our node process alone during the use case. */
  nodeCpuSeconds?: number;
  /** CPU seconds of our whole process tree, start-up included (what compares with a floor). */
  processCpuSeconds?: number;
}

export interface OpSamples {
  ours: Sample[];
  baseline: Sample[];
  floor: Sample[];
  /** RSS over time of our process in the last round. */
  timeline?: RssSample[];
  bootRssKiB?: number;
  atPeak?: unknown;
}

export interface SizeResult {
  label: string;
  repo: string;
  packBytes: number;
  refs: number;
  rounds: number;
  archiveBytes: number;
  bundleBytes: number;
  ops: Record<OpKey, OpSamples>;
}

export function emptyOps(): Record<OpKey, OpSamples> {
  return Object.fromEntries(
    OPS.map((o) => [o.key, { ours: [], baseline: [], floor: [] }]),
  ) as unknown as Record<OpKey, OpSamples>;
}

const MiB = 1024 * 1024;
const med = (samples: Sample[], pick: (s: Sample) => number | undefined): number | undefined => {
  const values = samples.map(pick).filter((v): v is number => v !== undefined);
  return values.length ? median(values) : undefined;
};
const secs = (v: number | undefined) => (v === undefined ? "—" : `${v.toFixed(2)} s`);
const cpu = (v: number | undefined) => (v === undefined ? "—" : v.toFixed(2));
const mib = (kib: number | undefined) => (kib === undefined ? "—" : `${(kib / 1024).toFixed(0)} MiB`);
const rate = (b: number, s: number | undefined) => (s ? `${(b / MiB / s).toFixed(0)}` : "—");

/** Ours (the whole process, start-up included) against git's floor for the same work. */
function floorRatio(op: OpSamples): number | undefined {
  const ours = med(op.ours, (s) => s.wallSeconds ?? s.seconds);
  const floor = med(op.floor, (s) => s.seconds);
  return ours && floor ? ours / floor : undefined;
}

export function sizeTable(r: SizeResult): string {
  const rows = OPS.map(({ key, label }) => {
    const op = r.ops[key];
    const ours = med(op.ours, (s) => s.seconds);
    const wall = med(op.ours, (s) => s.wallSeconds);
    const base = med(op.baseline, (s) => s.seconds);
    const ratio = floorRatio(op);
    return [
      label,
      secs(ours),
      secs(wall),
      secs(base),
      ours && base ? (ours / base).toFixed(2) : "—",
      secs(med(op.floor, (s) => s.seconds)),
      ratio ? ratio.toFixed(2) : "—",
      rate(r.packBytes, ours),
      cpu(med(op.ours, (s) => s.cpuSeconds)),
      cpu(med(op.baseline, (s) => s.cpuSeconds)),
      mib(op.bootRssKiB),
      mib(med(op.ours, (s) => s.rssKiB)),
      mib(med(op.ours, (s) => s.treeRssKiB)),
      mib(med(op.baseline, (s) => s.treeRssKiB)),
    ];
  });
  const head = `${r.label}: ${r.repo}\n  pack ${bytes(r.packBytes)}, ${r.refs} refs; median of ${r.rounds} rounds, order alternated`;
  const t = table(
    [
      "operation",
      ">ours",
      ">ours, process",
      ">baseline",
      ">ours/base",
      ">floor",
      ">process/floor",
      ">ours MiB/s",
      ">CPU s ours",
      ">CPU s git",
      ">boot RSS",
      ">peak RSS",
      ">largest proc ours",
      ">largest proc git",
    ],
    rows,
  );
  return `${head}\n\n${t}`;
}

export function summary(results: SizeResult[], help?: HelpTimes): string {
  const lines: string[] = [];
  lines.push("Against git's own floor (ours = the whole process: node start-up, imports, the use case):");
  for (const r of results) {
    for (const { key, label, floor } of OPS) {
      const op = r.ops[key];
      const ratio = floorRatio(op);
      if (!floor || ratio === undefined) continue;
      const oursCpu = med(op.ours, (s) => s.processCpuSeconds);
      const floorCpu = med(op.floor, (s) => s.cpuSeconds);
      lines.push(
        `  ${r.label.padEnd(10)} ${label.padEnd(20)} ${secs(med(op.ours, (s) => s.wallSeconds)).padStart(8)} vs ${secs(med(op.floor, (s) => s.seconds)).padStart(8)}  ${ratio.toFixed(2)}x` +
          (oursCpu !== undefined && floorCpu !== undefined
            ? `   CPU ${oursCpu.toFixed(1)} vs ${floorCpu.toFixed(1)} s (${(oursCpu / floorCpu).toFixed(2)}x)`
            : "") +
          `   floor: ${floor}`,
      );
    }
  }
  lines.push("Memory of our process (boot: modules loaded and app open; peak: maxRSS):");
  for (const r of results) {
    for (const { key, label } of OPS) {
      if (key === "snapshotVsLocal" || key === "restoreUnverifiedVsLinks") continue;
      const op = r.ops[key];
      const peak = med(op.ours, (s) => s.rssKiB);
      if (peak === undefined) continue;
      lines.push(
        `  ${r.label.padEnd(10)} ${label.padEnd(20)} boot ${mib(op.bootRssKiB).padStart(8)}, peak ${mib(peak).padStart(8)} (${((peak * 1024) / 1e6).toFixed(0)} MB)`,
      );
    }
  }
  if (results.length >= 2) {
    const small = results[0]!;
    const large = results.at(-1)!;
    lines.push(
      `Peak RSS of our process, ${small.label} -> ${large.label} (pack x${(large.packBytes / small.packBytes).toFixed(1)}):`,
    );
    for (const { key, label } of OPS) {
      if (key === "snapshotVsLocal" || key === "restoreUnverifiedVsLinks") continue;
      const a = med(small.ops[key].ours, (s) => s.rssKiB);
      const b = med(large.ops[key].ours, (s) => s.rssKiB);
      if (a && b)
        lines.push(
          `  ${label.padEnd(20)} ${mib(a).padStart(8)} -> ${mib(b).padStart(8)}   ratio large/small ${(b / a).toFixed(2)}`,
        );
    }
  }
  lines.push("Archive vs bundle (same content, same run):");
  for (const r of results) {
    if (!r.bundleBytes) continue; // --only writes no baseline bundle
    const diff = ((r.archiveBytes / r.bundleBytes - 1) * 100).toFixed(2);
    lines.push(
      `  ${r.label.padEnd(10)} archive ${bytes(r.archiveBytes)}, git bundle ${bytes(r.bundleBytes)} (${diff}%)`,
    );
  }
  if (help) {
    lines.push(
      `infinity-backup --help (compiled, as installed): ${secs(help.seconds)}` +
        (help.cpuSeconds !== undefined ? `, CPU ${help.cpuSeconds.toFixed(2)} s` : "") +
        `; node -e 0 alone: ${secs(help.nodeSeconds)}` +
        (help.nodeCpuSeconds !== undefined ? `, CPU ${help.nodeCpuSeconds.toFixed(2)} s` : "") +
        ` (median of ${help.rounds})`,
    );
  }
  const wall = results.flatMap((r) =>
    OPS.flatMap(({ key }) => r.ops[key].ours.map((s) => (s.wallSeconds ?? s.seconds) - s.seconds)),
  );
  lines.push(
    "Notes:",
    "  ours = time of the use case inside its own node process (a fresh data dir per round), running the",
    "  compiled package (bench/results/package: `npm run build` output, no tsx); ours, process = that",
    `  process's wall time, start-up included (a median ${median(wall).toFixed(2)} s more), which is what compares with a floor.`,
    "  restore runs after a deep verification (its record proves connectivity); restore, unverified runs",
    "  before any (index-pack then proves every link as it indexes).",
    "  our peak RSS = process.resourceUsage().maxRSS of that node process alone: the git processes it",
    "  starts (upload-pack, pack-objects, index-pack, fsck) are NOT in it.",
    "  largest proc = peak RSS of the largest single process in the tree (GNU time: max, not a sum),",
    "  i.e. usually git's pack-objects or index-pack; git's own memory grows with the repository.",
    "  CPU s = user + system seconds of the whole tree (ours: node and its git children, start-up excluded).",
    "  verify quick has no git counterpart; the deep-verify baseline is what a restore drill with git costs.",
  );
  return lines.join("\n");
}

export async function writeJson(
  file: string,
  meta: Record<string, unknown>,
  results: SizeResult[],
): Promise<void> {
  const figures = results.map((r) => ({
    ...r,
    medians: Object.fromEntries(
      OPS.map(({ key }) => [
        key,
        {
          oursSeconds: med(r.ops[key].ours, (s) => s.seconds),
          oursProcessSeconds: med(r.ops[key].ours, (s) => s.wallSeconds),
          baselineSeconds: med(r.ops[key].baseline, (s) => s.seconds),
          floorSeconds: med(r.ops[key].floor, (s) => s.seconds),
          processOverFloor: floorRatio(r.ops[key]),
          oursProcessCpuSeconds: med(r.ops[key].ours, (s) => s.processCpuSeconds),
          floorCpuSeconds: med(r.ops[key].floor, (s) => s.cpuSeconds),
          oursCpuSeconds: med(r.ops[key].ours, (s) => s.cpuSeconds),
          baselineCpuSeconds: med(r.ops[key].baseline, (s) => s.cpuSeconds),
          oursPeakRssKiB: med(r.ops[key].ours, (s) => s.rssKiB),
          oursTreePeakRssKiB: med(r.ops[key].ours, (s) => s.treeRssKiB),
          baselineTreePeakRssKiB: med(r.ops[key].baseline, (s) => s.treeRssKiB),
        },
      ]),
    ),
  }));
  await mkdir(dirname(file), { recursive: true });
  const json = JSON.stringify({ ...meta, baselines: OPS, sizes: figures }, null, 2) + "\n";
  // Formatted as `npm run lint` (prettier --check bench) expects, should the file be kept.
  const prettier = await import("prettier").catch(() => undefined);
  await writeFile(file, prettier ? await prettier.format(json, { parser: "json" }) : json);
}
