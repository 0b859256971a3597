// `infinity-backup show`: what a snapshot holds of a repository's GitHub metadata (issues, pull
// requests, releases, labels, milestones, settings, each kind's state, or one issue or pull request
// with its conversation), read from the archive chain without restoring anything.
import { UserInputError } from "../../core/errors.js";
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
  const view = parseView(options.args ?? []);
  if (options.repo.length !== 1) throw new UserInputError("show needs exactly one --repo NAME");
  if (options.snapshot && options.at) throw new UserInputError("give --snapshot or --at, not both");
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
