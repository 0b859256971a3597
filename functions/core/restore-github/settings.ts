// The settings step of a restore to GitHub: read what the snapshot holds of its repository's
// settings (repository line, branch protections, rulesets, autolinks; webhooks and deploy keys only
// when asked) and apply them to the target through the GitHubWriter port. Runs after the code is
// pushed (a default branch or a protection needs its branch) and before the metadata items.
import type { Deps } from "../deps.js";
import { describeError } from "../errors.js";
import type { MetadataKind } from "../metadata/kinds.js";
import { readMetadata, type KindState, type MetadataLine } from "../metadata/read.js";
import type { Snapshot } from "../model.js";
import type { GitHubWriter } from "../ports.js";
import {
  planSettings,
  type SettingsOptions,
  type SettingsSkip,
  type SettingsWrite,
  type SnapshotSettings,
} from "./settings-plan.js";

export type { SettingsOptions, SnapshotSettings } from "./settings-plan.js";

/** Runs one settings write once across the runs of a restore; resolves with its recorded result. */
export type SettingsStep = (
  key: string,
  write: () => Promise<{ error?: string }>,
) => Promise<{ error?: string }>;

/** The metadata kinds the settings step reads. */
export const SETTINGS_KINDS = [
  "repository",
  "branch-protections",
  "rulesets",
  "autolinks",
  "hooks",
  "deploy-keys",
] as const satisfies readonly MetadataKind[];

type SettingsKind = (typeof SETTINGS_KINDS)[number];

export interface SettingsReport {
  /** Each request made, by what it restored ("branch protection of main"). */
  applied: string[];
  /** Requests GitHub refused: what, and its answer (scrubbed). The others still went. */
  failed: { what: string; error: string }[];
  /** What the snapshot has that was left out, and why (webhooks not asked for, archived). */
  skipped: SettingsSkip[];
  /** Settings kinds the snapshot could not say (unavailable when it was taken, not collected). */
  missing: { kind: SettingsKind; state: KindState["state"]; reason?: string }[];
}

/** What the snapshot holds of its repository's settings, and which settings kinds it lacks. */
export async function readSettings(
  deps: Pick<Deps, "store" | "keys" | "index" | "audit">,
  snapshot: Snapshot,
  actor: string,
): Promise<{ settings: SnapshotSettings; missing: SettingsReport["missing"] }> {
  if (!snapshot.metadata) {
    const missing = SETTINGS_KINDS.map((kind) => ({
      kind,
      state: "not-collected" as const,
      reason: "the snapshot holds no GitHub metadata",
    }));
    return { settings: {}, missing };
  }
  const read = await readMetadata(
    deps,
    snapshot,
    { kinds: SETTINGS_KINDS },
    { actor, purpose: "restore settings" },
  );
  const missing: SettingsReport["missing"] = [];
  for (const kind of SETTINGS_KINDS) {
    const state = read.kinds[kind];
    if (state.state === "present") continue;
    missing.push({ kind, state: state.state, ...("reason" in state ? { reason: state.reason } : {}) });
  }
  const lines = (kind: SettingsKind): MetadataLine[] | undefined => read.lines[kind];
  return {
    settings: {
      repository: lines("repository")?.[0],
      protections: lines("branch-protections"),
      rulesets: lines("rulesets"),
      autolinks: lines("autolinks"),
      hooks: lines("hooks"),
      deployKeys: lines("deploy-keys"),
    },
    missing,
  };
}

/**
 * Applies the snapshot's settings to `target` ("owner/name"), which already holds the snapshot's
 * code. A visibility more public than the original's is refused (UserInputError) before any
 * request; a request GitHub refuses is reported in `failed` and the others still go. Audited.
 */
export async function applySettings(
  deps: Pick<Deps, "store" | "keys" | "index" | "audit"> & { github: GitHubWriter },
  snapshot: Snapshot,
  target: string,
  options: SettingsOptions & {
    actor: string;
    /**
     * Runs each write as a step of the restore's journal (restore-to-github.ts), so a resumed
     * restore sends none twice; default: each write runs here and now.
     */
    step?: SettingsStep;
  },
): Promise<SettingsReport> {
  const { settings, missing } = await readSettings(deps, snapshot, options.actor);
  const { writes, skipped } = planSettings(settings, options);
  const report: SettingsReport = { applied: [], failed: [], skipped, missing };
  const step: SettingsStep = options.step ?? ((_key, write) => write());
  for (const [i, write] of writes.entries()) {
    // The plan is the same on every run of one restore (same snapshot, same options): i is stable.
    const done = await step(`settings:${i}:${write.what}`, async () => {
      try {
        await send(deps.github, target, write);
        return {};
      } catch (err) {
        // A refusal is reported, not retried on resume: the others still go.
        return { error: describeError(err) };
      }
    });
    if (done.error === undefined) report.applied.push(write.what);
    else report.failed.push({ what: write.what, error: done.error });
  }
  await deps.audit.record({
    action: "restore.settings",
    repo: snapshot.repo,
    snapshotId: snapshot.id,
    actor: options.actor,
    outcome: report.failed.length ? "failure" : "success",
    details: {
      target,
      applied: report.applied.length,
      failed: report.failed,
      skipped: report.skipped.map((s) => s.what),
      missing: report.missing.map((m) => m.kind),
    },
  });
  return report;
}

function send(github: GitHubWriter, target: string, write: SettingsWrite): Promise<void> {
  switch (write.kind) {
    case "repository":
      return github.updateRepository(target, write.change);
    case "topics":
      return github.replaceTopics(target, write.topics);
    case "protection":
      return github.protectBranch(target, write.branch, write.protection);
    case "signatures":
      return github.requireSignatures(target, write.branch);
    case "ruleset":
      return github.createRuleset(target, write.body);
    case "autolink":
      return github.createAutolink(target, write.body);
    case "hook":
      return github.createHook(target, write.body);
    case "deploy-key":
      return github.addDeployKey(target, write.body);
  }
}
