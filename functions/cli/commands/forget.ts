// `infinity-backup forget --repo NAME --reason TEXT`: crypto-shredding. The repository's keys are
// destroyed, so every archive of it is unreadable at once; the name must be typed back (or given
// with --confirm NAME where there is no terminal).
import { createInterface } from "node:readline/promises";
import { UserInputError } from "../../core/errors.js";
import { forgetRepository } from "../../core/keys/forget.js";
import { EXIT, type Context } from "../context.js";

export async function forgetCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  if (options.repo.length !== 1) throw new UserInputError("forget needs exactly one --repo NAME");
  const repo = options.repo[0]!;
  if (!options.reason?.trim())
    throw new UserInputError("forget needs --reason TEXT (kept in the audit trail)");
  if (!app.keyRecords) throw new UserInputError("this data folder has no key records to forget from");
  const confirm = options.confirm ?? (await typedBack(repo));
  const result = await forgetRepository(
    {
      index: app.index,
      audit: app.audit,
      clock: app.clock,
      keyRecords: app.keyRecords,
      ...(app.drills ? { drills: app.drills } : {}),
    },
    { repo, by: ctx.actor, reason: options.reason, confirm },
  );
  if (options.json) {
    ctx.print(JSON.stringify(result, null, 2));
    return EXIT.ok;
  }
  const s = result.shredding;
  ctx.print(
    result.already
      ? `${repo} was already forgotten at ${s.at} by ${s.by} (${s.reason}).`
      : `Forgot ${repo}: its ${s.keyIds.length} key(s) are destroyed; ${result.shredded} snapshot(s) can never be decrypted again.`,
  );
  if (result.legacy) {
    ctx.print(
      `${result.legacy} older snapshot(s) predate per-repository keys (format 1): the key file still opens ` +
        `them, so they are refused by this program but not erased until prune removes them.`,
    );
  }
  ctx.print(
    `The archives' bytes stay until prune removes them as retention and holds allow. ` +
      `Remove ${repo} from the backup sources: new backups of it are refused.`,
  );
  return EXIT.ok;
}

/** Asks for the repository name on the terminal; refuses to guess without one. */
async function typedBack(repo: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new UserInputError(`forget destroys ${repo}'s keys for good: confirm with --confirm ${repo}`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (
      await rl.question(
        `This destroys every key of ${repo}; no archive of it can be read again.\nType ${repo} to confirm: `,
      )
    ).trim();
  } finally {
    rl.close();
  }
}
