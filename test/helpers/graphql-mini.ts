// A small GraphQL engine for the GitHub stand-in: parses a query document (operations, variables,
// fields with aliases and arguments, fragments and inline fragments), validates it against a schema
// the way GitHub does before running anything (unknown fields and arguments, selections on
// scalars, undeclared or missing variables, a type that does not match), then executes it over
// plain objects with resolvers. Errors come back in GitHub's shape: `{ errors: [{ message, ... }] }`.

type Value = unknown;

export interface Field {
  kind: "field";
  alias?: string;
  name: string;
  args: Record<string, ValueNode>;
  selections: Selection[];
  line: number;
  column: number;
}
interface Spread {
  kind: "spread";
  name: string;
  line: number;
  column: number;
}
interface Inline {
  kind: "inline";
  on?: string;
  selections: Selection[];
}
type Selection = Field | Spread | Inline;

type ValueNode =
  | { kind: "variable"; name: string }
  | { kind: "literal"; value: Value }
  | { kind: "enum"; value: string }
  | { kind: "list"; items: ValueNode[] }
  | { kind: "object"; fields: Record<string, ValueNode> };

interface Operation {
  name?: string;
  variables: Record<string, string>;
  selections: Selection[];
}
interface Fragment {
  on: string;
  selections: Selection[];
}
export interface Document {
  operations: Operation[];
  fragments: Record<string, Fragment>;
}

export interface GraphqlError {
  message: string;
  type?: string;
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
  extensions?: Record<string, unknown>;
}

export class GraphqlFailure extends Error {
  constructor(readonly errors: GraphqlError[]) {
    super(errors[0]?.message ?? "GraphQL error");
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface Token {
  kind: "name" | "punct" | "string" | "number";
  text: string;
  line: number;
  column: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const at = () => ({ line, column: i - lineStart + 1 });
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\n") {
      line++;
      lineStart = ++i;
    } else if (/[\s,\ufeff]/.test(c)) i++;
    else if (c === "#") while (i < source.length && source[i] !== "\n") i++;
    else if (source.startsWith("...", i)) {
      tokens.push({ kind: "punct", text: "...", ...at() });
      i += 3;
    } else if ("{}()[]:!$=@|&".includes(c)) {
      tokens.push({ kind: "punct", text: c, ...at() });
      i++;
    } else if (c === '"') {
      const start = at();
      let j = i + 1;
      let text = "";
      while (j < source.length && source[j] !== '"') {
        if (source[j] === "\\") j++;
        text += source[j++];
      }
      if (j >= source.length) throw parseError("unterminated string", start);
      tokens.push({ kind: "string", text, ...start });
      i = j + 1;
    } else if (/[-0-9]/.test(c)) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i))!;
      tokens.push({ kind: "number", text: match[0], ...at() });
      i += match[0].length;
    } else if (/[_A-Za-z]/.test(c)) {
      const match = /^[_A-Za-z][_0-9A-Za-z]*/.exec(source.slice(i))!;
      tokens.push({ kind: "name", text: match[0], ...at() });
      i += match[0].length;
    } else throw parseError(`unexpected character "${c}"`, at());
  }
  return tokens;
}

function parseError(what: string, where: { line: number; column: number }): GraphqlFailure {
  return new GraphqlFailure([
    {
      message: `Parse error on ${what} at [${where.line}, ${where.column}]`,
      locations: [{ line: where.line, column: where.column }],
    },
  ]);
}

export function parse(source: string): Document {
  const tokens = tokenize(source);
  let p = 0;
  const end = { line: 0, column: 0 };
  const peek = () => tokens[p];
  const fail = (t: Token | undefined): never => {
    throw t ? parseError(`"${t.text}" (${t.kind.toUpperCase()})`, t) : parseError("end of input", end);
  };
  const next = () => tokens[p++] ?? fail(undefined);
  const expect = (text: string) => {
    const t = next();
    if (t.text !== text || t.kind === "string") fail(t);
    return t;
  };
  const name = () => {
    const t = next();
    if (t.kind !== "name") fail(t);
    return t.text;
  };
  const is = (text: string) => peek()?.text === text && peek()?.kind === "punct";

  const value = (): ValueNode => {
    const t = next();
    if (t.kind === "punct" && t.text === "$") return { kind: "variable", name: name() };
    if (t.kind === "string") return { kind: "literal", value: t.text };
    if (t.kind === "number") return { kind: "literal", value: Number(t.text) };
    if (t.kind === "name") {
      if (t.text === "true" || t.text === "false") return { kind: "literal", value: t.text === "true" };
      if (t.text === "null") return { kind: "literal", value: null };
      return { kind: "enum", value: t.text };
    }
    if (t.text === "[") {
      const items: ValueNode[] = [];
      while (!is("]")) items.push(value());
      expect("]");
      return { kind: "list", items };
    }
    if (t.text === "{") {
      const fields: Record<string, ValueNode> = {};
      while (!is("}")) {
        const key = name();
        expect(":");
        fields[key] = value();
      }
      expect("}");
      return { kind: "object", fields };
    }
    return fail(t);
  };
  const typeRef = (): string => {
    if (is("[")) {
      next();
      const inner = typeRef();
      expect("]");
      const bang = is("!") ? (next(), "!") : "";
      return `[${inner}]${bang}`;
    }
    const base = name();
    return is("!") ? (next(), `${base}!`) : base;
  };
  const selectionSet = (): Selection[] => {
    expect("{");
    const selections: Selection[] = [];
    while (!is("}")) {
      if (is("...")) {
        const dots = next();
        if (peek()?.kind === "name" && peek()!.text !== "on") {
          selections.push({ kind: "spread", name: name(), line: dots.line, column: dots.column });
        } else {
          let on: string | undefined;
          if (peek()?.text === "on") {
            next();
            on = name();
          }
          selections.push({ kind: "inline", ...(on ? { on } : {}), selections: selectionSet() });
        }
        continue;
      }
      const first = peek() ?? fail(undefined);
      let fieldName = name();
      let alias: string | undefined;
      if (is(":")) {
        next();
        alias = fieldName;
        fieldName = name();
      }
      const args: Record<string, ValueNode> = {};
      if (is("(")) {
        next();
        while (!is(")")) {
          const key = name();
          expect(":");
          args[key] = value();
        }
        expect(")");
      }
      selections.push({
        kind: "field",
        ...(alias ? { alias } : {}),
        name: fieldName,
        args,
        selections: is("{") ? selectionSet() : [],
        line: first.line,
        column: first.column,
      });
    }
    expect("}");
    if (selections.length === 0) fail(tokens[p - 1]);
    return selections;
  };

  const doc: Document = { operations: [], fragments: {} };
  while (p < tokens.length) {
    const t = peek()!;
    if (t.text === "{") doc.operations.push({ variables: {}, selections: selectionSet() });
    else if (t.text === "query") {
      next();
      const op: Operation = { variables: {}, selections: [] };
      if (peek()?.kind === "name") op.name = name();
      if (is("(")) {
        next();
        while (!is(")")) {
          expect("$");
          const variable = name();
          expect(":");
          op.variables[variable] = typeRef();
          if (is("=")) {
            next();
            value();
          }
        }
        expect(")");
      }
      op.selections = selectionSet();
      doc.operations.push(op);
    } else if (t.text === "fragment") {
      next();
      const fragmentName = name();
      if (name() !== "on") fail(tokens[p - 1]);
      doc.fragments[fragmentName] = { on: name(), selections: selectionSet() };
    } else fail(t);
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Schema, validation and execution

export interface FieldDef {
  /** "Discussion", "[Label]", "Int"…; a type whose name ends in "Connection" pages (first/after). */
  type: string;
  /** Argument name -> type ("Int", "String!"). */
  args?: Record<string, string>;
  /** Default: the parent's property of the field's name. */
  resolve?: (parent: Record<string, unknown>, args: Record<string, unknown>) => unknown;
}

export interface Schema {
  /** Object and interface types: field name -> definition. Anything not here is a scalar or enum. */
  types: Record<string, Record<string, FieldDef>>;
  /** Interface -> the object types that implement it (for inline fragments). */
  implementations?: Record<string, string[]>;
  /** GitHub's cap on one connection page, and on the nodes one query may ask for. */
  maxPage?: number;
  maxNodes?: number;
}

const baseType = (type: string) => type.replace(/[[\]!]/g, "");

/**
 * Validates and runs `source`; throws GraphqlFailure with GitHub's errors when it cannot. With
 * `partial`, a field below the top level whose resolver fails with NOT_FOUND only is null, its
 * errors (with their path) pushed there, and the rest runs on, as GitHub answers an alias naming
 * an issue that does not exist.
 */
export function execute(
  schema: Schema,
  source: string,
  variables: Record<string, unknown>,
  root: Record<string, unknown>,
  partial?: GraphqlError[],
): Record<string, unknown> {
  const doc = parse(source);
  if (doc.operations.length !== 1)
    throw new GraphqlFailure([{ message: "This document must contain exactly one operation" }]);
  const op = doc.operations[0]!;
  const errors = validate(schema, doc, op, variables);
  if (errors.length) throw new GraphqlFailure(errors);
  const ctx: Ctx = { schema, doc, variables, ...(partial ? { partial } : {}) };
  return selectObject(ctx, "Query", root, op.selections, []);
}

interface Ctx {
  schema: Schema;
  doc: Document;
  variables: Record<string, unknown>;
  partial?: GraphqlError[];
}

function resolveField(
  ctx: Ctx,
  resolve: () => unknown,
  path: (string | number)[],
): { value: unknown } | undefined {
  try {
    return { value: resolve() };
  } catch (err) {
    const gap =
      ctx.partial &&
      path.length > 1 &&
      err instanceof GraphqlFailure &&
      err.errors.every((e) => e.type === "NOT_FOUND");
    if (!gap) throw err;
    ctx.partial!.push(...err.errors.map((e) => ({ ...e, path })));
    return undefined;
  }
}

function typeMatches(schema: Schema, condition: string, actual: string): boolean {
  return condition === actual || (schema.implementations?.[condition] ?? []).includes(actual);
}

function validate(
  schema: Schema,
  doc: Document,
  op: Operation,
  variables: Record<string, unknown>,
): GraphqlError[] {
  const errors: GraphqlError[] = [];
  const used = new Set<string>();
  for (const [name, type] of Object.entries(op.variables)) {
    const value = variables[name];
    if (type.endsWith("!") && (value === undefined || value === null))
      errors.push({
        message: `Variable $${name} of type ${type} was provided invalid value`,
        extensions: {
          value: value ?? null,
          problems: [{ path: [], explanation: "Expected value to not be null" }],
        },
      });
  }
  const checkValue = (node: ValueNode, expected: string, where: Field) => {
    if (node.kind === "variable") {
      used.add(node.name);
      const declared = op.variables[node.name];
      if (!declared)
        errors.push({
          message: `Variable $${node.name} is used by ${op.name ?? "anonymous query"} but not declared`,
          extensions: { code: "variableNotDefined", variableName: node.name },
        });
      else if (baseType(declared) !== baseType(expected))
        errors.push({
          message: `Type mismatch on variable $${node.name} and argument ${where.name} (${declared} / ${expected})`,
          extensions: { code: "variableMismatch", variableName: node.name },
        });
    } else if (node.kind === "list") node.items.forEach((item) => checkValue(item, expected, where));
    else if (node.kind === "object")
      for (const field of Object.values(node.fields)) checkValue(field, "", where);
  };
  // Potential nodes: each connection's `first` times the pages above it, as GitHub counts them.
  let nodes = 0;
  const walk = (
    type: string,
    selections: Selection[],
    path: string[],
    multiplier: number,
    seen: Set<string>,
  ) => {
    const fields = schema.types[type];
    for (const s of selections) {
      if (s.kind === "spread") {
        const fragment = doc.fragments[s.name];
        if (!fragment) {
          errors.push({
            message: `Fragment ${s.name} was used, but not defined`,
            locations: [{ line: s.line, column: s.column }],
          });
          continue;
        }
        if (seen.has(s.name)) continue;
        if (!typeMatches(schema, fragment.on, type) && !typeMatches(schema, type, fragment.on))
          errors.push({ message: `Fragment ${s.name} on ${fragment.on} can't be spread inside ${type}` });
        walk(fragment.on, fragment.selections, path, multiplier, new Set([...seen, s.name]));
        continue;
      }
      if (s.kind === "inline") {
        walk(s.on ?? type, s.selections, path, multiplier, seen);
        continue;
      }
      if (s.name === "__typename") continue;
      const def = fields?.[s.name];
      const at = [...path, s.alias ?? s.name];
      if (!def) {
        errors.push({
          message: `Field '${s.name}' doesn't exist on type '${type}'`,
          path: at,
          locations: [{ line: s.line, column: s.column }],
          extensions: { code: "undefinedField", typeName: type, fieldName: s.name },
        });
        continue;
      }
      for (const [arg, node] of Object.entries(s.args)) {
        const expected = def.args?.[arg];
        if (!expected)
          errors.push({
            message: `Field '${s.name}' doesn't accept argument '${arg}'`,
            path: at,
            extensions: { code: "argumentNotAccepted", name: s.name, argumentName: arg },
          });
        else checkValue(node, expected, s);
      }
      for (const [arg, expected] of Object.entries(def.args ?? {}))
        if (expected.endsWith("!") && !(arg in s.args))
          errors.push({
            message: `Field '${s.name}' is missing required arguments: ${arg}`,
            path: at,
            extensions: { code: "missingRequiredArguments", name: s.name, arguments: arg },
          });
      const target = baseType(def.type);
      const isObject = !!schema.types[target];
      if (isObject && s.selections.length === 0)
        errors.push({
          message: `Field must have selections (field '${s.name}' returns ${target} but has no selections. Did you mean '${s.name} { ... }'?)`,
          path: at,
        });
      if (!isObject && s.selections.length > 0)
        errors.push({
          message: `Selections can't be made on scalars (field '${s.name}' returns ${target} but has selections [${s.selections.map((x) => (x.kind === "field" ? x.name : "...")).join(", ")}])`,
          path: at,
        });
      let below = multiplier;
      if (target.endsWith("Connection")) {
        const first = valueOf(s.args.first, variables) ?? valueOf(s.args.last, variables);
        if (typeof first === "number") {
          nodes += multiplier * first;
          below = multiplier * first;
        }
      }
      if (isObject) walk(target, s.selections, at, below, seen);
    }
  };
  walk("Query", op.selections, [], 1, new Set());
  for (const name of Object.keys(op.variables))
    if (!used.has(name))
      errors.push({
        message: `Variable $${name} is declared by ${op.name ?? "anonymous query"} but not used`,
        extensions: { code: "variableNotUsed", variableName: name },
      });
  if (errors.length === 0 && schema.maxNodes && nodes > schema.maxNodes)
    errors.push({
      type: "MAX_NODE_LIMIT_EXCEEDED",
      message: `This query requests up to ${nodes} possible nodes which exceeds the maximum limit of ${schema.maxNodes}.`,
    });
  return errors;
}

function valueOf(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case "variable":
      return variables[node.name] ?? null;
    case "literal":
      return node.value;
    case "enum":
      return node.value;
    case "list":
      return node.items.map((item) => valueOf(item, variables));
    case "object":
      return Object.fromEntries(Object.entries(node.fields).map(([k, v]) => [k, valueOf(v, variables)]));
  }
}

function selectObject(
  ctx: Ctx,
  type: string,
  value: Record<string, unknown>,
  selections: Selection[],
  path: (string | number)[],
): Record<string, unknown> {
  const actual = typeof value.__typename === "string" ? value.__typename : type;
  const out: Record<string, unknown> = {};
  for (const s of selections) {
    if (s.kind === "spread" || s.kind === "inline") {
      const fragment = s.kind === "spread" ? ctx.doc.fragments[s.name]! : s;
      const on = fragment.on ?? type;
      if (typeMatches(ctx.schema, on, actual))
        Object.assign(out, selectObject(ctx, on, value, fragment.selections, path));
      continue;
    }
    const key = s.alias ?? s.name;
    if (s.name === "__typename") {
      out[key] = actual;
      continue;
    }
    const def = ctx.schema.types[type]?.[s.name] ?? ctx.schema.types[actual]![s.name]!;
    const args = Object.fromEntries(Object.entries(s.args).map(([k, v]) => [k, valueOf(v, ctx.variables)]));
    const resolve = def.resolve;
    const resolved = resolve
      ? resolveField(ctx, () => resolve(value, args), [...path, key])
      : { value: value[s.name] };
    out[key] = resolved ? complete(ctx, def.type, resolved.value, s, [...path, key]) : null;
  }
  return out;
}

function complete(ctx: Ctx, type: string, value: unknown, field: Field, path: (string | number)[]): unknown {
  if (value === undefined || value === null) return null;
  const bare = type.replace(/!$/, "");
  if (bare.startsWith("[")) {
    const inner = bare.slice(1, -1);
    return (value as unknown[]).map((item, i) => complete(ctx, inner, item, field, [...path, i]));
  }
  if (!ctx.schema.types[bare]) return value;
  return selectObject(ctx, bare, value as Record<string, unknown>, field.selections, path);
}

/**
 * A connection over `items` as GitHub pages it: `first` (at most `max`) after an opaque cursor.
 * Throws GitHub's errors for a missing or excessive page size when nodes are asked for.
 */
export function connection(
  items: readonly Record<string, unknown>[],
  args: Record<string, unknown>,
  field: string,
  max = 100,
): Record<string, unknown> {
  const first = args.first as number | null | undefined;
  const after = args.after as string | null | undefined;
  if (first !== undefined && first !== null && (first < 0 || first > max))
    throw new GraphqlFailure([
      {
        type: "EXCESSIVE_PAGINATION",
        message: `Requesting ${first} records on the \`${field}\` connection exceeds the \`first\` limit of ${max} records.`,
      },
    ]);
  const start = after
    ? Number(
        Buffer.from(after, "base64")
          .toString("utf8")
          .replace(/^cursor:/, ""),
      ) + 1
    : 0;
  const nodes = () => {
    if (first === undefined || first === null)
      throw new GraphqlFailure([
        {
          type: "MISSING_PAGINATION_BOUNDARIES",
          message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${field}\` connection.`,
        },
      ]);
    return items.slice(start, start + first);
  };
  const cursor = (i: number) => Buffer.from(`cursor:${i}`).toString("base64");
  return {
    totalCount: items.length,
    get nodes() {
      return nodes();
    },
    get pageInfo() {
      const page = nodes();
      const last = start + page.length - 1;
      return {
        hasNextPage: start + page.length < items.length,
        endCursor: page.length ? cursor(last) : null,
        hasPreviousPage: start > 0,
        startCursor: page.length ? cursor(start) : null,
      };
    },
  };
}
