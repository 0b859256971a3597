// `infinity-backup keys`: the repository keys (which key wraps each, which were destroyed);
// `keys rotate` (rewrap under a new key file key), `keys rotate --repo NAME` (a new repository key,
// its data keys rewrapped), `keys export --repo NAME --snapshot ID` (a key record for decrypt.py).
import { UserInputError } from "../../core/errors.js";
import { exportKeyRecord } from "../../core/keys/key-record.js";
import { rewrapRepositoryKeys, rotateRepositoryKey } from "../../core/keys/rotate.js";
import type { KeyRecords } from "../../core/ports.js";
import { table } from "../format.js";
import { EXIT, type Context } from "../context.js";

export async function keysCommand(ctx: Context): Promise<number> {
  const { app, options } = ctx;
  const keyRecords = app.keyRecords;
  if (!keyRecords) throw new UserInputError("this data folder has no key records");
  const deps = { ...app, keyRecords };
  const [sub, ...rest] = options.args ?? [];
  if (rest.length) throw new UserInputError(`unexpected argument "${rest[0]}"`);
  if (sub === "export") {
    if (options.repo.length !== 1 || !options.snapshot)
      throw new UserInputError("keys export needs --repo NAME and --snapshot ID");
    ctx.print(JSON.stringify(await exportKeyRecord(deps, options.repo[0]!, options.snapshot), null, 2));
    return EXIT.ok;
  }
  if (sub === "rotate") {
    if (options.repo.length) {
      for (const repo of options.repo) {
        const r = await rotateRepositoryKey(deps, repo, { actor: ctx.actor });
        if (!options.json)
          ctx.print(
            `${repo}: new repository key ${r.to}; ${r.dataKeys} data key(s) rewrapped; ${r.from.join(", ")} dropped`,
          );
        else ctx.print(JSON.stringify(r));
      }
      return EXIT.ok;
    }
    const keyRef = await app.rotateKeyFile();
    await app.audit.record({
      action: "key.file-rotated",
      actor: ctx.actor,
      outcome: "success",
      details: { keyRef },
    });
    const r = await rewrapRepositoryKeys(deps, { actor: ctx.actor });
    if (options.json) ctx.print(JSON.stringify({ keyRef, ...r }, null, 2));
    else {
      ctx.print(
        `New key file key ${keyRef}; ${r.rewrapped} repository key(s) rewrapped from ${r.from.join(", ") || "-"}.`,
      );
      ctx.print(
        "Archives written before per-repository keys (format 1) still need the older keys: keep them in the key file.",
      );
    }
    return EXIT.ok;
  }
  if (sub !== undefined) throw new UserInputError(`keys: unknown subcommand "${sub}" (rotate, export)`);
  return listKeys(ctx, keyRecords);
}

async function listKeys(ctx: Context, records: KeyRecords): Promise<number> {
  const sets = (await records.keySets()).sort((a, b) => a.repo.localeCompare(b.repo));
  if (ctx.options.json) {
    ctx.print(
      JSON.stringify(
        sets.map(({ repo, keys, shredded }) => ({
          repo,
          keys: keys.map(({ wrapped: _w, ...k }) => k),
          shredded,
        })),
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  ctx.print(
    table(
      ["repository", "key", "wrapped by", "created"],
      sets.flatMap((s) =>
        s.shredded
          ? [[s.repo, "SHREDDED", `${s.shredded.by}: ${s.shredded.reason}`, s.shredded.at]]
          : s.keys.map((k) => [s.repo, k.id, k.keyRef, k.createdAt]),
      ),
    ),
  );
  return EXIT.ok;
}
