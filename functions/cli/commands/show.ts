// `infinity-backup show`: what a snapshot holds of a repository's GitHub metadata (issues, pull
// requests, releases, labels, milestones, settings, each kind's state, or one issue or pull request
// with its conversation), read from the archive chain without restoring anything.
import { UserInputError } from "../../core/errors.js";
import { orgOfRepo } from "../../core/ids.js";
import { ORG_VIEWS, showOrg, type OrgView } from "../../core/metadata/show-org.js";
import { SHOW_LISTS, showMetadata, type ShowWhat } from "../../core/metadata/show.js";
import { EXIT, type Context } from "../context.js";
import { renderHeader, renderView } from "../metadata-text.js";
import { renderThread } from "../metadata-thread.js";

const VIEWS = [...SHOW_LISTS, "settings", "kinds"] as const;
const ONE = ["issue", "pull"] as const;
const CHOICES = `${VIEWS.join(", ")}, issue N or pull N`;

/** What to show, from the arguments after `show`; a UserInputError names what is wrong. */
export function parseView(args: readonly string[]): ShowWhat {
  const [what, number, extra] = args;
  // main.ts prefixes "infinity-backup show: ", so messages do not repeat the command.
  if (what === undefined) throw new UserInputError(`say what to show: ${CHOICES}`);
  if ((ONE as readonly string[]).includes(what)) {
    const noun = what === "pull" ? "a pull request" : "an issue";
    if (number === undefined)
      throw new UserInputError(`${what} needs ${noun} number, e.g. show --repo NAME ${what} 12`);
    if (!/^[1-9]\d{0,9}$/.test(number))
      throw new UserInputError(`"${number}" is not ${noun} number (a whole number from 1)`);
    if (extra !== undefined)
      throw new UserInputError(`unexpected argument "${extra}" after ${what} ${number}`);
    return { what: what as (typeof ONE)[number], number: Number(number) };
  }
  if (!(VIEWS as readonly string[]).includes(what))
    throw new UserInputError(`unknown "${what}"; show one of ${CHOICES}`);
  if (number !== undefined) throw new UserInputError(`unexpected argument "${number}" after ${what}`);
  return { what: what as (typeof VIEWS)[number] };
}

export async function showCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  if (options.repo.length !== 1) throw new UserInputError("show needs exactly one --repo NAME (or --org O)");
  if (options.snapshot && options.at) throw new UserInputError("give --snapshot or --at, not both");
  if (orgOfRepo(options.repo[0]!) !== undefined) return showOrgCommand(ctx);
  const view = parseView(options.args ?? []);
  const result = await showMetadata(
    app,
    { repo: options.repo[0]!, snapshotId: options.snapshot, at: options.at, view },
    { actor: ctx.actor },
  );
  if (options.json) ctx.print(JSON.stringify(result, null, 2));
  else {
    const body =
      result.what === "issue" || result.what === "pull" ? renderThread(result) : renderView(result);
    ctx.print(`${renderHeader(result)}\n\n${body}`);
  }
  return EXIT.ok;
}

const ORG_CHOICES = [...Object.keys(ORG_VIEWS), "kinds"];

/** `show --org O teams|members|rulesets|projects|items|settings|kinds`: the org's own snapshot. */
async function showOrgCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const [what, extra] = options.args ?? [];
  if (what === undefined || !ORG_CHOICES.includes(what))
    throw new UserInputError(`say what to show of the organization: ${ORG_CHOICES.join(", ")}`);
  if (extra !== undefined) throw new UserInputError(`unexpected argument "${extra}" after ${what}`);
  const result = await showOrg(
    app,
    { repo: options.repo[0]!, snapshotId: options.snapshot, at: options.at, what: what as OrgView },
    { actor: ctx.actor },
  );
  if (options.json) {
    ctx.print(JSON.stringify(result, null, 2));
    return EXIT.ok;
  }
  const lines = [`${result.repo} at snapshot ${result.snapshot.id} (taken ${result.snapshot.takenAt})`, ""];
  if (result.kinds) {
    for (const k of result.kinds)
      lines.push(`${k.kind.padEnd(20)} ${k.state.state}${k.items === undefined ? "" : ` (${k.items})`}`);
  } else if (result.state?.state !== "present") {
    const s = result.state!;
    lines.push(
      `${what}: ${s.state}${"reason" in s ? ` (${"status" in s && s.status ? `${s.status} ` : ""}${s.reason})` : ""}`,
    );
  } else {
    for (const item of result.items ?? []) lines.push(orgRow(what as OrgView, item));
    if (!result.items?.length) lines.push(`no ${what}`);
  }
  ctx.print(lines.join("\n"));
  return EXIT.ok;
}

/** One line of an org view: what a person scans for. */
function orgRow(what: OrgView, item: Record<string, unknown>): string {
  const list = (v: unknown) => (Array.isArray(v) ? v : []) as Record<string, unknown>[];
  switch (what) {
    case "teams":
      return `${String(item.slug)}  ${String(item.name)}  parent ${String(item.parent ?? "-")}  members ${list(
        item.members,
      )
        .map((m) => `${String(m.login)}${m.role === "maintainer" ? " (maintainer)" : ""}`)
        .join(", ")}  repositories ${list(item.repositories)
        .map((r) => `${String(r.full_name)} (${String(r.permission)})`)
        .join(", ")}`;
    case "members":
      return `${String(item.login)}  ${String(item.role)}`;
    case "rulesets":
      return `${String(item.id)}  ${String(item.name)}  ${String(item.target)}  ${String(item.enforcement)}  rules ${list(
        item.rules,
      )
        .map((r) => String(r.type))
        .join(", ")}`;
    case "projects":
      return `#${String(item.number)}  ${String(item.title)}${item.closed ? " (closed)" : ""}  fields ${list(
        item.fields,
      )
        .map((f) => String(f.name))
        .join(", ")}`;
    case "items": {
      const content = (item.content ?? {}) as Record<string, unknown>;
      return `project #${String(item.project_number)}  ${String(content.type)}  ${String(content.title)}  ${JSON.stringify(item.values)}`;
    }
    default:
      return JSON.stringify(item);
  }
}
