// A snapshot's GitHub metadata as text for people: the lists as tables, the settings as key/value
// tables, each kind's state. One issue or pull request is a conversation: metadata-thread.ts.
import type { KindState, MetadataLine, ShowResult } from "../core/metadata/show.js";
import { bytes, table } from "./format.js";

/** The line naming the snapshot a `show` read. */
export function renderHeader(result: ShowResult): string {
  const { snapshot, chain } = result;
  const replay = chain.length > 1 ? `, replayed over a chain of ${chain.length}` : "";
  return `${result.repo} snapshot ${snapshot.id} (taken ${snapshot.takenAt}, ${snapshot.kind}${replay})`;
}

export function renderView(result: Exclude<ShowResult, { what: "issue" | "pull" }>): string {
  switch (result.what) {
    case "issues":
      return listed(result.state, "issues", result.items, (items) =>
        table(
          [">#", "state", "title", "author", ">comments", "updated"],
          items.map((i) => [
            String(i.number),
            i.state === "closed" && i.state_reason === "not_planned" ? "closed: not planned" : i.state,
            short(i.title),
            who(i.user),
            String(i.comments),
            i.updated_at,
          ]),
        ),
      );
    case "pulls":
      return listed(result.state, "pull requests", result.items, (items) =>
        table(
          [">#", "state", "title", "author", "base <- head"],
          items.map((p) => [
            String(p.number),
            p.merged_at ? "merged" : p.draft && p.state === "open" ? "draft" : p.state,
            short(p.title),
            who(p.user),
            `${p.base} <- ${p.head}`,
          ]),
        ),
      );
    case "releases":
      return listed(result.state, "releases", result.items, (items) =>
        table(
          ["tag", "name", "published", "flags", "asset", ">size"],
          items.flatMap((r) => {
            const flags = [r.draft && "draft", r.prerelease && "prerelease"].filter(Boolean).join(", ");
            const release = [r.tag_name, r.name ?? "-", r.published_at ?? "-", flags];
            if (!r.assets.length) return [[...release, "(no assets)", ""]];
            return r.assets.map((a, i) => [
              ...(i === 0 ? release : ["", "", "", ""]),
              a.stored ? a.name : `${a.name} (${a.state}, not stored)`,
              bytes(a.size),
            ]);
          }),
        ),
      );
    case "labels":
      return listed(result.state, "labels", result.items, (items) =>
        table(
          ["name", "color", "description"],
          items.map((l) => [l.name, `#${l.color}`, l.description ?? ""]),
        ),
      );
    case "milestones":
      return listed(result.state, "milestones", result.items, (items) =>
        table(
          [">#", "title", "state", ">open", ">closed", "due"],
          items.map((m) => [
            String(m.number),
            short(m.title),
            m.state,
            String(m.open_issues),
            String(m.closed_issues),
            m.due_on ?? "-",
          ]),
        ),
      );
    case "settings":
      return renderSettings(result.settings);
    case "kinds":
      return table(
        ["kind", "state", ">items", "reason"],
        result.kinds.map((k) => [
          k.kind,
          k.state.state,
          k.items === undefined ? "" : String(k.items),
          k.state.state === "unavailable"
            ? reason(k.state)
            : k.state.state === "deferred"
              ? k.state.reason
              : "",
        ]),
      );
  }
}

/** A list's table and a count, or why the snapshot has no such list. */
function listed<T>(state: KindState, noun: string, items: T[], render: (items: T[]) => string): string {
  const missing = absent(state, noun);
  if (missing) return missing;
  if (!items.length) return `No ${noun}.`;
  return `${render(items)}\n\n${items.length} ${noun}`;
}

/** Why a kind has nothing to show, or undefined when it is present. */
export function absent(state: KindState, noun: string): string | undefined {
  if (state.state === "unavailable") return `${cap(noun)}: unavailable in this snapshot (${reason(state)})`;
  if (state.state === "not-collected") return `${cap(noun)}: not collected in this snapshot`;
  if (state.state === "deferred")
    return `${cap(noun)}: deferred in this snapshot (${state.reason}); a later snapshot reads them`;
  return undefined;
}

export function reason(state: Extract<KindState, { state: "unavailable" }>): string {
  return state.status ? `${state.status}: ${state.reason}` : state.reason;
}

function renderSettings(settings: Extract<ShowResult, { what: "settings" }>["settings"]): string {
  const out: string[] = [];
  const repository = settings.repository;
  out.push(
    "Repository",
    absent(repository.state, "repository settings") ?? keyValues(repository.items[0] ?? {}),
  );
  const protections = settings["branch-protections"];
  out.push("", "Branch protection");
  out.push(
    absent(protections.state, "branch protection") ??
      (protections.items.length
        ? protections.items.map((p) => `${String(p.branch)}\n${keyValues(p, ["branch"])}`).join("\n\n")
        : "No protected branches."),
  );
  const rulesets = settings.rulesets;
  out.push("", "Rulesets");
  out.push(
    absent(rulesets.state, "rulesets") ??
      (rulesets.items.length
        ? rulesets.items
            .map((r) => `${String(r.name)} (id ${String(r.id)})\n${keyValues(r, ["name", "id"])}`)
            .join("\n\n")
        : "No rulesets."),
  );
  const autolinks = settings.autolinks;
  out.push("", "Autolinks");
  out.push(
    absent(autolinks.state, "autolinks") ??
      (autolinks.items.length
        ? table(
            ["prefix", "url template", "alphanumeric"],
            autolinks.items.map((a) => [
              String(a.key_prefix),
              String(a.url_template),
              String(a.is_alphanumeric),
            ]),
          )
        : "No autolinks."),
  );
  return out.join("\n");
}

/** A line's fields as a two-column table; nested objects as dotted keys, lists joined. */
function keyValues(line: MetadataLine, skip: string[] = []): string {
  const rows: string[][] = [];
  const walk = (value: unknown, key: string) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value);
      if (!entries.length) rows.push([key, "{}"]);
      for (const [k, v] of entries) walk(v, key ? `${key}.${k}` : k);
    } else if (Array.isArray(value)) {
      const simple = value.every((v) => v === null || typeof v !== "object");
      rows.push([key, value.length ? (simple ? value.join(", ") : JSON.stringify(value)) : "(none)"]);
    } else rows.push([key, value === null ? "null" : String(value)]);
  };
  for (const [k, v] of Object.entries(line)) if (!skip.includes(k)) walk(v, k);
  return table(["setting", "value"], rows);
}

export function who(user: unknown): string {
  return typeof user === "string" ? user : "(deleted user)";
}

/** A title cut to fit a table row; --json has it whole. */
function short(text: string, max = 72): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
