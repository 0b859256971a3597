// What every command gets: the opened app, its parsed options, and where to print.
import type { LocalApp } from "../app.js";
import { ProgressLine } from "./progress.js";

export interface CommandOptions {
  config: string;
  json: boolean;
  quiet: boolean;
  repo: string[];
  /** The arguments after the command (`show`: what to show; `audit`: verify). */
  args?: string[];
  snapshot?: string;
  at?: string;
  level?: "quick" | "deep" | "layer";
  verify: boolean;
  to?: string;
  push?: string;
  bundle?: string;
  /** restore: "owner/name" on GitHub. */
  toGithub?: string;
  /** restore --to-github: into an existing, empty repository. */
  intoExistingEmpty?: boolean;
  /** restore --all: the org to restore every repository into, and/or a prefix for their names. */
  toOrg?: string;
  prefix?: string;
  all: boolean;
  /** prune: plan only, change nothing. */
  dryRun: boolean;
  /** prune: also merge full layer levels (core/layers/compact.ts). */
  compact?: boolean;
  /** prune --compact --full: rewrite every live layer into one of only reached objects. */
  fullCompaction?: boolean;
  /** hold: lift the hold. */
  release: boolean;
  /** audit: entries at or after this time (ISO-8601 UTC). */
  since?: string;
  /** audit: an action or its family ("restore"). */
  action?: string;
  /** audit: CSV on stdout. */
  csv?: boolean;
  /** drill: how many repositories. */
  sample?: string;
  /** serve: where to listen. */
  port?: string;
  host?: string;
  /** forget, redact add: why. */
  reason?: string;
  /** forget: the repository name typed back, without a prompt. */
  confirm?: string;
  /** redact: the GitHub login. */
  login?: string;
}

export interface Context {
  app: LocalApp;
  options: CommandOptions;
  progress: ProgressLine;
  /** Prints to stdout (the command's result). */
  print(text: string): void;
  /** The actor recorded in the audit log. */
  actor: string;
}

/** Exit codes: 0 all good, 1 some work failed, 2 the command line or config is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
