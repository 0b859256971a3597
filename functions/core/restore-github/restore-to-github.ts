// Restore to GitHub, whole: the use case behind `restore --to-github` and restoreRepo's github
// target. Code first (the snapshot's refs and wiki pushed into a new repository, or an empty one
// when told so), then the settings (settings.ts), then the items: labels, milestones, issues and
// pull requests in number order with their conversations, releases with their assets. Every step
// is journaled (steps.ts), so running the same restore again continues where it stopped and
// creates nothing twice. The old-to-new mapping is written beside the restore and returned.
import { randomUUID } from "node:crypto";
import type { Deps } from "../deps.js";
import { holdLease, leaseHolder } from "../lease.js";
import { ConflictError, describeError, UserInputError } from "../errors.js";
import type { KindState } from "../metadata/read.js";
import type { MetadataKind } from "../metadata/kinds.js";
import type { Snapshot } from "../model.js";
import type { BlobStore, GitHubItemWriter, GitHubWriter, GitRemote, RestoreJournal } from "../ports.js";
import { chooseSnapshot, restoreRepo } from "../restore.js";
import { snapshotChain } from "../chain.js";
import type { ItemContext } from "./context.js";
import { restoreSlots, type SlotsReport } from "./issues.js";
import { restoreLabels, restoreMilestones } from "./labels-milestones.js";
import { restoreMapping, mappingKey, writeMapping, type RestoreMapping } from "./mapping.js";
import { emptyLines, readAssetFiles, readItems, withAttachmentLinks } from "./snapshot-items.js";
import { ContentPacer, GITHUB_CONTENT_LIMITS, type PacingOptions, type PacingReport } from "./pacing.js";
import { carriedPacing, pacingSaver } from "./pacing-journal.js";
import { restoreReleases, type ReleasesReport } from "./releases.js";
import { applySettings, type SettingsOptions, type SettingsReport } from "./settings.js";
import { copyAttachments, readAttachments, type AttachmentsReport } from "./attachments.js";
import { recordRestored, recordStopped, writeOutcome } from "./outcome.js";
import { preflight } from "./preflight.js";
import { pushPullHeads } from "./pull-heads.js";
import { planSlots } from "./slots.js";
import { RestoreSteps, type RestoreProgress } from "./steps.js";
import { threadsByNumber } from "./threads.js";

/** What a restore to GitHub writes through. */
export interface GitHubRestorePorts {
  /** Creates the (empty) target repository; ConflictError when the name is taken. */
  createRepository(fullName: string, isPrivate: boolean): Promise<GitRemote>;
  /** Push access to an existing repository (a resumed restore, or one restored into when told it is empty). */
  remoteOf(fullName: string): Promise<GitRemote>;
  items: GitHubItemWriter;
  /** The settings writes (settings.ts) and the target checks. */
  settings: GitHubWriter;
  journal: RestoreJournal;
  /** Where the mapping is written: the restore bucket in the cloud, the data folder locally. */
  mappingStore: BlobStore;
  /**
   * The link a restored body gives to a copy kept in mappingStore under `key` (attachments.ts);
   * absent: attachment links are left as the originals were.
   */
  attachmentLink?: (key: string) => string;
}

export interface GitHubRestoreRequest {
  repo: string;
  snapshotId?: string;
  at?: string;
  /** "owner/name" of the repository to restore into. */
  target: string;
  /** Restore into an existing repository that is empty (refused if it has any content). */
  intoExistingEmpty?: boolean;
  /** The target is the repository the snapshot was taken of, and the request means it. */
  intoSource?: boolean;
  /** Settings options (visibility, webhooks, deploy keys). */
  settings?: SettingsOptions;
  /** Content-creation pacing; default GitHub's documented limits (80 a minute, 500 an hour). */
  pacing?: PacingOptions;
  /** The source's web root, for the provenance links; default "https://github.com". */
  webUrl?: string;
  /** Tries of a step after a transient failure (a 5xx, a dropped connection); default 3. */
  transientRetries?: number;
}

export interface GitHubRestoreOutcome {
  snapshot: Snapshot;
  target: string;
  /** Whether this run continued an earlier one (journal found). */
  resumed: boolean;
  /** The code step: refs pushed, bytes read, pull request heads pushed under refs/restored/pull/. */
  code: {
    refs: number;
    bytes: number;
    pullHeads: number;
    wiki?: { refs: number; target?: string; error?: string };
  };
  settings?: SettingsReport;
  labels: number;
  milestones: number;
  items: SlotsReport;
  releases: ReleasesReport;
  /** Attachments copied to the restore's store and linked from the restored bodies. */
  attachments?: AttachmentsReport;
  /** What the checks before the restore found the snapshot lacks (preflight.ts), worded for a person. */
  warnings: string[];
  /** Metadata kinds the snapshot could not give (so not restored), with why. */
  missing: { kind: MetadataKind; state: KindState["state"]; reason?: string }[];
  /** Whether every issue and pull request kept its number. */
  numbersKept: boolean;
  mapping: RestoreMapping;
  /** Where the mapping was written (mappingStore key). */
  mappingKey: string;
  pacing: PacingReport;
  seconds: number;
}

/** The journal's id of a restore: the same target and snapshot continue the same restore. */
export function restoreIdOf(target: string, snapshotId: string): string {
  return `github:${target.toLowerCase()}@${snapshotId}`;
}

/** What a restore to GitHub takes besides its request (see restoreToGitHub). */
export type GitHubRestoreOptions = {
  actor: string;
  onProgress?: (progress: RestoreProgress) => void;
  /**
   * When this run must stop (epoch ms on deps.clock): at the first step boundary past it, after
   * at least one step, it rejects with RestoreDeadlineError and the same restore continues later.
   */
  deadline?: number;
  /**
   * How fast a code push goes (bytes of the snapshot's chain a second): with a deadline, a push
   * expected to outlast it is not started (RestoreDeadlineError, tooLong). Absent: always started.
   */
  pushBytesPerSecond?: number;
  /** A whole run's time from its start to its deadline (seconds), what a push must fit in. */
  runSeconds?: number;
};

/** The lease key of restores into `target`: no repository name has a ":", so none collides. */
export function restoreLeaseKey(target: string): string {
  return `github-restore:${target.toLowerCase()}`;
}

/**
 * Restores a snapshot into the GitHub repository `request.target`, holding the target's lease for
 * the whole run: a second run into the same target (a second request, a duplicate delivery) is
 * refused with LeaseHeldError while this one runs, so no item is created twice; a run that lost
 * its lease (stalled past it) writes nothing more. Continues from the journal where a run stopped.
 */
export async function restoreToGitHub(
  deps: Deps & { github: GitHubRestorePorts },
  request: GitHubRestoreRequest,
  options: GitHubRestoreOptions,
): Promise<GitHubRestoreOutcome> {
  const target = request.target;
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(target))
    throw new UserInputError(`--to-github needs OWNER/NAME, got ${JSON.stringify(target.slice(0, 120))}`);
  const lease = await holdLease(deps.index, restoreLeaseKey(target), leaseHolder(`restore-${randomUUID()}`), {
    busy: `another restore into ${target} is running; it continues from the same journal, so wait for it to end`,
  });
  try {
    // The background renewal notices a lost lease within a third of its time; each step checks.
    const beforeStep = async () => {
      if (lease.signal.aborted) throw lease.signal.reason;
    };
    return await restoreHeld(deps, request, options, beforeStep);
  } finally {
    await lease.release();
  }
}

async function restoreHeld(
  deps: Deps & { github: GitHubRestorePorts },
  request: GitHubRestoreRequest,
  options: GitHubRestoreOptions,
  beforeStep: () => Promise<void>,
): Promise<GitHubRestoreOutcome> {
  const started = deps.clock.now().getTime();
  const target = request.target;
  const snapshot = await chooseSnapshot(deps, request);
  const { github } = deps;
  const restoreId = restoreIdOf(target, snapshot.id);
  const steps = await RestoreSteps.open(github.journal, restoreId, {
    repo: target,
    now: () => deps.clock.now().getTime(),
    sleep: (ms) =>
      new Promise((resolve) => setTimeout(resolve, (ms * (request.pacing?.msPerSecond ?? 1000)) / 1000)),
    ...(request.transientRetries === undefined ? {} : { retries: request.transientRetries }),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    beforeStep,
  });
  const ended = () => deps.clock.now().toISOString();
  const resumed = steps.resumed;
  // A new restore is checked before anything is created; a resumed one made its target already.
  const warnings =
    steps.stateOf("repository") === undefined
      ? (
          await preflight({ github: github.settings, index: deps.index }, snapshot, {
            target,
            ...(request.intoExistingEmpty ? { intoExistingEmpty: true } : {}),
            ...(request.intoSource ? { intoSource: true } : {}),
            ...(request.settings?.hooks ? { hooks: true } : {}),
          }).catch(async (err: unknown) => {
            // A refusal is a decision about a person's request: on the audit trail, with its reason.
            const reason = describeError(err);
            await deps.audit.record({
              action: "restore.refused",
              repo: snapshot.repo,
              snapshotId: snapshot.id,
              actor: options.actor,
              outcome: "failure",
              details: { target: `github:${target}`, reason },
            });
            await writeOutcome(github.journal, restoreId, { state: "failed", at: ended(), error: reason });
            throw err;
          })
        ).warnings
      : [];
  try {
    const remote = await targetRepository(github, steps, target, request);
    if (options.pushBytesPerSecond && options.deadline !== undefined && steps.stateOf("code") !== "done") {
      const chainBytes = (await snapshotChain(deps.index, snapshot)).reduce((sum, s) => sum + s.size, 0);
      const estimate = (chainBytes / options.pushBytesPerSecond) * 1000;
      const budget = options.runSeconds === undefined ? undefined : options.runSeconds * 1000;
      steps.fits("code", estimate, `the code push (${chainBytes} bytes)`, budget);
    }
    let pullHeads = 0;
    const code = await steps.once(
      "code",
      async () => {
        const pushed = await restoreRepo(
          deps,
          {
            repo: snapshot.repo,
            snapshotId: snapshot.id,
            target: {
              kind: "push",
              remote,
              afterPush: async (dir) => void (pullHeads = await pushPullHeads(dir, remote, snapshot.refs)),
            },
          },
          { actor: options.actor },
        );
        return {
          refs: pushed.refs,
          bytes: pushed.bytes,
          pullHeads,
          ...(pushed.wiki ? { wiki: pushed.wiki } : {}),
        };
      },
      undefined,
      false,
    );
    const settings = snapshot.metadata
      ? (
          await steps.once(
            "settings",
            async () => ({
              report: await applySettings({ ...deps, github: github.settings }, snapshot, target, {
                ...request.settings,
                actor: options.actor,
                // Each write its own step: a run stopped mid-settings sends none of them again.
                step: (key, write) => steps.once(key, write, undefined, false),
              }),
            }),
            undefined,
            false,
          )
        ).report
      : undefined;
    // Paced on the restore's clock, from where its last run left the pace (pacing-journal.ts).
    const pacer = new ContentPacer(
      { now: () => deps.clock.now().getTime(), ...(request.pacing ?? GITHUB_CONTENT_LIMITS) },
      await carriedPacing(github.journal, restoreId),
      pacingSaver(github.journal, restoreId),
    );
    const ctx: ItemContext = {
      writer: github.items,
      target,
      source: snapshot.repo,
      webUrl: (request.webUrl ?? "https://github.com").replace(/\/+$/, ""),
      steps,
      pacer,
    };
    const read = snapshot.metadata ? await readItems(deps, snapshot, options.actor) : undefined;
    let lines = read?.lines ?? emptyLines();
    let attachments: AttachmentsReport | undefined;
    if (read && github.attachmentLink) {
      // No public API uploads an attachment: copies in the restore's store, bodies rewritten to them.
      const found = await readAttachments(deps, snapshot, options.actor);
      const prefix = `${mappingKey(target, snapshot.id).replace(/\.mapping\.json$/, "")}/attachments`;
      const links = await copyAttachments(
        {
          steps,
          store: github.mappingStore,
          prefix,
          linkOf: github.attachmentLink,
          readFiles: (paths, onFile) => readAssetFiles(deps, read.chain, paths, onFile),
        },
        found.stored,
      );
      lines = withAttachmentLinks(lines, links);
      attachments = { copied: links.size, notStored: found.notStored, ...(links.size ? { prefix } : {}) };
    }
    await restoreLabels(ctx, lines.labels);
    const milestones = await restoreMilestones(ctx, lines.milestones);
    const slots = planSlots(
      lines.issues,
      lines.pulls,
      lines.discussions.map((d) => d.number),
    );
    const threads = threadsByNumber(
      { comments: lines.comments, reviews: lines.reviews, reviewComments: lines.reviewComments },
      snapshot.repo,
      ctx.webUrl,
    );
    const items = await restoreSlots(ctx, slots, { threads, milestones, refs: snapshot.refs });
    const releases = await restoreReleases(ctx, lines.releases, (paths, onFile) =>
      readAssetFiles(deps, read?.chain ?? [snapshot], paths, onFile),
    );
    const mapping = restoreMapping(steps, { source: snapshot.repo, target, snapshotId: snapshot.id });
    const key = mappingKey(target, snapshot.id);
    await writeMapping(github.mappingStore, key, mapping);
    const outcome: GitHubRestoreOutcome = {
      snapshot,
      target,
      resumed,
      code: code as GitHubRestoreOutcome["code"],
      ...(settings ? { settings } : {}),
      warnings,
      labels: lines.labels.length,
      milestones: milestones.size,
      items,
      releases,
      ...(attachments ? { attachments } : {}),
      missing: read?.missing ?? [],
      numbersKept: items.renumbered.length === 0,
      mapping,
      mappingKey: key,
      pacing: pacer.stats(),
      seconds: (deps.clock.now().getTime() - started) / 1000,
    };
    await recordRestored(deps, github.journal, {
      restoreId,
      actor: options.actor,
      outcome,
      at: ended(),
      progress: steps.progress,
    });
    return outcome;
  } catch (err) {
    await recordStopped(deps, github.journal, err, {
      restoreId,
      actor: options.actor,
      snapshot,
      target,
      at: ended(),
      progress: steps.progress,
    });
    throw err;
  }
}

/** The target repository: created by this restore (once, journaled), or an existing empty one when told so. */
async function targetRepository(
  github: GitHubRestorePorts,
  steps: RestoreSteps,
  target: string,
  request: GitHubRestoreRequest,
): Promise<GitRemote> {
  let remote: GitRemote | undefined;
  const intent = steps.stateOf("repository") === "intent";
  await steps.once(
    "repository",
    async () => {
      if (request.intoExistingEmpty) {
        const there = await github.settings.inspect(target);
        if (!there) throw new UserInputError(`--into-existing-empty: ${target} does not exist`);
        if (there.content.length)
          throw new ConflictError(
            `${target} is not empty (it has ${there.content.join(", ")}); a restore never writes over content`,
          );
        return { created: false };
      }
      try {
        // The original's visibility at most; the settings step applies the exact one.
        remote = await github.createRepository(target, request.settings?.visibility !== "public");
      } catch (err) {
        // Created by the run that stopped before journaling it: that repository is this restore's.
        if (!(err instanceof ConflictError && intent)) throw err;
      }
      return { created: true };
    },
    undefined,
    false,
  );
  return remote ?? github.remoteOf(target);
}
