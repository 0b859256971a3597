// Pieces shared by the metadata line schemas: each schema parses one GitHub API object and is, at
// once, its projection into an archive line (zod drops every field a schema does not name).
import { z } from "zod";

/** A user (or a deleted one: null) kept as its login. */
export const login = z
  .object({ login: z.string() })
  .nullable()
  .transform((user) => user?.login ?? null);

export const logins = z
  .array(z.object({ login: z.string() }))
  .transform((users) => users.map((u) => u.login));

export const slugs = z.array(z.object({ slug: z.string() })).transform((teams) => teams.map((t) => t.slug));

/** Labels as names: issues and pull requests list label objects. */
export const labelNames = z
  .array(z.union([z.string(), z.object({ name: z.string() })]))
  .transform((labels) => labels.map((l) => (typeof l === "string" ? l : l.name)));

/** Reactions as counts (who reacted is not kept). */
export const reactions = z
  .object({
    total_count: z.number().int(),
    "+1": z.number().int(),
    "-1": z.number().int(),
    laugh: z.number().int(),
    hooray: z.number().int(),
    confused: z.number().int(),
    heart: z.number().int(),
    rocket: z.number().int(),
    eyes: z.number().int(),
  })
  .optional();

export const timestamp = z.string();
export const optionalText = z.string().nullable().optional();

/** The number at the end of an API URL (".../issues/12" -> 12): how comments name their issue. */
export const numberFromUrl = z.string().transform((url, ctx) => {
  const n = Number(/\/(\d+)$/.exec(url)?.[1]);
  if (Number.isInteger(n) && n > 0) return n;
  ctx.addIssue({ code: "custom", message: "expected an API URL ending in a number" });
  return z.NEVER;
});
