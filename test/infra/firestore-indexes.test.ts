// The Firestore indexes infra/firestore.tf declares, against the queries the code makes.
//
// In production Firestore refuses a query that no index serves ("The query requires an
// index"); the emulator the integration tests use serves every query without one, so no other
// test would notice a missing index before a deployment does. Here:
//   1. the code that talks to Firestore is read, and every call that shapes a query (where,
//      orderBy, collectionGroup, ...) must be one of those QUERIES lists;
//   2. from QUERIES, the indexes production needs are derived with Firestore's rules;
//   3. infra/firestore.tf must declare exactly those: a query added without its index fails,
//      and so does an index (or field override, or TTL policy) kept for a query that is gone.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { blocks, loadInfra, resourcesOf, type Body, type TerraformDoc } from "./terraform-model.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const infra = await loadInfra(path.join(ROOT, "infra"));

type Direction = "asc" | "desc";
type Scope = "COLLECTION" | "COLLECTION_GROUP";

interface Query {
  /** Which code runs it, and what for. */
  what: string;
  /** The collection id queried (the last segment of its path). */
  collection: string;
  scope: Scope;
  filters: { field: string; op: string }[];
  /** In order; "__name__" is the document id (FieldPath.documentId()). */
  orderBy: [string, Direction][];
}

/**
 * Every query the code makes beyond reading documents by path. Change this with the code: the
 * source scan below fails until the two agree, and the index comparison then tells what
 * infra/firestore.tf must declare.
 */
const QUERIES: Query[] = [
  {
    what: "latest, list and atOrBefore (firestore-index.ts): one repository's snapshots, newest first, optionally up to a time",
    collection: "snapshots",
    scope: "COLLECTION",
    filters: [{ field: "takenAtTime", op: "<=" }],
    orderBy: [
      ["takenAtTime", "desc"],
      ["__name__", "desc"],
    ],
  },
  {
    what: "repos (firestore-index.ts): every repository document, with one field selected",
    collection: "repos",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  {
    what: "attempts (firestore-index.ts): every repository's latest backup attempt",
    collection: "attempts",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  ...["repos", "attempts", "repoRemovals"].map((collection): Query => ({
    what: `listAll and attempts' warm read (firestore-warm-read.ts): the ${collection} documents changed since the last read`,
    collection,
    scope: "COLLECTION",
    filters: [{ field: "changedAt", op: ">" }],
    orderBy: [],
  })),
  {
    what: "openIncidents (firestore-alert-ledger.ts): one channel's open incidents, a range of keys by prefix",
    collection: "alertIncidents",
    scope: "COLLECTION",
    filters: [
      { field: "key", op: ">=" },
      { field: "key", op: "<" },
    ],
    orderBy: [],
  },
  {
    what: "repositoriesNamed (firestore-index.ts): the registry records that answer to a name",
    collection: "repositories",
    scope: "COLLECTION",
    filters: [{ field: "names", op: "array-contains" }],
    orderBy: [],
  },
  {
    what: "stored (firestore-audit-log.ts): every audit chain's head",
    collection: "auditChains",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  {
    what: "stored (firestore-audit-log.ts): one chain's entries in order, a page at a time",
    collection: "entries",
    scope: "COLLECTION",
    filters: [],
    orderBy: [["__name__", "asc"]],
  },
  {
    what: "entriesSince (firestore-audit-log.ts): every chain's entries of some actions since a moment, for the status page's charts",
    collection: "entries",
    scope: "COLLECTION_GROUP",
    filters: [
      { field: "action", op: "in" },
      { field: "at", op: ">=" },
    ],
    orderBy: [],
  },
  {
    what: "remove (firestore-index.ts): whether a repository has snapshots besides the one removed",
    collection: "snapshots",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  {
    what: "listMany (firestore-index.ts): every repository document whole, each with its snapshots' summaries, for health",
    collection: "repos",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  {
    what: "RepoSummaries.read (firestore-repo-summaries.ts): while repository documents lack summaries (an index from an earlier version), every snapshot of the database at once, as summaries (a field mask)",
    collection: "snapshots",
    scope: "COLLECTION_GROUP",
    filters: [],
    orderBy: [],
  },
  {
    what: "RepoSummaries.rebuild (firestore-repo-summaries.ts): one repository's snapshots, as summaries (a field mask), for a repository document that has none yet",
    collection: "snapshots",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  {
    what: "forgetLayer (firestore-layers.ts): whether a snapshot still names the layer",
    collection: "snapshots",
    scope: "COLLECTION",
    filters: [{ field: "layers", op: "array-contains" }],
    orderBy: [],
  },
  {
    what: "forgetLayer (firestore-layers.ts): whether another layer's replacedBy still names it",
    collection: "layers",
    scope: "COLLECTION",
    filters: [{ field: "replacedBy", op: "array-contains" }],
    orderBy: [],
  },
  {
    what: "lastDrills (firestore-drills.ts): the newest drill of every repository, read whole",
    collection: "lastDrills",
    scope: "COLLECTION",
    filters: [],
    orderBy: [],
  },
  {
    what: "drillsSince (firestore-drills.ts): the drills of a time window, for the status page's chart",
    collection: "drills",
    scope: "COLLECTION",
    filters: [{ field: "at", op: ">=" }],
    orderBy: [],
  },
  {
    what: "forgetDrills (firestore-drills.ts): every drill of a forgotten repository",
    collection: "drills",
    scope: "COLLECTION",
    filters: [{ field: "repo", op: "==" }],
    orderBy: [],
  },
  {
    what: "commitFold (firestore-layers.ts): the lineage's snapshots that build on another (parentId)",
    collection: "snapshots",
    scope: "COLLECTION",
    filters: [{ field: "parentId", op: ">" }],
    orderBy: [],
  },
];

/**
 * TTL policies the code relies on: "collection.field". Webhook delivery ids (firestore-delivery-
 * log.ts) expire by themselves; leases expire by their expiresAt, checked when taken.
 */
const TTL_FIELDS: string[] = ["deliveries.expiresAt"];

// --- 1. The queries in the code ------------------------------------------------------------

/** Every .ts file under functions/ that uses the Firestore SDK, path -> text. */
function firestoreSources(): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(file, "utf8");
        if (text.includes("@google-cloud/firestore")) found[path.relative(ROOT, file)] = text;
      }
    }
  };
  walk(path.join(ROOT, "functions"));
  return found;
}

/** Calls that decide which index a query needs. */
const SHAPING = /\.(where|orderBy|collectionGroup|findNearest|aggregate|count|or|and)\s*\(/g;

/** Each query-shaping call in `text`, as "where takenAtTime <=", "orderBy __name__ desc", ... */
function shapingCalls(text: string): string[] {
  const calls: string[] = [];
  for (const m of text.matchAll(SHAPING)) {
    const method = m[1] as string;
    const args = splitArgs(text, (m.index ?? 0) + m[0].length);
    const first = fieldOf(args[0]);
    if (method === "where") calls.push(`where ${first} ${literal(args[1]) ?? `<${args[1]}>`}`);
    else if (method === "orderBy") calls.push(`orderBy ${first} ${literal(args[1]) ?? "asc"}`);
    else if (method === "collectionGroup") calls.push(`collectionGroup ${first}`);
    else calls.push(`${method}(${args.join(", ")})`); // not modelled: fails the comparison, by design
  }
  return calls;
}

/** What QUERIES says those calls are. */
function listedCalls(queries: Query[]): string[] {
  return queries.flatMap((q) => [
    ...q.filters.map((f) => `where ${f.field} ${f.op}`),
    ...q.orderBy.map(([field, direction]) => `orderBy ${field} ${direction}`),
    ...(q.scope === "COLLECTION_GROUP" ? [`collectionGroup ${q.collection}`] : []),
  ]);
}

/** The top-level, comma-separated arguments of the call whose "(" ends just before `from`. */
function splitArgs(text: string, from: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = "";
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      current += c;
      if (c === quote && text[i - 1] !== "\\") quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    if (c === "(" || c === "[" || c === "{") depth++;
    if (c === ")" || c === "]" || c === "}") {
      if (depth === 0) break;
      depth--;
    }
    if (c === "," && depth === 0) {
      args.push(current.trim());
      current = "";
    } else {
      current += c;
    }
  }
  if (current.trim()) args.push(current.trim());
  return args;
}

function literal(arg: string | undefined): string | undefined {
  return /^(["'])(.*)\1$/.exec(arg ?? "")?.[2];
}

function fieldOf(arg: string | undefined): string {
  if (/^FieldPath\.documentId\(\)$/.test(arg ?? "")) return "__name__";
  return literal(arg) ?? `<${arg}>`;
}

/** Collection ids the code names (`.collection("x")`). */
function collectionsOf(sources: Record<string, string>): string[] {
  return [
    ...new Set(
      Object.values(sources).flatMap((t) =>
        [...t.matchAll(/\.collection\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!),
      ),
    ),
  ].sort();
}

// --- 2. The indexes those queries need (Firestore's rules) --------------------------------

const EQUALITY = ["==", "in"];
const INEQUALITY = ["<", "<=", ">", ">=", "!=", "not-in"];

interface Needed {
  /** "collection scope field ORDER, field ORDER" */
  composites: string[];
  /** Single-field indexes beyond the automatic ones: "collection.field scope ORDER". */
  fieldIndexes: string[];
}

function neededIndexes(queries: Query[]): Needed {
  const composites = new Set<string>();
  const fieldIndexes = new Set<string>();
  for (const q of queries) {
    // A lone array-contains on a collection is served by the automatic array index of its field.
    const arrayOnly = q.filters.length === 1 && q.filters[0]!.op === "array-contains" && !q.orderBy.length;
    if (arrayOnly && q.scope === "COLLECTION") continue;
    for (const f of q.filters) {
      if (![...EQUALITY, ...INEQUALITY].includes(f.op))
        throw new Error(`${q.what}: no rule for ${f.op} here yet`);
    }
    const order = [...q.orderBy];
    // The document id, last and in the direction of the field before it, is part of every index.
    const last = order[order.length - 1];
    if (last?.[0] === "__name__" && last[1] === (order[order.length - 2]?.[1] ?? "asc")) order.pop();
    // An inequality field not ordered explicitly is ordered ascending after the others.
    for (const f of q.filters) {
      if (INEQUALITY.includes(f.op) && !order.some(([field]) => field === f.field))
        order.push([f.field, "asc"]);
    }
    const equalities = [
      ...new Set(q.filters.filter((f) => EQUALITY.includes(f.op)).map((f) => f.field)),
    ].filter((field) => !order.some(([o]) => o === field));
    const fields: [string, Direction][] = [
      ...equalities.map((f): [string, Direction] => [f, "asc"]),
      ...order,
    ];
    const upper = (d: Direction): string => (d === "asc" ? "ASCENDING" : "DESCENDING");

    if (fields.length === 0) continue; // served by the built-in document-id index
    if (fields.length === 1) {
      // Automatic single-field indexes exist in both directions, for collection queries only.
      const [field, direction] = fields[0]!;
      if (q.scope === "COLLECTION_GROUP")
        fieldIndexes.add(`${q.collection}.${field} COLLECTION_GROUP ${upper(direction)}`);
      continue;
    }
    // Equalities alone on a collection are served by merging single-field indexes.
    if (order.length === 0 && q.scope === "COLLECTION") continue;
    composites.add(`${q.collection} ${q.scope} ${fields.map(([f, d]) => `${f} ${upper(d)}`).join(", ")}`);
  }
  return { composites: [...composites].sort(), fieldIndexes: [...fieldIndexes].sort() };
}

// --- 3. What infra/firestore.tf declares -----------------------------------------------------

interface Declared extends Needed {
  /** Fields whose automatic indexing is overridden: "collection.field". */
  overriddenFields: string[];
  ttlFields: string[];
}

function declaredIndexes(doc: TerraformDoc): Declared {
  const composites = resourcesOf(doc, "google_firestore_index").map(({ body }) => {
    const fields = blocks(body, "fields").map((f) => `${f["field_path"]} ${f["order"] ?? f["array_config"]}`);
    return `${body["collection"]} ${body["query_scope"] ?? "COLLECTION"} ${fields.join(", ")}`;
  });
  const fieldIndexes: string[] = [];
  const overriddenFields: string[] = [];
  const ttlFields: string[] = [];
  for (const { body } of resourcesOf(doc, "google_firestore_field")) {
    const name = `${body["collection"]}.${body["field"]}`;
    if (blocks(body, "ttl_config").length > 0) ttlFields.push(name);
    const config: Body | undefined = blocks(body, "index_config")[0];
    if (config === undefined) continue; // automatic indexing left as it is
    overriddenFields.push(name);
    for (const index of blocks(config, "indexes")) {
      // Restating the automatic collection-scope indexes keeps collection queries working.
      if (index["query_scope"] !== "COLLECTION_GROUP") continue;
      fieldIndexes.push(`${name} COLLECTION_GROUP ${index["order"] ?? index["array_config"]}`);
    }
  }
  return {
    composites: composites.sort(),
    fieldIndexes: fieldIndexes.sort(),
    overriddenFields: overriddenFields.sort(),
    ttlFields: ttlFields.sort(),
  };
}

/** Problems between the indexes `queries` need and those `doc` declares. */
function indexProblems(doc: TerraformDoc, queries: Query[]): string[] {
  const needed = neededIndexes(queries);
  const declared = declaredIndexes(doc);
  const neededFields = [...new Set(needed.fieldIndexes.map((i) => i.split(" ")[0]!))];
  const diff = (what: string, want: string[], have: string[]): string[] => [
    ...want.filter((x) => !have.includes(x)).map((x) => `missing ${what}: ${x}`),
    ...have.filter((x) => !want.includes(x)).map((x) => `${what} no query needs: ${x}`),
  ];
  const problems = [
    ...diff("composite index", needed.composites, declared.composites),
    ...diff("collection-group field index", needed.fieldIndexes, declared.fieldIndexes),
    ...diff("field override", neededFields, declared.overriddenFields),
    ...diff("TTL policy", TTL_FIELDS, declared.ttlFields),
  ];
  // An override replaces the automatic indexes: it must restate both collection-scope ones.
  for (const { body } of resourcesOf(doc, "google_firestore_field")) {
    const config = blocks(body, "index_config")[0];
    if (!config) continue;
    const scoped = blocks(config, "indexes").filter(
      (i) => (i["query_scope"] ?? "COLLECTION") === "COLLECTION",
    );
    const orders = scoped.map((i) => i["order"]).sort();
    if (JSON.stringify(orders) !== '["ASCENDING","DESCENDING"]')
      problems.push(
        `${body["collection"]}.${body["field"]}: the override drops automatic collection indexes`,
      );
  }
  return problems;
}

// --- The tests ------------------------------------------------------------------------------

describe("Firestore indexes match the queries the code makes", () => {
  const sources = firestoreSources();

  it("reads the code that talks to Firestore", () => {
    expect(Object.keys(sources)).toContain("functions/adapters/gcp/firestore-index.ts");
    expect(collectionsOf(sources)).toEqual([
      "alertIncidents",
      "attempts",
      "auditChains",
      "classCheckpoints",
      "dataKeys",
      "deliveries",
      "drills",
      "entries",
      "lastDrills",
      "layerState",
      "layers",
      "leases",
      "redactions",
      "repoRemovals",
      "repos",
      "repositories",
      "repositoryKeys",
      "restores",
      "snapshots",
      "steps",
    ]);
  });

  it("every query-shaping call in the code is one QUERIES lists, and every listed one is in the code", () => {
    const inCode = Object.values(sources).flatMap(shapingCalls);
    expect([...new Set(inCode)].sort()).toEqual([...new Set(listedCalls(QUERIES))].sort());
  });

  it("QUERIES names only collections the code uses", () => {
    const used = collectionsOf(sources);
    expect(QUERIES.map((q) => q.collection).filter((c) => !used.includes(c))).toEqual([]);
  });

  it("infra/firestore.tf declares exactly the indexes those queries need", () => {
    expect(indexProblems(infra.doc, QUERIES)).toEqual([]);
  });

  it("needs one composite index today (the audit trail's recent window), and says so", () => {
    expect(neededIndexes(QUERIES)).toEqual({
      composites: ["entries COLLECTION_GROUP action ASCENDING, at ASCENDING"],
      fieldIndexes: [],
    });
    expect(infra.sources["firestore.tf"]).toMatch(/no field override is declared/);
    expect(infra.sources["firestore.tf"]).toMatch(/The one composite index,\s+# audit_recent/);
  });
});

describe("the index check catches drift", () => {
  const withResource = (type: string, name: string, body: Body): TerraformDoc => {
    const doc = structuredClone(infra.doc);
    (doc.resource[type] ??= {})[name] = [body];
    return doc;
  };

  it("a composite index no query needs (the old status/takenAt one)", () => {
    const doc = withResource("google_firestore_index", "snapshots_by_status_taken_at", {
      collection: "snapshots",
      query_scope: "COLLECTION",
      fields: [
        { field_path: "status", order: "ASCENDING" },
        { field_path: "takenAt", order: "DESCENDING" },
      ],
    });
    expect(indexProblems(doc, QUERIES)).toEqual([
      "composite index no query needs: snapshots COLLECTION status ASCENDING, takenAt DESCENDING",
    ]);
  });

  it("a TTL policy on a collection nothing writes (deliveries)", () => {
    const doc = withResource("google_firestore_field", "deliveries_expire_at", {
      collection: "deliveries",
      field: "expireAt",
      ttl_config: [{}],
      index_config: [{}],
    });
    expect(indexProblems(doc, QUERIES)).toContain("TTL policy no query needs: deliveries.expireAt");
  });

  it("a new query that needs a composite index infra/firestore.tf lacks", () => {
    const queries: Query[] = [
      ...QUERIES,
      {
        what: "committed snapshots of a repo, newest first",
        collection: "snapshots",
        scope: "COLLECTION",
        filters: [{ field: "status", op: "==" }],
        orderBy: [["takenAtTime", "desc"]],
      },
    ];
    expect(indexProblems(infra.doc, queries)).toEqual([
      "missing composite index: snapshots COLLECTION status ASCENDING, takenAtTime DESCENDING",
    ]);
  });

  it("a collection-group range query, which needs a field override", () => {
    const queries: Query[] = [
      {
        what: "expired snapshots of every repository",
        collection: "snapshots",
        scope: "COLLECTION_GROUP",
        filters: [{ field: "expiresAt", op: "<" }],
        orderBy: [],
      },
    ];
    expect(indexProblems(infra.doc, [...QUERIES, ...queries])).toEqual([
      "missing collection-group field index: snapshots.expiresAt COLLECTION_GROUP ASCENDING",
      "missing field override: snapshots.expiresAt",
    ]);
  });

  it("a query added to the code but not to QUERIES", () => {
    const code =
      'this.paths.snapshots(repo).where("status", "==", "committed").orderBy("takenAtTime", "desc")';
    const listed = listedCalls(QUERIES);
    expect(shapingCalls(code).filter((c) => !listed.includes(c))).toEqual(["where status =="]);
  });

  it("a query shape this check cannot model yet", () => {
    const code = 'db.collectionGroup("snapshots").where(Filter.or(a, b)).count()';
    expect(shapingCalls(code)).toEqual([
      "collectionGroup snapshots",
      "where <Filter.or(a, b)> <undefined>",
      "or(a, b)",
      "count()",
    ]);
  });
});
