// Labels and milestones, before the issues that name them. Milestones are created in number order,
// every number from 1 up (a deleted one becomes a closed placeholder), so their numbers are kept.
import { ConflictError } from "../errors.js";
import type { ItemContext } from "./context.js";
import type { LabelLine, MilestoneLine } from "./lines.js";

export async function restoreLabels(ctx: ItemContext, labels: readonly LabelLine[]): Promise<void> {
  ctx.steps.plan("labels", labels.length);
  for (const line of labels) {
    const spec = { name: line.name, color: line.color ?? "ededed", description: line.description ?? null };
    // A lookup first makes the step safe to repeat: a new repository may have GitHub's default labels.
    await ctx.steps.once(`label:${line.name}`, async () => {
      const there = await ctx.writer.label(ctx.target, line.name);
      if (!there) await ctx.pacer.write(() => ctx.writer.createLabel(ctx.target, spec));
      else if (there.color !== spec.color || (there.description ?? null) !== spec.description)
        await ctx.pacer.write(() => ctx.writer.updateLabel(ctx.target, line.name, spec));
      return { name: line.name };
    });
  }
}

/** Milestone numbers, old to new (equal unless the target had milestones already). */
export async function restoreMilestones(
  ctx: ItemContext,
  milestones: readonly MilestoneLine[],
): Promise<Map<number, number>> {
  const byNumber = new Map(milestones.map((m) => [m.number, m]));
  const highest = Math.max(0, ...byNumber.keys());
  ctx.steps.plan("milestones", highest);
  const numbers = new Map<number, number>();
  for (let n = 1; n <= highest; n++) {
    const m = byNumber.get(n);
    const spec = m
      ? {
          title: m.title,
          description: m.description ?? null,
          state: m.state === "closed" ? ("closed" as const) : ("open" as const),
          due_on: m.due_on ?? null,
        }
      : {
          title: `Placeholder ${n}`,
          description: `Milestone ${n} of ${ctx.source} was not in the backup (deleted); kept so the numbers after it stay the same.`,
          state: "closed" as const,
        };
    const { number } = await ctx.steps.once(
      `milestone:${n}`,
      async () => ({ number: await ctx.pacer.write(() => ctx.writer.createMilestone(ctx.target, spec)) }),
      async () => {
        const there = await ctx.writer.milestone(ctx.target, n);
        if (!there) return undefined;
        if (there.title !== spec.title)
          throw new ConflictError(
            `milestone ${n} of ${ctx.target} is "${there.title}", not "${spec.title}": the target changed during the restore`,
          );
        return { number: n };
      },
    );
    numbers.set(n, number);
  }
  return numbers;
}
