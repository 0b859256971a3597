// Reads a YAML config file and validates it with a zod schema. Errors name the file, the key
// and what was expected, so a typo is found in one read.
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

/** Parses YAML text; throws UserInputError naming `file` and the line. An empty file is `{}`. */
export function readYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line;
    const problem = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw new UserInputError(
      `${file}: ${line === undefined ? "" : `line ${line}: `}not valid YAML: ${problem}`,
    );
  }
  return doc.toJS() ?? {};
}

/** Parses YAML text against `schema`; throws UserInputError naming `file` on any problem. */
export function parseConfig<S extends z.ZodType>(schema: S, text: string, file: string): z.infer<S> {
  const result = schema.safeParse(readYaml(text, file));
  if (!result.success) throw new UserInputError(describeIssues(file, result.error));
  return result.data;
}
