// Configuration changes as audit entries. A run that loads the settings compares their view (every
// effective value and where it came from, secrets only as fingerprints) with the one the newest
// `config.changed` entry recorded, and records a new entry only when they differ: once per change,
// however many runs see it. The CLI (on opening the data folder) and the cloud's sweep both come
// here; the trail decides atomically, so two runs that see the same change record it once.
import { createHash } from "node:crypto";
import { canonicalJson, type AuditEntry } from "./audit-chain.js";
import type { AuditEvent, ConfigTrail } from "./ports.js";
import { scrub } from "./redact.js";

export const CONFIG_CHANGED = "config.changed";

/** One effective setting: its value as plain JSON and where it came from ("backup-config.yaml", "env LEGAL_HOLD_REPOS", "default"). */
export interface ConfigSetting {
  value: unknown;
  from: string;
}

/** Every effective setting by dotted key ("retention.holdRepos"). Secret values never appear in one. */
export type ConfigView = Record<string, ConfigSetting>;

/** One key that changed; `before` or `after` is absent for a key added or removed. */
export interface ConfigChange {
  key: string;
  before?: ConfigSetting;
  after?: ConfigSetting;
}

/** What a `config.changed` entry's details hold. */
export interface ConfigChangeDetails {
  /** SHA-256 of the view's canonical JSON: equal views, equal digests. */
  digest: string;
  previousDigest?: string;
  /** True for the first view the trail records (nothing to compare with). */
  first?: boolean;
  /** The files and environment variables the changed keys came from, before and after. */
  sources: string[];
  changes: ConfigChange[];
  /** The whole view, so that the next run can say what changed and an auditor can read it all. */
  settings: ConfigView;
}

export function configDigest(view: ConfigView): string {
  return createHash("sha256").update(canonicalJson(view)).digest("hex");
}

/** The keys whose value or origin differ, sorted by key. */
export function diffConfig(before: ConfigView, after: ConfigView): ConfigChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    const b = before[key];
    const a = after[key];
    if (b && a && canonicalJson(b) === canonicalJson(a)) continue;
    changes.push({ key, ...(b ? { before: b } : {}), ...(a ? { after: a } : {}) });
  }
  return changes;
}

/**
 * A secret as the trail may show it: never its value, only a short fingerprint, so that a change
 * of secret is still a change an auditor sees.
 */
export function secretFingerprint(secret: string): string {
  return `(secret, sha256 ${createHash("sha256").update(secret).digest("hex").slice(0, 12)})`;
}

/** The view with any credential a string value holds scrubbed (a second net under the view's own masking). */
function scrubbed(view: ConfigView): ConfigView {
  const clean = (value: unknown): unknown => {
    if (typeof value === "string") return scrub(value);
    if (Array.isArray(value)) return value.map(clean);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    return value;
  };
  return Object.fromEntries(
    Object.entries(view).map(([key, s]) => [key, { value: clean(s.value), from: s.from }]),
  );
}

/** The entry `view` calls for after `last` (the newest config.changed entry), or undefined when nothing changed. */
export function configChangeEvent(
  view: ConfigView,
  last: AuditEntry | undefined,
  actor: string,
): AuditEvent | undefined {
  const settings = scrubbed(view);
  const digest = configDigest(settings);
  const previous = last?.details as Partial<ConfigChangeDetails> | undefined;
  if (previous?.digest === digest) return undefined;
  const changes = previous?.settings ? diffConfig(previous.settings, settings) : [];
  const sources = [
    ...new Set(changes.flatMap((c) => [c.before?.from, c.after?.from]).filter((s) => s !== undefined)),
  ].sort();
  const details: ConfigChangeDetails = {
    digest,
    ...(previous?.digest ? { previousDigest: previous.digest } : { first: true }),
    sources,
    changes,
    settings,
  };
  return { action: CONFIG_CHANGED, actor, outcome: "success", details: { ...details } };
}

/**
 * Records `view` in the trail when it differs from the newest recorded one. Resolves with the
 * entry's details, or undefined when the configuration is as last recorded.
 */
export async function recordConfigChange(
  trail: ConfigTrail,
  view: ConfigView,
  actor: string,
): Promise<ConfigChangeDetails | undefined> {
  const entry = await trail.recordConfig((last) => configChangeEvent(view, last, actor));
  return entry?.details as ConfigChangeDetails | undefined;
}
