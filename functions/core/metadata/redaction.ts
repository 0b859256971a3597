// The redaction list applied to metadata as it is read: a person on the list (by GitHub login)
// appears as "[redacted]" wherever a read path shows or restores metadata. Archives are never
// rewritten (they are immutable under retention); the list hides the person until the snapshots
// holding their data expire. Limits are in docs/SECURITY-KEYS.md.
import type { Redaction } from "../ports.js";

export const REDACTED = "[redacted]";

/** Item fields that name an item's author: when redacted, the item's own text is hidden too. */
const AUTHOR_FIELDS = ["user", "author", "uploader", "added_by", "sender", "actor", "creator"];
/** The item's text, hidden when its author is on the list. */
const AUTHORED_TEXT = ["body", "title", "body_text", "body_html", "description"];

/** The lower-case logins of a redaction list, for the functions below. */
export function redactedLogins(list: readonly Redaction[] | undefined): ReadonlySet<string> {
  return new Set((list ?? []).map((r) => r.login.toLowerCase()));
}

/**
 * One metadata line (JSONL, as stored in meta/*.jsonl) in its redacted form. Stored lines name
 * users by login (docs/FORMAT.md): any string that is a listed login becomes "[redacted]" (a label
 * or branch named like the person too: the list errs on hiding), a user object of one becomes
 * `{ "login": "[redacted]" }`, an item such a person wrote has its body and title replaced, and
 * "@login" mentions in any text become "@[redacted]". A line naming no listed login comes back
 * byte for byte.
 */
export function redactMetadataLine(line: string, logins: ReadonlySet<string>): string {
  if (!mentionsAny(line, logins)) return line;
  return JSON.stringify(redactMetadataItem(JSON.parse(line) as unknown, logins));
}

/** The same for a parsed line (any JSON value); returns a new value, never changes its input. */
export function redactMetadataItem<T>(value: T, logins: ReadonlySet<string>): T {
  if (!logins.size) return value;
  const mention = mentionPattern(logins);
  return redact(value, logins, mention) as T;
}

function redact(value: unknown, logins: ReadonlySet<string>, mention: RegExp | undefined): unknown {
  if (typeof value === "string") {
    if (isListed(value, logins)) return REDACTED;
    return mention ? value.replace(mention, `$1@${REDACTED}`) : value;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, logins, mention));
  if (value === null || typeof value !== "object") return value;
  const item = value as Record<string, unknown>;
  if (isListed(item.login, logins)) return { login: REDACTED };
  const out: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(item)) out[field] = redact(v, logins, mention);
  const byListed = AUTHOR_FIELDS.some((field) => {
    const author = item[field];
    return (
      isListed(author, logins) ||
      (typeof author === "object" &&
        author !== null &&
        isListed((author as { login?: unknown }).login, logins))
    );
  });
  if (byListed) for (const field of AUTHORED_TEXT) if (typeof out[field] === "string") out[field] = REDACTED;
  return out;
}

function isListed(login: unknown, logins: ReadonlySet<string>): boolean {
  return typeof login === "string" && logins.has(login.toLowerCase());
}

function mentionsAny(text: string, logins: ReadonlySet<string>): boolean {
  if (!logins.size) return false;
  const lower = text.toLowerCase();
  for (const login of logins) if (lower.includes(login)) return true;
  return false;
}

/** "@login" as a whole word (GitHub logins: letters, digits, single hyphens). */
function mentionPattern(logins: ReadonlySet<string>): RegExp | undefined {
  if (!logins.size) return undefined;
  const names = [...logins].map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  return new RegExp(`(^|[^A-Za-z0-9-])@(?:${names})(?![A-Za-z0-9-])`, "gi");
}
