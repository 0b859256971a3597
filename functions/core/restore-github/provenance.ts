// The provenance header every recreated item and comment starts with: GitHub makes the App the
// author and stamps the restore's time, so the original author, date and link are written at the
// top, after a marker a resumed restore finds the item by. The header ends at the first blank
// line; everything after it is the original body, unchanged.

const MARKER = "<!-- infinity-backup restored";
/** GitHub refuses a body longer than this (characters). */
const MAX_BODY = 65_536;

export interface Provenance {
  /** What it was: "issue", "pull", "comment", "review", "review-comment", "release", "placeholder". */
  kind: string;
  /** The source repository, "owner/name". */
  source: string;
  /** The original number or id. */
  id: number | string;
  author?: string | null;
  /** ISO-8601: when it was written. */
  at?: string | null;
  /** Where it was on the web (a link). */
  url?: string;
  /** One-line notes a person should see (what could not be kept as it was). */
  notes?: string[];
}

/** The marker line of an item: unique per source item, found again in the target by a resume. */
export function provenanceMarker(kind: string, source: string, id: number | string): string {
  return `${MARKER} ${kind} ${source}#${id} -->`;
}

/** The body to write: the header, a blank line, the original body (truncated only past GitHub's limit). */
export function withProvenance(p: Provenance, body: string | null | undefined): string {
  const who = p.author ? `@${p.author}` : "a deleted user";
  const lines = [
    provenanceMarker(p.kind, p.source, p.id),
    `> Originally by ${who}${p.at ? ` on ${p.at}` : ""}${p.url ? `: ${p.url}` : ""}`,
    ...(p.notes ?? []).map((note) => `> ${note.replace(/\s*\n\s*/g, " ")}`),
  ];
  const header = lines.join("\n");
  const original = body ?? "";
  if (header.length + 2 + original.length <= MAX_BODY) return `${header}\n\n${original}`;
  const note = "> The original text was longer than GitHub takes; it is cut here, and whole in the backup.";
  const room = MAX_BODY - header.length - note.length - 3;
  return `${header}\n${note}\n\n${original.slice(0, Math.max(0, room))}`;
}

/**
 * The original's reactions as a header line ("Reactions: :+1: 2, :heart: 1"), or none: the App can
 * react only as itself, once per kind, so the counts are written instead of faked.
 */
export function reactionsNote(counts: Record<string, number> | undefined): string[] {
  const kinds = Object.entries(counts ?? {}).filter(([kind, n]) => kind !== "total_count" && n > 0);
  return kinds.length ? [`Reactions: ${kinds.map(([kind, n]) => `:${kind}: ${n}`).join(", ")}`] : [];
}

/** The original body of a restored text (the text itself when it has no provenance header). */
export function stripProvenance(body: string | null | undefined): string {
  const text = body ?? "";
  if (!text.startsWith(MARKER)) return text;
  const end = text.indexOf("\n\n");
  return end === -1 ? "" : text.slice(end + 2);
}

/** Whether `body` was written by a restore of that source item. */
export function hasMarker(body: string | null | undefined, marker: string): boolean {
  return !!body && body.startsWith(marker);
}
