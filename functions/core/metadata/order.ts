// The order of lines in a kind's file and how a chain's files of one kind add up: pure functions a
// collector and a reader share.
import { KIND_KEY, type MetadataKind } from "./kinds.js";

type Line = Record<string, unknown>;

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares two lines of `kind` by its key fields (KIND_KEY). */
export function compareLines(kind: MetadataKind, a: Line, b: Line): number {
  for (const field of KIND_KEY[kind]) {
    const order = compareValues(a[field], b[field]);
    if (order !== 0) return order;
  }
  return 0;
}

/** The identity of a line of `kind`, as one string. */
export function lineKey(kind: MetadataKind, line: Line): string {
  return JSON.stringify(KIND_KEY[kind].map((field) => line[field] ?? null));
}

/** The lines sorted by key, one per key: a repeated key keeps its last occurrence. */
export function sortedUnique<T extends Line>(kind: MetadataKind, lines: Iterable<T>): T[] {
  const byKey = new Map<string, T>();
  for (const line of lines) byKey.set(lineKey(kind, line), line);
  return [...byKey.values()].sort((a, b) => compareLines(kind, a, b));
}

/**
 * A kind's state after a chain, given each snapshot's lines of it oldest first, with the snapshot's
 * state of the kind: "full" starts over, "delta" overlays by key, "unchanged" keeps, and
 * "unavailable" forgets (the repository could not say; the next collection starts over), and
 * "deferred" keeps, like "unchanged" (a later collection reads what changed meanwhile).
 */
export function overlay<T extends Line>(
  kind: MetadataKind,
  chain: readonly {
    state: "full" | "delta" | "unchanged" | "unavailable" | "deferred";
    lines?: readonly T[];
  }[],
): T[] | undefined {
  let state: T[] | undefined;
  for (const link of chain) {
    if (link.state === "full") state = [...(link.lines ?? [])];
    else if (link.state === "delta") state = [...(state ?? []), ...(link.lines ?? [])];
    else if (link.state === "unavailable") state = undefined;
  }
  return state && sortedUnique(kind, state);
}
