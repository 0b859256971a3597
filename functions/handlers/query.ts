// A query string read as the request body it stands for, typed by that body's own schema: every
// query value is text, so "true"/"false" become booleans and "3" a number where the schema wants
// them, a list is given comma-separated or repeated (include=a/b,c/d or include=a/b&include=c/d), and
// a nested field is named by its path (target.kind=github). Anything else stays text for the schema
// to judge, and a value that cannot be what its field wants is refused with the field's name.
import type { z } from "zod";
import { UserInputError } from "../core/errors.js";

type Want = "boolean" | "number" | "list" | "text";

/** What zod keeps of a schema that this reading needs (zod 4's `_zod.def`, read only). */
interface Def {
  type: string;
  innerType?: Node;
  in?: Node;
  shape?: Record<string, Node>;
  options?: Node[];
  element?: Node;
  values?: unknown[];
}
interface Node {
  _zod: { def: Def };
}

/** Names that would reach an object's prototype rather than a field. */
const UNSAFE = new Set(["__proto__", "constructor", "prototype"]);

const defOf = (schema: unknown): Def => (schema as Node)._zod.def;

/** Through optional, default, nullable, a transform's input and the like, to the type itself. */
function core(schema: Node): Def {
  let def = defOf(schema);
  for (;;) {
    const inner = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
    if (!inner) return def;
    def = defOf(inner);
  }
}

/** The schema of the field at `path`, or undefined when the schema has no such field. */
function fieldAt(schema: Node, path: string[]): Node | undefined {
  if (!path.length) return schema;
  const def = core(schema);
  const [head, ...rest] = path as [string, ...string[]];
  if (def.type === "object") {
    const field = def.shape?.[head];
    return field && fieldAt(field, rest);
  }
  if (def.type === "union")
    for (const option of def.options ?? []) {
      const found = fieldAt(option, path);
      if (found) return found;
    }
  return undefined;
}

function want(field: Node | undefined): Want {
  if (!field) return "text";
  const def = core(field);
  if (def.type === "boolean") return "boolean";
  if (def.type === "number" || def.type === "int") return "number";
  if (def.type === "literal" && typeof def.values?.[0] === "number") return "number";
  if (def.type === "array") return "list";
  return "text";
}

function value(key: string, raw: string[], wanted: Want, what: string): unknown {
  if (wanted === "list") return raw.flatMap((v) => v.split(",")).filter(Boolean);
  if (raw.length > 1) throw new UserInputError(`invalid ${what}: ${key}: given ${raw.length} times`);
  const text = raw[0]!;
  if (wanted === "boolean") {
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
    throw new UserInputError(
      `invalid ${what}: ${key}: expected true or false, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  if (wanted === "number") {
    const n = text.trim() === "" ? NaN : Number(text);
    if (!Number.isFinite(n))
      throw new UserInputError(
        `invalid ${what}: ${key}: expected a number, got ${JSON.stringify(text.slice(0, 40))}`,
      );
    return n;
  }
  return text;
}

/**
 * The body `query` stands for under `schema`. `query` is Express's parsed query (its simple parser:
 * a string, or an array of strings for a repeated key). A key the schema does not know is kept as
 * text, so the schema names it as unknown.
 */
export function queryAsBody(query: unknown, schema: z.ZodType, what: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const texts = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === "string");
    if (!texts.length) throw new UserInputError(`invalid ${what}: ${key}: expected a value`);
    const path = key.split(".");
    if (path.some((part) => !part || UNSAFE.has(part)))
      throw new UserInputError(`invalid ${what}: ${JSON.stringify(key.slice(0, 60))} is not a field name`);
    let into = body;
    for (const part of path.slice(0, -1)) {
      const next = into[part];
      if (next !== undefined && (typeof next !== "object" || Array.isArray(next)))
        throw new UserInputError(`invalid ${what}: ${key}: ${part} is given as a value and as fields`);
      into = (into[part] ??= {}) as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (into[last] !== undefined)
      throw new UserInputError(`invalid ${what}: ${key}: given as a value and as fields`);
    into[last] = value(key, texts, want(fieldAt(schema as unknown as Node, path)), what);
  }
  return body;
}
