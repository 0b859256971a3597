// The settings as the audit trail records them (core/audit-config.ts): every effective value by
// dotted key with where it came from, the price table included. Files are named by their base name
// (the folder differs between a laptop and a deployment, the configuration does not), and the one
// secret a config file may hold, a chat webhook's URL, appears only as its host and a fingerprint.
import { basename } from "node:path";
import { secretFingerprint, type ConfigView } from "../core/audit-config.js";
import type { Origin, Settings } from "./settings.js";

export function settingsView(settings: Settings): ConfigView {
  const root: Record<string, unknown> = {
    ...settings.backup,
    retention: settings.retention,
    schedule: settings.schedule,
  };
  const view: ConfigView = {};
  for (const [key, origin] of settings.origins) {
    view[key] = { value: plain(key, valueAt(root, key)), from: originText(origin) };
  }
  // The legal-hold list always has a line, so that its first entry and its removal read as changes.
  view["retention.holdRepos"] ??= { value: [], from: "default" };
  const pricingFrom = settings.pricingSource.endsWith(".yaml")
    ? basename(settings.pricingSource)
    : settings.pricingSource;
  for (const [key, value] of leaves("pricing", settings.pricing)) view[key] = { value, from: pricingFrom };
  return view;
}

function originText(origin: Origin): string {
  switch (origin.from) {
    case "file":
      return basename(origin.file);
    case "env":
      return `env ${origin.name}`;
    case "default":
      return "default";
  }
}

function valueAt(root: Record<string, unknown>, key: string): unknown {
  return key
    .split(".")
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], root);
}

/** The value as plain JSON: a duration as its text, a webhook URL as host and fingerprint. */
function plain(key: string, value: unknown): unknown {
  if (key === "notifications.webhooks" && Array.isArray(value)) {
    return (value as { url: string }[]).map(({ url }) => ({ url: webhookShown(url) }));
  }
  if (value && typeof value === "object" && "text" in value && "ms" in value) return value.text;
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** A chat webhook's path is its secret (Slack's /services/T…/B…/…): the host stays readable. */
function webhookShown(url: string): string {
  let host = "?";
  try {
    host = new URL(url).host;
  } catch {
    // The schema refuses such a URL; the fingerprint still tells a change.
  }
  return `https://${host}/… ${secretFingerprint(url)}`;
}

function* leaves(prefix: string, value: unknown): Generator<[string, unknown]> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) yield* leaves(`${prefix}.${k}`, v);
  } else yield [prefix, value];
}
