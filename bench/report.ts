// The benchmark's figures: what one size's rounds collected, the printed tables and summary,
// and the JSON written for the record (bench/results/latest.json).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { bytes, table } from "../functions/cli/format.js";
import { median } from "./measure.js";
import type { RssSample } from "./worker.js";

export type OpKey = "snapshot" | "snapshotVsLocal" | "verifyQuick" | "verifyDeep" | "restore";

export const OPS: { key: OpKey; label: string; baseline?: string }[] = [
  { key: "snapshot", label: "snapshot", baseline: "git clone --mirror --no-local + git bundle create --all" },
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
  { key: "restore", label: "restore", baseline: "git clone --mirror from the bundle" },
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
}

export interface OpSamples {
  ours: Sample[];
  baseline: Sample[];
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
  return Object.fromEntries(OPS.map((o) => [o.key, { ours: [], baseline: [] }])) as unknown as Record<
    OpKey,
    OpSamples
  >;
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

export function sizeTable(r: SizeResult): string {
  const rows = OPS.map(({ key, label }) => {
    const op = r.ops[key];
    const ours = med(op.ours, (s) => s.seconds);
    const base = med(op.baseline, (s) => s.seconds);
    return [
      label,
      secs(ours),
      secs(base),
      ours && base ? (ours / base).toFixed(2) : "—",
      rate(r.packBytes, ours),
      rate(r.packBytes, base),
      cpu(med(op.ours, (s) => s.cpuSeconds)),
      cpu(med(op.baseline, (s) => s.cpuSeconds)),
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
      ">baseline",
      ">ours/base",
      ">ours MiB/s",
      ">base MiB/s",
      ">CPU s ours",
      ">CPU s git",
      ">our peak RSS",
      ">largest proc ours",
      ">largest proc git",
    ],
    rows,
  );
  return `${head}\n\n${t}`;
}

export function summary(results: SizeResult[]): string {
  const lines: string[] = [];
  if (results.length >= 2) {
    const small = results[0]!;
    const large = results.at(-1)!;
    lines.push(
      `Peak RSS of our process, ${small.label} -> ${large.label} (pack x${(large.packBytes / small.packBytes).toFixed(1)}):`,
    );
    for (const { key, label } of OPS) {
      if (key === "snapshotVsLocal") continue;
      const a = med(small.ops[key].ours, (s) => s.rssKiB);
      const b = med(large.ops[key].ours, (s) => s.rssKiB);
      if (a && b)
        lines.push(
          `  ${label.padEnd(13)} ${mib(a).padStart(8)} -> ${mib(b).padStart(8)}   ratio large/small ${(b / a).toFixed(2)}`,
        );
    }
  }
  lines.push("Archive vs bundle (same content, same run):");
  for (const r of results) {
    const diff = ((r.archiveBytes / r.bundleBytes - 1) * 100).toFixed(2);
    lines.push(
      `  ${r.label.padEnd(10)} archive ${bytes(r.archiveBytes)}, git bundle ${bytes(r.bundleBytes)} (${diff}%)`,
    );
  }
  const wall = results.flatMap((r) =>
    OPS.flatMap(({ key }) => r.ops[key].ours.map((s) => (s.wallSeconds ?? s.seconds) - s.seconds)),
  );
  lines.push(
    "Notes:",
    "  ours = time of the use case inside its own node process (a fresh data dir per round);",
    `  node + tsx start-up adds a median ${median(wall).toFixed(2)} s per run on top (wall times are in the JSON).`,
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
          baselineSeconds: med(r.ops[key].baseline, (s) => s.seconds),
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
