// Issues and pull requests, every number in order (slots.ts), each with its conversation. A plain
// issue or a placeholder goes through GitHub's issue import endpoint (one request with all its
// comments, keeping its dates) while GitHub accepts it there, else create, comment, close. A pull
// request's slot is reserved with an issue, turned into a pull request where its branches allow,
// then commented and closed as it was.
import { ConflictError } from "../errors.js";
import type { IssueImport } from "../ports.js";
import type { ItemContext } from "./context.js";
import type { IssueLine, PullLine } from "./lines.js";
import { hasMarker, provenanceMarker, reactionsNote, withProvenance, type Provenance } from "./provenance.js";
import { pullBranchPlan, type BranchNeed } from "./pull-branches.js";
import type { Slot } from "./slots.js";
import type { ThreadComment } from "./threads.js";

export interface SlotsReport {
  issues: number;
  pulls: number;
  /** Pull requests recreated as issues, each with why. */
  pullsAsIssues: { number: number; why: string }[];
  placeholders: number;
  comments: number;
  /** Numbers that came back under another number (the target had issues already). */
  renumbered: { from: number; to: number }[];
  /** Whether GitHub's import endpoint took the issues (else they were created one request each). */
  imported: boolean;
  importRefused?: string;
}

interface SlotInput {
  threads: ReadonlyMap<number, ThreadComment[]>;
  milestones: ReadonlyMap<number, number>;
  /** The snapshot's refs (branches for pull requests). */
  refs: Readonly<Record<string, string>>;
}

class ImportRefused extends Error {}

const CLOSE_REASONS = new Set(["completed", "not_planned"]);

export async function restoreSlots(
  ctx: ItemContext,
  slots: readonly Slot[],
  input: SlotInput,
): Promise<SlotsReport> {
  const comments = slots.reduce((n, s) => n + (input.threads.get(s.number)?.length ?? 0), 0);
  ctx.steps.plan("issues and pull requests", slots.length + comments);
  const refusal = ctx.steps.result<{ why: string }>("import-refused");
  const report: SlotsReport = {
    issues: 0,
    pulls: 0,
    pullsAsIssues: [],
    placeholders: 0,
    comments,
    renumbered: [],
    imported: !refusal,
    ...(refusal ? { importRefused: refusal.why } : {}),
  };
  for (const slot of slots) {
    const number = await restoreSlot(ctx, slot, input, report);
    if (number !== slot.number) report.renumbered.push({ from: slot.number, to: number });
  }
  return report;
}

async function restoreSlot(
  ctx: ItemContext,
  slot: Slot,
  input: SlotInput,
  report: SlotsReport,
): Promise<number> {
  const thread = input.threads.get(slot.number) ?? [];
  if (slot.kind === "placeholder") {
    report.placeholders++;
    const body = withProvenance(
      { kind: "placeholder", source: ctx.source, id: slot.number, notes: [slot.why] },
      "",
    );
    const item = { title: `Placeholder for #${slot.number}`, body, labels: [], closed: true };
    return restoreIssue(ctx, slot.number, item, [], "not_planned", undefined, report);
  }
  const issue = slot.issue;
  const milestone = issue.milestone ? input.milestones.get(issue.milestone) : undefined;
  const closed = issue.state === "closed";
  const reason = CLOSE_REASONS.has(issue.state_reason ?? "")
    ? (issue.state_reason as "completed" | "not_planned")
    : undefined;
  if (slot.kind === "issue") {
    report.issues++;
    const body = withProvenance(provenance(ctx, issue, "issue"), issue.body);
    const item = { title: issue.title, body, labels: issue.labels, milestone, closed, issue };
    return restoreIssue(ctx, slot.number, item, thread, reason, issue, report);
  }
  return restorePull(ctx, slot, input, thread, milestone, report);
}

function provenance(
  ctx: ItemContext,
  issue: IssueLine,
  kind: "issue" | "pull",
  notes: string[] = [],
): Provenance {
  const assignees = (issue.assignees ?? []).filter((a): a is string => !!a);
  return {
    kind,
    source: ctx.source,
    id: issue.number,
    author: issue.user,
    at: issue.created_at,
    url: `${ctx.webUrl}/${ctx.source}/${kind === "pull" ? "pull" : "issues"}/${issue.number}`,
    notes: [
      ...notes,
      ...(assignees.length ? [`Assigned to ${assignees.map((a) => `@${a}`).join(", ")}`] : []),
      ...reactionsNote(issue.reactions),
    ],
  };
}

/** The step that makes slot `number` an issue (imported or created); resolves with its number. */
function findSlot(ctx: ItemContext, number: number, kind: string, imported = false) {
  const marker = provenanceMarker(kind, ctx.source, number);
  return async (): Promise<{ number: number; imported?: boolean } | undefined> => {
    const there = await ctx.writer.issue(ctx.target, number);
    if (!there) return undefined;
    if (!hasMarker(there.body, marker))
      throw new ConflictError(
        `#${number} of ${ctx.target} is not the restored item (its body lacks ${marker}): the target changed during the restore`,
      );
    return imported ? { number, imported } : { number };
  };
}

async function restoreIssue(
  ctx: ItemContext,
  number: number,
  item: { title: string; body: string; labels: string[]; milestone?: number; closed: boolean },
  thread: readonly ThreadComment[],
  reason: "completed" | "not_planned" | undefined,
  issue: IssueLine | undefined,
  report: SlotsReport,
): Promise<number> {
  const kind = issue ? "issue" : "placeholder";
  const key = `issue:${number}`;
  if (report.imported && !ctx.steps.result(key)) {
    const payload: IssueImport = {
      issue: {
        title: item.title,
        body: item.body,
        closed: item.closed,
        labels: item.labels,
        ...(item.milestone ? { milestone: item.milestone } : {}),
        ...(issue?.created_at ? { created_at: issue.created_at } : {}),
        ...(issue?.updated_at ? { updated_at: issue.updated_at } : {}),
        ...(item.closed && issue?.closed_at ? { closed_at: issue.closed_at } : {}),
      },
      comments: thread.map((c) => ({ body: c.body, ...(c.createdAt ? { created_at: c.createdAt } : {}) })),
    };
    try {
      const { number: made } = await ctx.steps.once(
        key,
        async () => {
          const outcome = await ctx.pacer.write(() => ctx.writer.importIssue(ctx.target, payload));
          if ("refused" in outcome) throw new ImportRefused(outcome.refused);
          return { number: outcome.number, imported: true };
        },
        findSlot(ctx, number, kind, true),
      );
      // The import made the comments with the issue: they count as done.
      ctx.steps.credit(thread.length);
      await assign(ctx, made, issue);
      if (issue?.locked) await lock(ctx, made, issue.active_lock_reason);
      return made;
    } catch (err) {
      if (!(err instanceof ImportRefused)) throw err;
      await ctx.steps.once("import-refused", async () => ({ why: err.message }), undefined, false);
      report.imported = false;
      report.importRefused = err.message;
    }
  }
  const { number: made, imported } = await ctx.steps.once<{ number: number; imported?: boolean }>(
    key,
    async () => ({
      number: await ctx.pacer.write(() =>
        ctx.writer.createIssue(ctx.target, {
          title: item.title,
          body: item.body,
          labels: item.labels,
          ...(item.milestone ? { milestone: item.milestone } : {}),
        }),
      ),
    }),
    findSlot(ctx, number, kind),
  );
  if (imported) ctx.steps.credit(thread.length);
  else await restoreThread(ctx, made, thread);
  await assign(ctx, made, issue);
  if (imported) {
    if (issue?.locked) await lock(ctx, made, issue.active_lock_reason);
    return made;
  }
  if (item.closed) await close(ctx, made, reason);
  if (issue?.locked) await lock(ctx, made, issue.active_lock_reason);
  return made;
}

/**
 * The original's assignees who may be assigned on the target (GitHub's check, one login at a
 * time); the others stay named in the header only. Once, journaled; adding again changes nothing.
 */
async function assign(ctx: ItemContext, number: number, issue: IssueLine | undefined): Promise<void> {
  const logins = [...new Set((issue?.assignees ?? []).filter((a): a is string => !!a))];
  if (!logins.length) return;
  await ctx.steps.once(
    `assign:${number}`,
    async () => {
      const assignable: string[] = [];
      for (const login of logins) if (await ctx.writer.canAssign(ctx.target, login)) assignable.push(login);
      if (assignable.length)
        await ctx.pacer.write(() => ctx.writer.addAssignees(ctx.target, number, assignable));
      return { assigned: assignable };
    },
    undefined,
    false,
  );
}

async function restoreThread(ctx: ItemContext, number: number, thread: readonly ThreadComment[]) {
  for (const comment of thread) {
    const marker = provenanceMarker(comment.kind, ctx.source, comment.id);
    await ctx.steps.once(
      comment.key,
      async () => ({
        id: await ctx.pacer.write(() => ctx.writer.createComment(ctx.target, number, comment.body)),
      }),
      async () => {
        const found = (await ctx.writer.comments(ctx.target, number)).find((c) => hasMarker(c.body, marker));
        return found && { id: found.id };
      },
    );
  }
}

function close(ctx: ItemContext, number: number, reason?: "completed" | "not_planned") {
  return ctx.steps.once(
    `close:${number}`,
    async () => {
      await ctx.pacer.write(() => ctx.writer.closeIssue(ctx.target, number, reason));
      return { closed: true };
    },
    undefined,
    false,
  );
}

function lock(ctx: ItemContext, number: number, reason?: string | null) {
  return ctx.steps.once(
    `lock:${number}`,
    async () => {
      await ctx.pacer.write(() => ctx.writer.lockIssue(ctx.target, number, reason ?? undefined));
      return { locked: true };
    },
    undefined,
    false,
  );
}

async function restorePull(
  ctx: ItemContext,
  slot: Extract<Slot, { kind: "pull" }>,
  input: SlotInput,
  thread: readonly ThreadComment[],
  milestone: number | undefined,
  report: SlotsReport,
): Promise<number> {
  const { issue, pull } = slot;
  const n = slot.number;
  const notes = pull ? pullNotes(pull) : ["Was a pull request; the backup holds none of its details"];
  const provenanceOf = (extra: string[]) => provenance(ctx, issue, "pull", [...notes, ...extra]);
  const { number } = await ctx.steps.once(
    `issue:${n}`,
    async () => ({
      number: await ctx.pacer.write(() =>
        ctx.writer.createIssue(ctx.target, {
          title: issue.title,
          body: withProvenance(provenanceOf([]), issue.body),
          labels: issue.labels,
          ...(milestone ? { milestone } : {}),
        }),
      ),
    }),
    findSlot(ctx, n, "pull"),
  );
  const made = await ctx.steps.once<{ pull: boolean; why?: string }>(
    `pull:${n}`,
    async () => {
      const why = pull
        ? await convert(ctx, number, pull, input.refs)
        : "the backup holds none of its details";
      if (why === undefined) return { pull: true };
      // It stays an issue: its header says so.
      const body = withProvenance(provenanceOf([`Restored as an issue: ${why}`]), issue.body);
      await ctx.writer.editIssueBody(ctx.target, number, body);
      return { pull: false, why };
    },
    async () => ((await ctx.writer.issue(ctx.target, number))?.isPull ? { pull: true } : undefined),
    false,
  );
  if (made.pull) report.pulls++;
  else report.pullsAsIssues.push({ number: n, why: made.why ?? "" });
  await restoreThread(ctx, number, thread);
  if (issue.state === "closed") await close(ctx, number);
  if (issue.locked) await lock(ctx, number, issue.active_lock_reason);
  return number;
}

function pullNotes(pull: PullLine): string[] {
  return [
    `Pull request from ${pull.head.ref} (${pull.head.sha.slice(0, 12)}) into ${pull.base.ref} (${pull.base.sha.slice(0, 12)})`,
    ...(pull.merged_at
      ? [
          `Merged on ${pull.merged_at}${pull.merge_commit_sha ? ` as ${pull.merge_commit_sha}` : ""}; closed here, since GitHub cannot mark a recreated pull request merged`,
        ]
      : []),
  ];
}

/** Turns the reserved issue into the pull request; undefined when done, else why not. */
async function convert(
  ctx: ItemContext,
  number: number,
  pull: PullLine,
  refs: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  const plan = pullBranchPlan(refs, pull);
  if ("why" in plan) return plan.why;
  if (!(await ensureBranch(ctx, plan.head)))
    return `its head commit ${plan.head.sha?.slice(0, 12)} is not in the restored git data`;
  let base = plan.base.name;
  if (!(await ensureBranch(ctx, plan.base))) {
    if (!plan.fallbackBase)
      return `its base commit ${plan.base.sha?.slice(0, 12)} is not in the restored git data and ${pull.base.ref} is gone`;
    base = plan.fallbackBase;
  }
  const outcome = await ctx.pacer.write(() =>
    ctx.writer.convertToPull(ctx.target, number, {
      head: plan.head.name,
      base,
      ...(pull.draft ? { draft: true } : {}),
    }),
  );
  return "refused" in outcome ? `GitHub would not open it (${outcome.refused})` : undefined;
}

/** Makes a needed branch (a step of its own); false when the target lacks its commit. */
async function ensureBranch(ctx: ItemContext, need: BranchNeed): Promise<boolean> {
  if (!need.sha) return true;
  const sha = need.sha;
  const { there } = await ctx.steps.once(
    `branch:${need.name}`,
    async () => {
      const outcome = await ctx.pacer.write(() => ctx.writer.createBranch(ctx.target, need.name, sha));
      return { there: outcome !== "missing" };
    },
    undefined,
    false,
  );
  return there;
}
