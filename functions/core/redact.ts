// The one scrubber of credentials in text meant for people and logs: URL user info (every form git
// accepts: scheme://user:pass@, scheme://token@, backslashes, scp-style user:pass@host:path),
// credential query parameters, GitHub token shapes, JWTs, private key blocks and Authorization /
// Bearer values. Applied where errors are worded (describeError), logged (log.ts), audited and
// shown as progress. Also: which credential form a URL holds, so config and CLI can refuse it.

import type { AuditLog } from "./ports.js";

const MASK = "***";

const TOKEN_QUERY =
  "access_token|private_token|token|password|passwd|pwd|secret|client_secret|api_key|apikey|key|sig|signature|auth";

type Replacement = string | ((match: string, ...groups: string[]) => string);

const RULES: [RegExp, Replacement][] = [
  // Private key blocks first: their body has no other shape to catch.
  [
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    `${MASK}PRIVATE KEY${MASK}`,
  ],
  // scheme://userinfo@ and scheme:\\userinfo@ (git and browsers read backslashes as slashes).
  // An ssh user name alone (ssh://git@host) is not a secret and stays.
  [
    /\b([a-z][a-z0-9+.-]*:[\\/]{1,2})([^\\/\s@"'<>]*)@/gi,
    (match, lead, userinfo) =>
      /^(ssh|git\+ssh|ssh\+git):\/\/$/i.test(lead) && !userinfo.includes(":") ? match : `${lead}${MASK}@`,
  ],
  // scp-style user:password@host:path (a user alone, git@host:repo, is not a secret).
  [/(^|[\s"'(=])[^\s@:/\\"'(=]+:[^\s@/\\"']+@([A-Za-z0-9.-]+:)/g, `$1${MASK}@$2`],
  [new RegExp(`([?&;](?:${TOKEN_QUERY})=)[^&#\\s"'<>]+`, "gi"), `$1${MASK}`],
  [/\b(authorization\s*[:=]\s*)(?:(basic|bearer|token|digest)\s+)?[^\s"',;]+/gi, `$1$2 ${MASK}`],
  [/\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{16,}/gi, `$1 ${MASK}`],
  [/\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})/g, MASK],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, MASK],
];

/** `text` with every credential it holds replaced by "***". Idempotent. */
export function scrub(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES)
    out = out.replace(pattern, replacement as (match: string, ...groups: string[]) => string);
  // "Authorization:  ***" when no scheme was given: one space, not two.
  return out.replace(/(authorization\s*[:=]\s*) +\*\*\*/gi, `$1${MASK}`);
}

/**
 * The credential form a remote URL holds, named for the person who wrote it, or undefined when it
 * holds none. A plain user name in an ssh or scp URL (git@github.com:org/repo) is not a credential.
 */
export function credentialForm(url: string): string | undefined {
  const u = url.trim();
  if (/^[a-z][a-z0-9+.-]*:(\\|\/\\|\\\/)/i.test(u) && /@/.test(u))
    return "user info after a backslash (scheme:\\\\user@host)";
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)@/i.exec(u);
  if (scheme) {
    const [, proto, userinfo] = scheme as unknown as [string, string, string];
    if (userinfo.includes(":")) return "user:password@ in the URL";
    if (!/^(ssh|git\+ssh|ssh\+git)$/i.test(proto))
      return "a user name or token before @ (https://token@host)";
  }
  if (new RegExp(`[?&;](?:${TOKEN_QUERY})=`, "i").test(u))
    return "a credential in the query string (?access_token=…)";
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u) && /^[^\s@:/\\]+:[^\s@/\\]+@[A-Za-z0-9.-]+:/.test(u))
    return "user:password@host: (scp form)";
  if (/\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})/.test(u)) return "a GitHub token";
  return undefined;
}

/** The refusal for a URL that holds credentials, naming where it was given and the form found. */
export function credentialRefusal(where: string, url: string): string | undefined {
  const form = credentialForm(url);
  if (!form) return undefined;
  return (
    `${where}: remote URLs must not hold credentials (found ${form}): give git the credential ` +
    `another way (a credential helper, or the GitHub App's installation token)`
  );
}

/** `value` with every string in it scrubbed (objects and arrays copied, other values kept). */
export function scrubDeep<T>(value: T): T {
  if (typeof value === "string") return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v)) as T;
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v)])) as T;
  }
  return value;
}

/** An AuditLog whose entries are scrubbed before they are stored (the wrapper changes only that). */
export function scrubbingAudit(audit: AuditLog): AuditLog {
  return { record: (event) => audit.record(scrubDeep(event)) };
}
