// Reads a YAML config file and validates it with a zod schema. Errors name the file, the key
// and what was expected, so a typo is found in one read.
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { UserInputError } from "../core/errors.js";

function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    "",
  );
}

/** One line per problem: "<file>: <key>: <what was expected>". */
export function describeIssues(file: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => {
      const where = keyPath(issue.path);
      if (issue.code === "unrecognized_keys") {
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
        return `${file}: ${where ? where + ": " : ""}unknown key ${keys} (check the spelling; see the comments in the shipped file)`;
      }
      return `${file}: ${where || "(top level)"}: ${issue.message}`;
    })
    .join("\n");
}

/** Parses YAML text against `schema`; throws UserInputError naming `file` on any problem. */
export function parseConfig<S extends z.ZodType>(schema: S, text: string, file: string): z.infer<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new UserInputError(`${file}: not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (!result.success) throw new UserInputError(describeIssues(file, result.error));
  return result.data;
}

export async function loadConfigFile<S extends z.ZodType>(schema: S, file: string): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserInputError(
      code === "ENOENT" ? `${file}: file not found` : `${file}: cannot read (${code})`,
      { cause: err },
    );
  }
  return parseConfig(schema, text, file);
}
