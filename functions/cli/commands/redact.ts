// `infinity-backup redact add --login L --reason TEXT`, `redact remove --login L`, `redact list`:
// the people whose data every read of metadata hides (show, restore).
import { UserInputError } from "../../core/errors.js";
import { addRedaction, removeRedaction } from "../../core/metadata/redaction-list.js";
import { table } from "../format.js";
import { EXIT, type Context } from "../context.js";

export async function redactCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const redactions = app.redactions;
  if (!redactions) throw new UserInputError("this data folder has no redaction list");
  const deps = { audit: app.audit, clock: app.clock, redactions };
  const [sub = "list", ...rest] = options.args ?? [];
  if (rest.length) throw new UserInputError(`unexpected argument "${rest[0]}"`);
  if (sub === "add") {
    if (!options.login) throw new UserInputError("redact add needs --login LOGIN");
    const entry = await addRedaction(deps, {
      login: options.login,
      reason: options.reason ?? "",
      by: ctx.actor,
    });
    ctx.print(
      options.json
        ? JSON.stringify(entry, null, 2)
        : `${entry.login} is redacted in every read of metadata (show, restore) from now on.`,
    );
    return EXIT.ok;
  }
  if (sub === "remove") {
    if (!options.login) throw new UserInputError("redact remove needs --login LOGIN");
    await removeRedaction(deps, { login: options.login, by: ctx.actor });
    if (!options.json) ctx.print(`${options.login} is no longer redacted.`);
    return EXIT.ok;
  }
  if (sub !== "list") throw new UserInputError(`redact: unknown subcommand "${sub}" (add, remove, list)`);
  const list = await redactions.redactions();
  if (options.json) ctx.print(JSON.stringify(list, null, 2));
  else if (!list.length) ctx.print("No one is on the redaction list.");
  else
    ctx.print(
      table(
        ["login", "reason", "by", "since"],
        list.map((r) => [r.login, r.reason, r.by, r.at]),
      ),
    );
  return EXIT.ok;
}
