// Ref names as git's own rules take them (`git check-ref-format`), and ref names short enough to
// print: a hostile source's ref may be thousands of characters long.

/** Names longer than this are printed shortened (see shortRefName). */
const PRINTABLE = 120;
/** How much of a shortened name is kept. */
const KEPT = 80;

/** "refs/heads/aaaa…(6000 chars)": the first 80 characters and the length, for a name too long to print. */
export function shortRefName(name: string): string {
  return name.length <= PRINTABLE ? name : `${name.slice(0, KEPT)}…(${name.length} chars)`;
}

/** Any word of `text` (a git message) too long to print, shortened as shortRefName does. */
export function shortenLongWords(text: string): string {
  return text.replace(new RegExp(`[^\\s'"]{${PRINTABLE + 1},}`, "g"), (word) => shortRefName(word));
}

/**
 * Why git would refuse `name` as a full ref name (check_refname_format, without
 * --allow-onelevel or --refspec-pattern), or undefined when it takes it. A restore creates every
 * ref with git, so a name git refuses could never be restored: a backup refuses it up front.
 */
export function refNameProblem(name: string): string | undefined {
  if (!name.startsWith("refs/")) return "it is not under refs/";
  if (name === "@") return "it is @";
  if (name.endsWith("/")) return "it ends with /";
  if (name.endsWith(".")) return "it ends with .";
  if (name.includes("..")) return "it contains ..";
  if (name.includes("@{")) return "it contains @{";
  // Control characters, space and the characters git gives a meaning in revisions.
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) return `it contains ${JSON.stringify(bad[0])}`;
  for (const component of name.split("/")) {
    if (component === "") return "it has an empty component (//)";
    if (component.startsWith(".")) return "a component starts with .";
    if (component.endsWith(".lock")) return "a component ends with .lock";
  }
  return undefined;
}

/**
 * Two names of which one is a folder of the other ("refs/heads/a" and "refs/heads/a/b"): git
 * keeps refs as paths and can never hold both, so a listing with such a pair could not be
 * restored. Undefined when there is none.
 */
export function refNameClash(names: readonly string[]): [string, string] | undefined {
  const all = new Set(names);
  for (const name of names) {
    for (let slash = name.indexOf("/"); slash > 0; slash = name.indexOf("/", slash + 1)) {
      const folder = name.slice(0, slash);
      if (all.has(folder)) return [folder, name];
    }
  }
  return undefined;
}
