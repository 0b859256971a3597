// Numbers and small charts for people: sizes, durations, ages, aligned tables, bars.

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** "3 min ago", "2 d ago": how old a time is relative to `now`. */
export function age(iso: string, now: Date): string {
  const seconds = Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** A horizontal bar `width` cells wide, filled to `fraction`. */
export function bar(fraction: number, width = 20): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.floor(clamped * width);
  const partial = " ▏▎▍▌▋▊▉"[Math.floor((clamped * width - full) * 8)] ?? "";
  return ("█".repeat(full) + (full < width ? partial : "")).padEnd(width, " ");
}

/** One character per value, scaled to the largest: a trend at a glance. */
export function sparkline(values: number[]): string {
  const max = Math.max(...values, 0);
  const ticks = "▁▂▃▄▅▆▇█";
  return values
    .map((v) => (max === 0 ? ticks[0] : ticks[Math.min(7, Math.floor((v / max) * 7.999))]))
    .join("");
}

/** Left-aligned columns; numbers right-aligned when a column header starts with ">". */
export function table(header: string[], rows: string[][]): string {
  const right = header.map((h) => h.startsWith(">"));
  const names = header.map((h) => h.replace(/^>/, ""));
  const widths = names.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(names), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
}
