// What the named benches (sweep, metadata, rpo) share: progress lines on stderr, the goal table
// (what, figure, goal, met?), the machine's description and the JSON written for the record.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { table } from "../functions/cli/format.js";
import { ROOT } from "./measure.js";

const t0 = performance.now();

/** A progress logger to stderr, "[  12 s] name: line". */
export function benchLog(name: string): (line: string) => void {
  return (line) =>
    process.stderr.write(
      `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${name}: ${line}\n`,
    );
}

export interface GoalRow {
  what: string;
  figure: string;
  goal: string;
  met: "yes" | "no" | "—";
}

export function goalRow(what: string, figure: string, goal: string, met?: boolean): GoalRow {
  return { what, figure, goal, met: met === undefined ? "—" : met ? "yes" : "no" };
}

export const goalTable = table;

/** "2 CPUs, 23 GiB RAM, node v20…, load average 1.2 now" */
export function machineLine(): string {
  return `${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, 1-min load average ${loadavg()[0]!.toFixed(1)} at the end`;
}

/** Writes the figures as formatted JSON (relative paths from the repository root). */
export async function writeResult(file: string, figures: Record<string, unknown>): Promise<void> {
  const path = resolve(ROOT, file);
  await mkdir(dirname(path), { recursive: true });
  const json =
    JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, ...figures }, null, 2) + "\n";
  const prettier = await import("prettier").catch(() => undefined);
  await writeFile(path, prettier ? await prettier.format(json, { parser: "json" }) : json);
  process.stderr.write(`figures written to ${path}\n`);
}
