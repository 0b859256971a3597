// GitHub's answers checked against a line schema: a list or an object that is not what we read is a
// MetadataFormatError naming where, never quoting the answer (it may hold anything).
import { z } from "zod";
import { MetadataFormatError } from "../../core/metadata/errors.js";
import type { Answer } from "./metadata-http.js";

function formatError(what: string, detail: string): MetadataFormatError {
  return new MetadataFormatError(`${what}: GitHub's answer is not the JSON expected (${detail})`);
}

function firstIssue(err: z.ZodError, prefix: string): string {
  const issue = err.issues[0];
  const where = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean).join(".");
  return `${where || "(answer)"}: ${issue?.message ?? "invalid"}`;
}

/** The answer as one object of `schema`. */
export function parseOne<S extends z.ZodType>(answer: Answer, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(answer.data);
  if (!parsed.success) throw formatError(what, firstIssue(parsed.error, ""));
  return parsed.data;
}

/** The answer as a list of `schema`; `itemsKey` names the list inside a wrapper object. */
export function parseList<S extends z.ZodType>(
  answer: Answer,
  schema: S,
  what: string,
  itemsKey?: string,
): z.output<S>[] {
  const data: unknown =
    itemsKey && answer.data && typeof answer.data === "object"
      ? (answer.data as Record<string, unknown>)[itemsKey]
      : answer.data;
  if (!Array.isArray(data)) throw formatError(what, `expected a list${itemsKey ? ` in "${itemsKey}"` : ""}`);
  return data.map((item, i) => {
    const parsed = schema.safeParse(item);
    if (!parsed.success) throw formatError(what, firstIssue(parsed.error, `[${i}]`));
    return parsed.data;
  });
}
