// Per-parent kinds read for many parents per GraphQL query: one alias `t<i>` per issue or pull
// request, each a connection paged 100 at a time; a parent's further pages go into later queries
// of the same batch. A batch's lines are handed on once every page of it is read, so a refusal
// (Unavailable, GraphqlRefused) leaves none half-read: that batch and the rest are then read
// through REST, one request per parent, which throws Unavailable when the kind is not there at all.
import { compareLines } from "../../core/metadata/order.js";
import { readEveryChild, type Line, type PerParentKind } from "./metadata-delta.js";
import { GraphqlRefused, graphqlWithGaps } from "./metadata-graphql.js";
import { Unavailable, type RepoApi } from "./metadata-http.js";

export type Node = Record<string, unknown>;

interface Connection {
  nodes?: Node[];
  pageInfo?: { hasNextPage?: boolean; endCursor?: string | null };
}

export interface BatchedKind {
  kind: PerParentKind;
  /** The query for these parents: alias `t<i>` for the i-th, its cursor in `$a<i>`. */
  query(parents: readonly { number: number }[]): string;
  /** Variables every query of the kind takes besides owner, name and the cursors. */
  variables?: Record<string, unknown>;
  /** The connection in one alias's answer; undefined when the parent is not of the kind. */
  connection(item: Node): Connection | undefined;
  /** One node as the kind's line, as REST's reader would make it. */
  line(parent: number, node: Node, what: string): Line;
}

/** Parents per query: 100 aliases of 100 nodes each stay far below GitHub's 500,000-node limit. */
export const GRAPHQL_BATCH = 100;

interface Pending {
  number: number;
  after: string | null;
}

async function readBatch(api: RepoApi, spec: BatchedKind, parents: readonly number[], what: string) {
  const [owner, name] = api.repo.split("/") as [string, string];
  const lines = new Map<number, Line[]>(parents.map((n) => [n, []]));
  let pending: Pending[] = parents.map((number) => ({ number, after: null }));
  while (pending.length > 0) {
    const variables: Record<string, unknown> = { owner, name, ...spec.variables };
    pending.forEach((p, i) => (variables[`a${i}`] = p.after));
    // A parent gone since it was listed answers null with a NOT_FOUND error on its alias: skipped.
    const data = (await graphqlWithGaps(api, spec.query(pending), variables, what)) as {
      repository?: Record<string, Node | null> | null;
    };
    if (!data.repository) throw new GraphqlRefused(`${what}: GitHub's GraphQL answer has no repository`);
    const next: Pending[] = [];
    pending.forEach((p, i) => {
      const item = data.repository![`t${i}`];
      const page = item ? spec.connection(item) : undefined;
      if (!page) return void lines.delete(p.number);
      for (const node of page.nodes ?? []) lines.get(p.number)!.push(spec.line(p.number, node, what));
      if (page.pageInfo?.hasNextPage && page.pageInfo.endCursor)
        next.push({ number: p.number, after: page.pageInfo.endCursor });
    });
    pending = next;
  }
  return parents.flatMap((n) => (lines.get(n) ?? []).sort((a, b) => compareLines(spec.kind, a, b)));
}

/** Every parent's lines of `spec.kind`, in parent order, `batch` parents per query (see above). */
export async function* readBatched(
  api: RepoApi,
  spec: BatchedKind,
  repoPath: string,
  parents: readonly number[],
  options: { batch?: number; window?: number } = {},
): AsyncGenerator<Line> {
  const what = `reading ${spec.kind} of ${api.repo}`;
  const batch = options.batch ?? GRAPHQL_BATCH;
  let at = 0;
  try {
    for (; at < parents.length; at += batch)
      yield* await readBatch(api, spec, parents.slice(at, at + batch), what);
  } catch (err) {
    if (!(err instanceof Unavailable || err instanceof GraphqlRefused)) throw err;
    yield* readEveryChild(api, spec.kind, repoPath, parents.slice(at), options.window);
  }
}
