// `infinity-backup config`: the effective configuration, one line per setting, with where each
// value came from (a file, an environment variable, or the built-in default).
import type { Origin } from "../../config/settings.js";
import { ENV_OVERRIDES } from "../../config/settings.js";
import { table } from "../format.js";
import { EXIT, type Context } from "../context.js";

function render(value: unknown): string {
  if (value === undefined) return "-";
  if (typeof value === "object" && value !== null && "text" in value) return String(value.text); // a duration
  if (Array.isArray(value)) return value.length ? value.map((v) => render(v)).join(", ") : "(none)";
  if (typeof value === "object" && value !== null && "name" in value && "url" in value)
    return `${String(value.name)} <- ${String(value.url)}`; // a source
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

function source(origin: Origin): string {
  switch (origin.from) {
    case "file":
      return origin.file;
    case "env":
      return `environment ${origin.name}`;
    case "default":
      return "default";
  }
}

/** The value at a dotted path of the settings ("retention.daily" reads settings.retention.daily). */
function valueAt(root: Record<string, unknown>, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

export async function configCommand(ctx: Context): Promise<number> {
  const { settings } = ctx.app;
  const root = { ...settings.backup, retention: settings.retention, schedule: settings.schedule };
  const rows = [...settings.origins]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, origin]) => ({ path, value: valueAt(root, path), origin }));
  if (ctx.options.json) {
    const settingsJson = rows.map((r) => ({ setting: r.path, value: r.value, from: r.origin }));
    ctx.print(JSON.stringify({ configFile: settings.configFile, settings: settingsJson }, null, 2));
    return EXIT.ok;
  }
  ctx.print(`Configuration from ${settings.configFile} (relative paths from ${settings.baseDir})\n`);
  ctx.print(
    table(
      ["setting", "value", "from"],
      rows.map((r) => [r.path, render(r.value), source(r.origin)]),
    ),
  );
  ctx.print(`\nPrices: ${settings.pricingSource}`);
  ctx.print(
    `Environment overrides: ${Object.entries(ENV_OVERRIDES)
      .map(([name, what]) => `${name} (${what})`)
      .join("; ")}`,
  );
  return EXIT.ok;
}
